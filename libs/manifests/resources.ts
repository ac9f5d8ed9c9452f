// From manifests to resource events (pure): which kinds the watcher owns, the identity and
// defaults of each object in file mode, and the plan of one pass (what the log should hold).
import { RESOURCE_SCHEMA, subjects, type ResourceEvent, type ResourceSource } from '../contracts/index.ts';
import type { KubeObject } from '../translator/api.ts';
import { GANTRY_GROUP } from '../translator/upstream-objects.ts';
import { canonicalJson, type ManifestOrigin, type ManifestProblem, type ManifestSet } from './index.ts';
import { sha256, stableUid, type DesiredEvent } from './sync.ts';

/** Gateway API kinds (standard and experimental channels) and the core kinds they refer to. */
export const WATCHED_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute', 'ReferenceGrant',
  'BackendTLSPolicy', 'ListenerSet', 'XListenerSet', 'Namespace', 'Secret', 'ConfigMap',
]);
export { GANTRY_GROUP };
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set(['GatewayClass', 'Namespace']);

export function isWatchedKind(kind: string, apiVersion: string | undefined): boolean {
  return WATCHED_KINDS.has(kind) || (apiVersion ?? '').split('/')[0] === GANTRY_GROUP;
}

export function namespaceOf(kind: string, namespace: string | undefined): string {
  return CLUSTER_SCOPED_KINDS.has(kind) ? '' : namespace || 'default';
}

/** What a resource event's content is, for comparing the log with the files (not `emittedAt`). */
export function resourceDigest(e: Pick<ResourceEvent, 'op' | 'object' | 'source' | 'apiVersion'>): { deleted: boolean; digest: string } {
  const deleted = e.op === 'delete';
  return { deleted, digest: deleted ? 'deleted' : sha256(canonicalJson({ apiVersion: e.apiVersion, object: e.object, source: e.source ?? null })) };
}

/**
 * The upsert event for one object read from a file (or derived, `source` saying from what). `raw`
 * objects (documents with a problem that still name kind and name) are sent as written, so the
 * translator reports them as a status.
 */
export function resourceUpsert(
  cluster: string, object: KubeObject | Record<string, unknown>, identity: { apiVersion?: string; kind: string; namespace?: string; name: string },
  source: ResourceSource, emittedAt: string,
): DesiredEvent<ResourceEvent> {
  const kind = identity.kind;
  const namespace = namespaceOf(kind, identity.namespace);
  const ref = { cluster, kind, namespace, name: identity.name };
  const meta = (typeof object.metadata === 'object' && object.metadata !== null ? object.metadata : {}) as KubeObject['metadata'];
  const resourceVersion = typeof meta.resourceVersion === 'string' && meta.resourceVersion ? meta.resourceVersion : sha256(canonicalJson(object));
  const generation = Number.isInteger(meta.generation) && (meta.generation as number) >= 0 ? (meta.generation as number) : 1;
  const subject = subjects.resource(ref);
  const event: ResourceEvent = {
    schema: RESOURCE_SCHEMA, ...ref,
    apiVersion: identity.apiVersion || 'unknown',
    uid: typeof meta.uid === 'string' && meta.uid ? meta.uid : stableUid(`${cluster}/${kind}/${namespace}/${identity.name}`),
    generation, resourceVersion, op: 'upsert', object: object as Record<string, unknown>, emittedAt,
    source,
  };
  return { subject, event, msgId: `${subject}@${resourceVersion}`, ...resourceDigest(event) };
}

/** The tombstone of an object the log holds and the files no longer have. */
export function resourceTombstone(subject: string, last: ResourceEvent, emittedAt: string): DesiredEvent<ResourceEvent> {
  const event: ResourceEvent = { ...last, schema: RESOURCE_SCHEMA, op: 'delete', object: null, emittedAt };
  return { subject, event, msgId: `${subject}@${last.resourceVersion}@delete`, deleted: true, digest: 'deleted' };
}

export interface ResourcePlan {
  /** Per subject, the event the log's latest should equal. */
  desired: Map<string, DesiredEvent<ResourceEvent>>;
  /** Files with a document that could not be read or identified: their earlier objects are kept. */
  heldFiles: Set<string>;
  /** Objects of kinds that are not the watcher's (Service, EndpointSlice, Deployment…). */
  skipped: Array<{ kind: string; name: string; origin: ManifestOrigin }>;
  /** Problems that cannot become a status (no kind or name): log lines. */
  unidentified: ManifestProblem[];
  /** Problems sent anyway as objects as written, so that the translator reports them. */
  reported: ManifestProblem[];
  /** A second object with the same identity: the first (by path, then document) wins. */
  duplicates: Array<{ subject: string; origin: ManifestOrigin; kept: ManifestOrigin }>;
}

export function planResources(cluster: string, set: ManifestSet, emittedAt: string): ResourcePlan {
  const plan: ResourcePlan = { desired: new Map(), heldFiles: new Set(), skipped: [], unidentified: [], reported: [], duplicates: [] };
  const add = (want: DesiredEvent<ResourceEvent>, origin: ManifestOrigin) => {
    const first = plan.desired.get(want.subject);
    if (first) {
      const kept = first.event.source as ManifestOrigin;
      plan.duplicates.push({ subject: want.subject, origin, kept: { path: kept.path, document: kept.document } });
      return;
    }
    plan.desired.set(want.subject, want);
  };
  // Objects and identifiable problem documents in file order, so "first wins" means first in the files.
  type Item = { origin: ManifestOrigin; run(): void };
  const items: Item[] = [];
  for (const o of set.objects) {
    items.push({
      origin: o.origin,
      run: () => {
        const { kind, apiVersion, metadata } = o.object;
        if (!isWatchedKind(kind, apiVersion)) { plan.skipped.push({ kind, name: metadata.name, origin: o.origin }); return; }
        add(resourceUpsert(cluster, o.object, { apiVersion, kind, namespace: metadata.namespace, name: metadata.name }, { type: 'file', ...o.origin }, emittedAt), o.origin);
      },
    });
  }
  for (const p of set.problems) {
    const origin = { path: p.path, document: p.document };
    items.push({
      origin,
      run: () => {
        if (p.identity && p.raw) {
          if (!isWatchedKind(p.identity.kind, p.identity.apiVersion)) { plan.skipped.push({ kind: p.identity.kind, name: p.identity.name, origin }); return; }
          plan.reported.push(p);
          add(resourceUpsert(cluster, p.raw, p.identity, { type: 'file', ...origin }, emittedAt), origin);
          return;
        }
        plan.unidentified.push(p);
        plan.heldFiles.add(p.path);
      },
    });
  }
  items.sort((a, b) => (a.origin.path < b.origin.path ? -1 : a.origin.path > b.origin.path ? 1 : a.origin.document - b.origin.document));
  for (const item of items) item.run();
  return plan;
}

/**
 * The events that make the log equal to `plan`: upserts for new or changed objects, tombstones for
 * objects of the watcher's kinds that the files no longer have, except those from held files and
 * the Upstreams endpoint-discovery publishes (source `discovered`) on the subjects it shares with
 * the watcher: those are its own to withdraw. A hand-written object of the same name is an upsert
 * over it, so the file wins.
 */
export function diffResources(
  plan: ResourcePlan, log: Map<string, { deleted: boolean; digest: string; event: ResourceEvent }>, emittedAt: string,
): { publish: DesiredEvent<ResourceEvent>[]; kept: Array<{ subject: string; path: string }> } {
  const publish: DesiredEvent<ResourceEvent>[] = [];
  const kept: Array<{ subject: string; path: string }> = [];
  for (const want of plan.desired.values()) {
    const have = log.get(want.subject);
    if (!have || have.deleted || have.digest !== want.digest) publish.push(want);
  }
  for (const [subject, have] of log) {
    if (have.deleted || plan.desired.has(subject) || have.event.source?.type === 'discovered') continue;
    if (!isWatchedKind(have.event.kind, have.event.apiVersion)) continue;
    const source = have.event.source;
    if (source?.type === 'file' && plan.heldFiles.has(source.path)) { kept.push({ subject, path: source.path }); continue; }
    publish.push(resourceTombstone(subject, have.event, emittedAt));
  }
  return { publish, kept };
}
