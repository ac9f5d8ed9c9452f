// Schemas of Gantry's option kinds (gateway.gantry.dev/v1alpha1), after Gloo Gateway's: RouteOption
// (HTTPRoute/GRPCRoute rules), VirtualHostOption (the virtual hosts of a Gateway or one listener) and
// ListenerOption (the Envoy listeners and connection managers of a Gateway or one listener's port).
// deploy/crds/gantry/ holds the same shapes as CRDs. The `options` objects are strict: in file mode
// nothing prunes unknown fields as the API server does, and a misspelt option must be an error in
// the object's status rather than silently do nothing.
import { z } from 'zod';
import { Cors, GatewayDuration, HeaderModifier, RuleName } from './filter-objects.ts';
import { GATEWAY_GROUP, namespacedMetadata } from './objects.ts';
import { GANTRY_GROUP } from './upstream-objects.ts';

export const OPTION_API_VERSION = `${GANTRY_GROUP}/v1alpha1`;
export const OPTION_KINDS = ['RouteOption', 'VirtualHostOption', 'ListenerOption'] as const;
export type OptionKind = (typeof OPTION_KINDS)[number];

/** A target of the option's own namespace; `namespace` is read only to say that another one is not allowed. */
function targetRef<K extends [string, ...string[]]>(kinds: K, sectionName: z.ZodType<string>) {
  return z.object({
    group: z.literal(GATEWAY_GROUP),
    kind: z.enum(kinds),
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63).optional(),
    sectionName: sectionName.optional(),
  });
}

const percentage = z.number().min(0).max(100);

const HeaderManipulation = z.strictObject({ request: HeaderModifier.optional(), response: HeaderModifier.optional() });

/** Envoy's retry_on conditions: HTTP ones, and the gRPC status ones proxyless clients also honour. */
const RETRY_ON = [
  '5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
] as const;

export const Retries = z.strictObject({
  retryOn: z.array(z.enum(RETRY_ON)).min(1).max(RETRY_ON.length),
  numRetries: z.number().int().min(1).max(10).default(1),
  retriableStatusCodes: z.array(z.number().int().min(400).max(599)).max(16).default([]),
  perTryTimeout: GatewayDuration.optional(),
  /** Base of Envoy's exponential backoff (Envoy's default 25ms when unset). */
  backoffBaseInterval: GatewayDuration.optional(),
});
export type Retries = z.infer<typeof Retries>;

export const LocalRateLimit = z.strictObject({
  maxTokens: z.number().int().min(1).max(1_000_000),
  /** Tokens added every fillInterval; maxTokens when unset. */
  tokensPerFill: z.number().int().min(1).max(1_000_000).optional(),
  fillInterval: GatewayDuration,
});
export type LocalRateLimit = z.infer<typeof LocalRateLimit>;

export const Faults = z.strictObject({
  abort: z.strictObject({ percentage, httpStatus: z.number().int().min(200).max(599) }).optional(),
  delay: z.strictObject({ percentage, fixedDelay: GatewayDuration }).optional(),
});
export type Faults = z.infer<typeof Faults>;

export const RouteOptions = z.strictObject({
  timeouts: z.strictObject({ request: GatewayDuration.optional(), idle: GatewayDuration.optional() }).optional(),
  retries: Retries.optional(),
  headerManipulation: HeaderManipulation.optional(),
  cors: Cors.optional(),
  faults: Faults.optional(),
  localRateLimit: LocalRateLimit.optional(),
});
export type RouteOptions = z.infer<typeof RouteOptions>;

export const VirtualHostOptions = z.strictObject({
  headerManipulation: HeaderManipulation.optional(),
  cors: Cors.optional(),
  retries: Retries.optional(),
  localRateLimit: LocalRateLimit.optional(),
  includeRequestAttemptCount: z.boolean().optional(),
  includeAttemptCountInResponse: z.boolean().optional(),
});
export type VirtualHostOptions = z.infer<typeof VirtualHostOptions>;

const HttpConnectionManagerOptions = z.strictObject({
  idleTimeout: GatewayDuration.optional(),
  streamIdleTimeout: GatewayDuration.optional(),
  requestTimeout: GatewayDuration.optional(),
  useRemoteAddress: z.boolean().optional(),
  xffNumTrustedHops: z.number().int().min(0).max(16).optional(),
  serverName: z.string().min(1).max(256).regex(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII').optional(),
  serverHeaderTransformation: z.enum(['Overwrite', 'AppendIfAbsent', 'PassThrough']).optional(),
  maxRequestHeadersKb: z.number().int().min(1).max(8192).optional(),
});

export const ListenerOptions = z.strictObject({
  perConnectionBufferLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
  httpConnectionManager: HttpConnectionManagerOptions.optional(),
  accessLog: z.strictObject({ stdout: z.boolean() }).optional(),
});
export type ListenerOptions = z.infer<typeof ListenerOptions>;

const listenerName = z.string().min(1).max(253);

export const RouteOption = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    // None: the option applies only where an HTTPRoute/GRPCRoute rule's ExtensionRef filter names it.
    targetRefs: z.array(targetRef(['HTTPRoute', 'GRPCRoute'], RuleName)).max(16).default([]),
    options: RouteOptions,
  }),
});
export type RouteOption = z.infer<typeof RouteOption>;

export const VirtualHostOption = z.object({
  metadata: namespacedMetadata,
  spec: z.object({ targetRefs: z.array(targetRef(['Gateway'], listenerName)).min(1).max(16), options: VirtualHostOptions }),
});
export type VirtualHostOption = z.infer<typeof VirtualHostOption>;

export const ListenerOption = z.object({
  metadata: namespacedMetadata,
  spec: z.object({ targetRefs: z.array(targetRef(['Gateway'], listenerName)).min(1).max(16), options: ListenerOptions }),
});
export type ListenerOption = z.infer<typeof ListenerOption>;

export type AnyOption = RouteOption | VirtualHostOption | ListenerOption;
