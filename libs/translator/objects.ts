// Schemas of the Kubernetes kinds the translator reads. Objects arrive unchecked (a YAML file or the
// API server), so each is parsed once here and the rest of the translator works on typed values. A
// failed parse is a value, not an exception: its message names the offending field so that it can be
// put verbatim into the object's status.
import { z } from 'zod';
import type { KubeObject } from './api.ts';
import { RouteFilters, RouteRetry, RouteTimeouts, RuleName } from './filter-objects.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

// RFC 1123 subdomain, optionally with a single leading "*." label (Gateway API's Hostname type).
export const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const hostname = z.string().max(253).regex(HOSTNAME_RE, 'must be a lowercase RFC 1123 hostname, optionally prefixed by "*."');
const objectName = z.string().min(1).max(253);
const port = z.number().int().min(1).max(65535);

// The API server hands creationTimestamp over as a Date (client-node), YAML files as a string.
const timestamp = z.union([z.string(), z.date().transform((d) => d.toISOString())]);

export const namespacedMetadata = z.object({
  name: objectName,
  namespace: z.string().min(1).default('default'),
  generation: z.number().int().nonnegative().default(1),
  creationTimestamp: timestamp.optional(),
  labels: z.record(z.string(), z.string()).default({}),
});

const clusterMetadata = namespacedMetadata.extend({ namespace: z.string().default('') });

export const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).default({}),
  matchExpressions: z
    .array(
      z.object({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});
export type LabelSelector = z.infer<typeof LabelSelector>;

// --- GatewayClass ------------------------------------------------------------------------------
export const GatewayClass = z.object({
  metadata: clusterMetadata,
  spec: z.object({
    controllerName: z.string().min(1),
    parametersRef: z.object({ group: z.string(), kind: z.string().min(1), name: objectName, namespace: z.string().min(1).optional() }).optional(),
  }),
});
export type GatewayClass = z.infer<typeof GatewayClass>;

// --- Gateway -----------------------------------------------------------------------------------
export const RouteGroupKind = z.object({ group: z.string().default(GATEWAY_GROUP), kind: z.string().min(1) });
export type RouteGroupKind = z.infer<typeof RouteGroupKind>;

// TLS of a listener and of a Gateway (spec.tls); resolved against Secrets/ConfigMaps in listener-tls.ts.
export const ObjectRef = z.object({
  group: z.string().default(''),
  kind: z.string().min(1).default('Secret'),
  name: objectName,
  namespace: z.string().min(1).optional(),
});
export type ObjectRef = z.infer<typeof ObjectRef>;

export const ListenerTls = z.object({
  mode: z.string().default('Terminate'),
  certificateRefs: z.array(ObjectRef).max(64).default([]),
  options: z.record(z.string(), z.string()).default({}),
});
export type ListenerTls = z.infer<typeof ListenerTls>;

export const FrontendValidation = z.object({
  caCertificateRefs: z.array(ObjectRef.extend({ kind: z.string().min(1) })).max(16).default([]),
  mode: z.string().default('AllowValidOnly'),
});
export type FrontendValidation = z.infer<typeof FrontendValidation>;

export const GatewayTls = z.object({
  backend: z.object({ clientCertificateRef: ObjectRef.optional() }).optional(),
  frontend: z
    .object({
      default: z.object({ validation: FrontendValidation.optional() }).default({}),
      perPort: z.array(z.object({ port, tls: z.object({ validation: FrontendValidation.optional() }).default({}) })).max(64).default([]),
    })
    .optional(),
});
export type GatewayTls = z.infer<typeof GatewayTls>;

export const GatewayListener = z.object({
  name: z.string().min(1).max(253),
  tls: ListenerTls.optional(),
  hostname: hostname.optional(),
  port,
  protocol: z.string().min(1),
  allowedRoutes: z
    .object({
      namespaces: z
        .object({ from: z.enum(['All', 'Same', 'Selector']).default('Same'), selector: LabelSelector.optional() })
        .default({ from: 'Same' }),
      kinds: z.array(RouteGroupKind).optional(),
    })
    .default({ namespaces: { from: 'Same' } }),
});
export type GatewayListener = z.infer<typeof GatewayListener>;

export const Gateway = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    gatewayClassName: objectName,
    listeners: z.array(GatewayListener).min(1).max(64),
    addresses: z.array(z.object({ type: z.string().default('IPAddress'), value: z.string().min(1).optional() })).default([]),
    tls: GatewayTls.optional(),
    // Which ListenerSets may attach (none by default) and infrastructure parameters (listener-sets.ts, gateway.ts).
    allowedListeners: z
      .object({ namespaces: z.object({ from: z.enum(['All', 'Same', 'Selector', 'None']).default('None'), selector: LabelSelector.optional() }).default({ from: 'None' }) })
      .default({ namespaces: { from: 'None' } }),
    infrastructure: z
      .object({ parametersRef: z.object({ group: z.string(), kind: z.string().min(1), name: objectName }).optional() })
      .optional(),
  }),
});
export type Gateway = z.infer<typeof Gateway>;

// --- Routes (shared parts) ---------------------------------------------------------------------
export const ParentRef = z.object({
  group: z.string().default(GATEWAY_GROUP),
  kind: z.string().default('Gateway'),
  namespace: z.string().min(1).optional(),
  name: objectName,
  sectionName: z.string().min(1).optional(),
  port: port.optional(),
});
export type ParentRef = z.infer<typeof ParentRef>;

export const BackendRef = z.object({
  group: z.string().default(''),
  kind: z.string().default('Service'),
  name: objectName,
  namespace: z.string().min(1).optional(),
  port: port.optional(),
  weight: z.number().int().min(0).max(1_000_000).default(1),
});
export type BackendRef = z.infer<typeof BackendRef>;

/** A route rule's backendRef, with the filters applied to the traffic it receives (filters.ts). */
export const RouteBackendRef = BackendRef.extend({ filters: RouteFilters });
export type RouteBackendRef = z.infer<typeof RouteBackendRef>;

const StringMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256),
  value: z.string().max(4096),
});
export type StringMatch = z.infer<typeof StringMatch>;

const routeSpecCommon = {
  parentRefs: z.array(ParentRef).max(32).default([]),
  hostnames: z.array(hostname).max(16).default([]),
};

// --- HTTPRoute ---------------------------------------------------------------------------------
export const HttpPathMatch = z
  .object({ type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'), value: z.string().max(1024).default('/') })
  .refine((p) => p.type === 'RegularExpression' || p.value.startsWith('/'), { message: 'must be an absolute path (start with "/")', path: ['value'] });
export type HttpPathMatch = z.infer<typeof HttpPathMatch>;

export const HttpRouteMatch = z.object({
  path: HttpPathMatch.default({ type: 'PathPrefix', value: '/' }),
  headers: z.array(StringMatch).max(16).default([]),
  queryParams: z.array(StringMatch).max(16).default([]),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']).optional(),
});
export type HttpRouteMatch = z.infer<typeof HttpRouteMatch>;

/** An xRoute's `spec.rules`: named rules of matches, filters and backendRefs (plus kind-specific fields). */
function routeRules<M extends z.ZodType, E extends z.ZodRawShape>(match: M, extra: E) {
  return z
    .array(z.object({
      name: RuleName.optional(),
      matches: z.array(match).max(64).default([]),
      filters: RouteFilters,
      backendRefs: z.array(RouteBackendRef).max(16).default([]),
      ...extra,
    }))
    .max(16)
    // A route without rules has one rule that matches everything and has no backends.
    .default([{ matches: [], filters: [], backendRefs: [] } as never]);
}

export const HTTPRoute = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    ...routeSpecCommon,
    rules: routeRules(HttpRouteMatch, { timeouts: RouteTimeouts.optional(), retry: RouteRetry.optional() }),
  }),
});
export type HTTPRoute = z.infer<typeof HTTPRoute>;

// --- GRPCRoute ---------------------------------------------------------------------------------
export const GrpcMethodMatch = z
  .object({
    type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
    service: z.string().min(1).max(1024).optional(),
    method: z.string().min(1).max(1024).optional(),
  })
  .refine((m) => m.service !== undefined || m.method !== undefined, { message: 'one of service or method must be set' });
export type GrpcMethodMatch = z.infer<typeof GrpcMethodMatch>;

export const GrpcRouteMatch = z.object({
  method: GrpcMethodMatch.optional(),
  headers: z.array(StringMatch).max(16).default([]),
});
export type GrpcRouteMatch = z.infer<typeof GrpcRouteMatch>;

export const GRPCRoute = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    ...routeSpecCommon,
    rules: routeRules(GrpcRouteMatch, {}),
  }),
});
export type GRPCRoute = z.infer<typeof GRPCRoute>;

// --- ReferenceGrant, Namespace -----------------------------------------------------------------
export const ReferenceGrant = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    from: z.array(z.object({ group: z.string(), kind: z.string().min(1), namespace: z.string().min(1) })).min(1),
    to: z.array(z.object({ group: z.string(), kind: z.string().min(1), name: z.string().min(1).optional() })).min(1),
  }),
});
export type ReferenceGrant = z.infer<typeof ReferenceGrant>;

export const Namespace = z.object({ metadata: clusterMetadata });
export type Namespace = z.infer<typeof Namespace>;

// --- parsing -----------------------------------------------------------------------------------
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** Parses `value` with `schema`; on failure, one message naming every offending field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, at = ''): Parsed<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues
    .map((issue) => `${fieldPath([...(at ? [at] : []), ...issue.path]) || '(object)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, message };
}

export function parseObject<T>(schema: z.ZodType<T>, object: KubeObject): Parsed<T> {
  return parseWith(schema, object);
}

/**
 * The parentRefs of a route that failed to parse, when they alone are readable: they say whether
 * the route is ours and where its "UnsupportedValue" status goes.
 */
export function salvageParentRefs(object: KubeObject): ParentRef[] {
  const spec = object.spec as { parentRefs?: unknown } | undefined;
  const parsed = parseWith(z.array(ParentRef), spec?.parentRefs ?? []);
  return parsed.ok ? parsed.value : [];
}

/** The class of a Gateway that failed to parse, when readable: it says whether the Gateway is ours. */
export function salvageGatewayClassName(object: KubeObject): string | undefined {
  const spec = object.spec as { gatewayClassName?: unknown } | undefined;
  return typeof spec?.gatewayClassName === 'string' ? spec.gatewayClassName : undefined;
}
