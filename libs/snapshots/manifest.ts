// A snapshot is one Gateway's complete xDS configuration at one version: content-addressed
// resources (by sha256 of their encoding) listed in a manifest. The version is derived from the
// content, so the same state always yields the same version, whichever translator computed it.
import { z } from 'zod';
import { sha256 } from '../xds/encode.ts';

/** typeUrl → resource name → sha256 of the encoded resource. */
export const ResourceIndex = z.record(z.string(), z.record(z.string(), z.string()));
export type ResourceIndex = z.infer<typeof ResourceIndex>;

/**
 * How a proxyless gRPC client's named LDS request (`host` or `host:port`) is answered: the
 * Gateway's HTTP listener on that port (or, without a port, the first whose hostnames accept the
 * host) gives an API listener built from `template` (a Listener whose name is set per request).
 */
export const ApiListenerEntry = z.object({
  port: z.number().int(),
  /** Gateway listener hostnames; `*` when the listener has none. Wildcards like `*.example.com`. */
  hostnames: z.array(z.string()),
  template: z.string(),
});
export type ApiListenerEntry = z.infer<typeof ApiListenerEntry>;

export const SnapshotManifest = z.object({
  gateway: z.string(),
  version: z.string(),
  /** What Envoy gets: socket listeners, full route configurations, clusters, endpoints, secrets. */
  resources: ResourceIndex,
  /** What proxyless gRPC clients get in addition: route configuration variants (RDS) by name. */
  grpcRoutes: z.record(z.string(), z.string()),
  apiListeners: z.array(ApiListenerEntry),
  streams: z.record(z.string(), z.number()).default({}),
  createdAt: z.string(),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

/** Every blob hash a manifest refers to (resources, gRPC route variants, API listener templates). */
export function referencedHashes(manifest: SnapshotManifest): Set<string> {
  const out = new Set<string>();
  for (const byName of Object.values(manifest.resources)) for (const h of Object.values(byName)) out.add(h);
  for (const h of Object.values(manifest.grpcRoutes)) out.add(h);
  for (const a of manifest.apiListeners) out.add(a.template);
  return out;
}

export interface EncodedResource {
  typeUrl: string;
  name: string;
  bytes: Buffer;
}

export interface EncodedSnapshot {
  gateway: string;
  resources: EncodedResource[];
  grpcRoutes: EncodedResource[];
  apiListeners: Array<{ port: number; hostnames: string[]; template: EncodedResource }>;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Builds the manifest and the blob table (hash → bytes) of a snapshot. */
export function buildManifest(
  snap: EncodedSnapshot,
  streams: Record<string, number>,
  now: Date = new Date(),
): { manifest: SnapshotManifest; blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  const put = (r: EncodedResource) => {
    const hash = sha256(r.bytes);
    blobs.set(hash, r.bytes);
    return hash;
  };
  const resources: ResourceIndex = {};
  for (const r of snap.resources) (resources[r.typeUrl] ??= {})[r.name] = put(r);
  for (const key of Object.keys(resources)) resources[key] = sortKeys(resources[key]);
  const grpcRoutes = sortKeys(Object.fromEntries(snap.grpcRoutes.map((r) => [r.name, put(r)])));
  const apiListeners = snap.apiListeners.map((a) => ({ port: a.port, hostnames: a.hostnames, template: put(a.template) }));
  const content = { gateway: snap.gateway, resources: sortKeys(resources), grpcRoutes, apiListeners };
  const version = sha256(JSON.stringify(content)).slice(0, 16);
  return { manifest: { ...content, version, streams, createdAt: now.toISOString() }, blobs };
}
