// The versioned messages that cross process boundaries. Each family has a current schema version;
// decoders accept the current and the previous one (upgrading the previous), and ignore unknown
// fields, so services can be rolled out one at a time.
import { z } from 'zod';

const iso = z.string().min(1);
const op = z.enum(['upsert', 'delete']);
const kubeObject = z.record(z.string(), z.unknown());

const objectIdentity = {
  cluster: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string(),
  name: z.string().min(1),
};

// --- resources -------------------------------------------------------------------------------
const fileSource = z.object({ type: z.literal('file'), path: z.string(), document: z.number().int().nonnegative() });
const kubernetesSource = z.object({ type: z.literal('kubernetes') });
/** Not read but derived: an Upstream endpoint-discovery writes for a port of this Service (file mode). */
const discoveredSource = z.object({ type: z.literal('discovered'), service: z.object({ namespace: z.string(), name: z.string().min(1) }) });

/** Where an object comes from: a manifest file (with the document's index), a Kubernetes API, or discovery. */
export const ResourceSource = z.discriminatedUnion('type', [fileSource, kubernetesSource, discoveredSource]);
export type ResourceSource = z.infer<typeof ResourceSource>;

const resourceV1 = z.object({
  schema: z.literal('gantry.resource/v1'),
  ...objectIdentity,
  apiVersion: z.string().min(1),
  uid: z.string().default(''),
  generation: z.number().int().nonnegative().default(1),
  resourceVersion: z.string().default(''),
  op,
  object: kubeObject.nullable(),
  emittedAt: iso,
});

/** v2 adds `source`, so a status or log line can name the file and document an object came from. */
const resourceV2 = resourceV1.extend({
  schema: z.literal('gantry.resource/v2'),
  source: z.discriminatedUnion('type', [fileSource, kubernetesSource]).optional(),
});

/**
 * v3 adds the `discovered` source: a v2 decoder would reject it, hence the new version. v1 is still
 * accepted besides v2: the log is compacted, so an object unchanged since a v1 producer is still v1.
 */
const resourceV3 = resourceV1.extend({
  schema: z.literal('gantry.resource/v3'),
  source: ResourceSource.optional(),
});

export const RESOURCE_SCHEMA = 'gantry.resource/v3' as const;
export type ResourceEvent = z.infer<typeof resourceV3>;
export const ResourceEventSchema = z
  .discriminatedUnion('schema', [resourceV3, resourceV2, resourceV1])
  .transform((e): ResourceEvent => (e.schema === RESOURCE_SCHEMA ? e : { ...e, schema: RESOURCE_SCHEMA }));

// --- endpoints -------------------------------------------------------------------------------
export const Endpoint = z.object({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  ready: z.boolean(),
  serving: z.boolean().default(true),
  terminating: z.boolean().default(false),
  zone: z.string().optional(),
  node: z.string().optional(),
  hostname: z.string().optional(),
});
export type Endpoint = z.infer<typeof Endpoint>;

/** One Service port with the endpoints its EndpointSlices give for it (target ports resolved). */
export const ServicePortEndpoints = z.object({
  name: z.string().default(''),
  port: z.number().int().min(1).max(65535),
  protocol: z.string().default('TCP'),
  appProtocol: z.string().optional(),
  endpoints: z.array(Endpoint),
});
export type ServicePortEndpoints = z.infer<typeof ServicePortEndpoints>;

const endpointsV1 = z.object({
  schema: z.literal('gantry.endpoints/v1'),
  cluster: z.string().min(1),
  namespace: z.string().min(1),
  name: z.string().min(1),
  op,
  serviceType: z.string().default('ClusterIP'),
  ports: z.array(ServicePortEndpoints),
  resourceVersion: z.string().default(''),
  emittedAt: iso,
});
export const ENDPOINTS_SCHEMA = 'gantry.endpoints/v1' as const;
export type EndpointsEvent = z.infer<typeof endpointsV1>;
export const EndpointsEventSchema = endpointsV1;

// --- reports ---------------------------------------------------------------------------------
const reportV1 = z.object({
  schema: z.literal('gantry.report/v1'),
  ...objectIdentity,
  apiVersion: z.string().min(1),
  generation: z.number().int().nonnegative(),
  op,
  /** The object's whole computed `status`; null with op=delete. */
  status: kubeObject.nullable(),
  /** The snapshot of the Gateway(s) this status was computed with, when there is one. */
  snapshots: z.record(z.string(), z.string()).default({}),
  emittedAt: iso,
});
export const REPORT_SCHEMA = 'gantry.report/v1' as const;
export type ReportEvent = z.infer<typeof reportV1>;
export const ReportEventSchema = reportV1;

// --- snapshots -------------------------------------------------------------------------------
const snapshotV1 = z.object({
  schema: z.literal('gantry.snapshot/v1'),
  gateway: z.string().min(1),
  op,
  version: z.string(),
  manifestKey: z.string(),
  /** Per stream, the highest sequence the snapshot reflects. */
  streams: z.record(z.string(), z.number().int().nonnegative()).default({}),
  emittedAt: iso,
});
export const SNAPSHOT_SCHEMA = 'gantry.snapshot/v1' as const;
export type SnapshotEvent = z.infer<typeof snapshotV1>;
export const SnapshotEventSchema = snapshotV1;

// --- proxies ---------------------------------------------------------------------------------
const proxyV1 = z.object({
  schema: z.literal('gantry.proxy/v1'),
  gateway: z.string().min(1),
  node: z.string(),
  event: z.enum(['connected', 'ack', 'nack', 'disconnected']),
  typeUrl: z.string().optional(),
  /** The per-type version the proxy acknowledged or rejected. */
  version: z.string().optional(),
  /** The snapshot the rejected or accepted response came from. */
  snapshot: z.string().optional(),
  resourceNames: z.array(z.string()).optional(),
  errorDetail: z.object({ code: z.number().int(), message: z.string() }).optional(),
  /**
   * NACKs of route configurations: the Gateway API objects ("<Kind>/<namespace>/<name>") whose rules
   * the rejected configurations hold. Optional (added within v1; older consumers ignore it).
   */
  objects: z.array(z.string()).optional(),
  /** The replica's stream the event comes from, so a late `disconnected` of an older stream is told apart. */
  stream: z.string().optional(),
  replica: z.string(),
  emittedAt: iso,
});
export const PROXY_SCHEMA = 'gantry.proxy/v1' as const;
export type ProxyEvent = z.infer<typeof proxyV1>;
export const ProxyEventSchema = proxyV1;

// --- lease terms -----------------------------------------------------------------------------
/**
 * Orders the terms of leader leases (libs/lease): the lease bucket's creation time (ms), then the KV
 * revision that won the term. Revisions only grow within a bucket; a recreated bucket restarts
 * them, and its later creation time still puts its terms after the old bucket's.
 */
export const FencingToken = z.object({ epoch: z.number().int().nonnegative(), revision: z.number().int().positive() });
export type FencingToken = z.infer<typeof FencingToken>;

/**
 * Published when a lease term starts, on a stream the lease holder alone writes (REPORTS: the
 * translator), before anything else of the term: it moves the stream's last sequence past what a
 * deposed holder may still have in flight, which JetStream then refuses (its every publish expects
 * the last sequence its writer knew). Its subject (`subjects.term`) is outside every object's.
 */
const termV1 = z.object({
  schema: z.literal('gantry.term/v1'),
  /** The lease key, `<service>.<cluster>`. */
  lease: z.string().min(1),
  holder: z.string().min(1),
  fence: FencingToken,
  emittedAt: iso,
});
export const TERM_SCHEMA = 'gantry.term/v1' as const;
export type TermEvent = z.infer<typeof termV1>;
export const TermEventSchema = termV1;
