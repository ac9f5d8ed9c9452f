// Schemas of the parts of HTTPRoute and GRPCRoute rules beyond matches and backends: filters,
// timeouts, retries, rule names. Shapes only: enumerations the Gateway API may extend later (filter
// types, redirect schemes and codes, path modifier types) are read as plain values here and judged
// by filters.ts, so that an unknown value invalidates one rule (Accepted=False or PartiallyInvalid,
// reason UnsupportedValue) instead of making the whole object unreadable.
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

// GEP-2257 durations: 1 to 4 "<number><unit>" groups, unit h, m, s or ms.
export const GATEWAY_DURATION_RE = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
export const GatewayDuration = z.string().regex(GATEWAY_DURATION_RE, 'must be a Gateway API duration such as "10s", "1m30s" or "500ms"');

const HttpHeader = z.object({ name: z.string().min(1).max(256), value: z.string().max(4096) });
export type HttpHeader = z.infer<typeof HttpHeader>;

export const HeaderModifier = z.object({
  set: z.array(HttpHeader).max(16).default([]),
  add: z.array(HttpHeader).max(16).default([]),
  remove: z.array(z.string().min(1)).max(16).default([]),
});
export type HeaderModifier = z.infer<typeof HeaderModifier>;

export const PathModifier = z.object({
  type: z.string().min(1),
  replaceFullPath: z.string().max(1024).optional(),
  replacePrefixMatch: z.string().max(1024).optional(),
});
export type PathModifier = z.infer<typeof PathModifier>;

export const RequestRedirect = z.object({
  scheme: z.string().optional(),
  hostname: z.string().min(1).max(253).optional(),
  path: PathModifier.optional(),
  port: port.optional(),
  statusCode: z.number().int().default(302),
});
export type RequestRedirect = z.infer<typeof RequestRedirect>;

export const UrlRewrite = z.object({
  hostname: z.string().min(1).max(253).optional(),
  path: PathModifier.optional(),
});
export type UrlRewrite = z.infer<typeof UrlRewrite>;

/** A backendRef without weight or filters (the mirror's destination). */
export const MirrorBackendRef = z.object({
  group: z.string().default(''),
  kind: z.string().default('Service'),
  name: z.string().min(1).max(253),
  namespace: z.string().min(1).optional(),
  port: port.optional(),
});

export const RequestMirror = z.object({
  backendRef: MirrorBackendRef,
  percent: z.number().int().min(0).max(100).optional(),
  fraction: z
    .object({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).default(100) })
    .refine((f) => f.numerator <= f.denominator, { message: 'numerator must be less than or equal to denominator' })
    .optional(),
});
export type RequestMirror = z.infer<typeof RequestMirror>;

export const Cors = z.object({
  allowOrigins: z.array(z.string().min(1)).max(64).default([]),
  allowMethods: z.array(z.string().min(1)).max(9).default([]),
  allowHeaders: z.array(z.string().min(1)).max(64).default([]),
  exposeHeaders: z.array(z.string().min(1)).max(64).default([]),
  allowCredentials: z.boolean().optional(),
  maxAge: z.number().int().min(1).default(5),
});
export type Cors = z.infer<typeof Cors>;

export const ExtensionRef = z.object({ group: z.string().default(''), kind: z.string().min(1), name: z.string().min(1) });

export const RouteFilter = z.object({
  type: z.string().min(1),
  requestHeaderModifier: HeaderModifier.optional(),
  responseHeaderModifier: HeaderModifier.optional(),
  requestRedirect: RequestRedirect.optional(),
  urlRewrite: UrlRewrite.optional(),
  requestMirror: RequestMirror.optional(),
  cors: Cors.optional(),
  extensionRef: ExtensionRef.optional(),
  externalAuth: z.unknown().optional(),
});
export type RouteFilter = z.infer<typeof RouteFilter>;

export const RouteFilters = z.array(RouteFilter).max(16).default([]);

export const RouteTimeouts = z.object({ request: GatewayDuration.optional(), backendRequest: GatewayDuration.optional() });
export type RouteTimeouts = z.infer<typeof RouteTimeouts>;

export const RouteRetry = z.object({
  codes: z.array(z.number().int().min(400).max(599)).default([]),
  attempts: z.number().int().min(1).optional(),
  backoff: GatewayDuration.optional(),
});
export type RouteRetry = z.infer<typeof RouteRetry>;

/** A rule's name (a SectionName): lowercase RFC 1123 label. */
export const RuleName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');

/** Milliseconds of a GEP-2257 duration (already checked against GATEWAY_DURATION_RE). */
export function durationMs(value: string): number {
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, n, u] of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(n) * unit[u];
  return total;
}
