// The watcher in Kubernetes mode: keeps the RESOURCES stream's subjects of one cluster equal to
// what the API server holds. One informer per kind (libs/kube/informer.ts: list + watch, resuming
// from resourceVersion, bookmarks, relist on 410, backoff), and a secret watcher whose Secrets and
// ConfigMaps are published only while a Gateway, ListenerSet, BackendTLSPolicy or Upstream refers to
// them (libs/kube/references.ts).
//
// Informer callbacks only mark a subject dirty; a drain then publishes what the informers' caches
// hold for it (an upsert, or a tombstone when the object is gone or no longer referenced),
// compared with the log's latest by content digest. Reading the cache rather than the event makes
// the outcome independent of event order and of relists. Nothing drains until every informer has
// listed once: then every subject the log holds is checked too, so a restart publishes only what
// changed while the watcher was away, including tombstones for objects deleted meanwhile.
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { RESOURCE_SCHEMA, ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { DirtyQueue } from '../../libs/kube/dirty-queue.ts';
import { startInformer, type Informer, type Obj } from '../../libs/kube/informer.ts';
import { SECRET_KINDS, WATCHED_KINDS, type KubeKind } from '../../libs/kube/kinds.ts';
import { REFERRING_KINDS, secretReferences } from '../../libs/kube/references.ts';
import { resourceDigest, resourceTombstone } from '../../libs/manifests/resources.ts';
import { publishIfChanged, readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface KubeWatcherOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  /** How long changes gather before a drain (bursts become one batch of publishes). */
  debounceMs?: number;
  /** How often kinds the cluster does not serve (CRDs not installed) are looked for again. */
  rediscoverMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  pageSize?: number;
}

export interface RunningKubeWatcher {
  /** Resolves once every informer has listed and the first drain is published. */
  synced: Promise<void>;
  /** Resolves once no drain is running or pending. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const ALL_KINDS = [...WATCHED_KINDS, ...SECRET_KINDS];
const isSecretKind = (kind: string) => SECRET_KINDS.some((k) => k.kind === kind);
const PUBLISH_CONCURRENCY = 64;

/**
 * The event of one object read from the API server. Left out of `object`: status (the reporter's
 * output; republishing on every status write would loop through the translator), managedFields
 * (bookkeeping) and metadata.resourceVersion (it changes with status), so the digest changes only
 * with what the translator reads. The envelope keeps the resourceVersion of that content.
 */
export function kubeResourceEvent(cluster: string, kind: KubeKind, o: Obj, emittedAt: string): DesiredEvent<ResourceEvent> {
  const { status: _status, ...rest } = o;
  const { managedFields: _mf, resourceVersion, ...metadata } = o.metadata ?? {};
  const object = { ...rest, metadata };
  const namespace = kind.namespaced ? metadata.namespace ?? '' : '';
  const ref = { cluster, kind: kind.kind, namespace, name: metadata.name as string };
  const subject = subjects.resource(ref);
  const event: ResourceEvent = {
    schema: RESOURCE_SCHEMA, ...ref, apiVersion: o.apiVersion as string, uid: metadata.uid ?? '',
    generation: Number.isInteger(metadata.generation) ? (metadata.generation as number) : 1, resourceVersion: resourceVersion ?? '',
    op: 'upsert', object, emittedAt, source: { type: 'kubernetes' },
  };
  return { subject, event, msgId: `${subject}@${resourceVersion}`, ...resourceDigest(event) };
}

/** The first version of `kind` the cluster serves, null when none is (CRD not installed); throws on other errors. */
async function servedVersion(custom: CustomObjectsApi, kind: KubeKind, kc: KubeConfig): Promise<string | null> {
  if (!kind.group) return kind.versions[0];
  for (const version of kind.versions) {
    try {
      const list = await custom.getAPIResources({ group: kind.group, version });
      if (list.resources.some((r) => r.name === kind.plural)) return version;
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }
  void kc;
  return null;
}

export async function startKubeWatcher(opts: KubeWatcherOptions): Promise<RunningKubeWatcher> {
  const { eventLog, cluster, kc, log } = opts;
  const state: Map<string, LogEntry<ResourceEvent>> = await readLogState<ResourceEvent>(eventLog, {
    stream: STREAMS.RESOURCES, filter: subjects.resourcesOfCluster(cluster), schema: ResourceEventSchema, logger: log, digest: resourceDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the resources the log holds');

  const informers = new Map<string, Informer>();
  /** Subject → what it names, published from the caches in batches (publishSubject below). */
  const queue = new DirtyQueue<{ kind: KubeKind; namespace: string; name: string }>({
    debounceMs: opts.debounceMs ?? 20, concurrency: PUBLISH_CONCURRENCY, retryMs: 1000, log,
    handle: (subject, ref) => publishSubject(subject, ref),
  });
  /** Per referring object ("<Kind>/<ns>/<name>"), the Secrets/ConfigMaps it names. */
  const refsBy = new Map<string, string[]>();
  const refCount = new Map<string, number>();
  let ready = false;
  let stopped = false;

  const markDirty = (kind: KubeKind, namespace: string, name: string) => {
    const ref = { kind, namespace: kind.namespaced ? namespace : '', name };
    queue.mark(subjects.resource({ cluster, kind: kind.kind, namespace: ref.namespace, name }), ref);
  };
  const markRef = (ref: string) => {
    const [k, namespace, name] = ref.split('/');
    markDirty(SECRET_KINDS.find((x) => x.kind === k)!, namespace, name);
  };
  /** Keeps the reference counts of Secrets/ConfigMaps in step with one referring object. */
  const updateRefs = (key: string, refs: string[]) => {
    const before = refsBy.get(key) ?? [];
    if (before.join('\n') === refs.join('\n')) return;
    for (const r of before) { refCount.set(r, (refCount.get(r) ?? 1) - 1); if (refCount.get(r)! <= 0) refCount.delete(r); }
    for (const r of refs) refCount.set(r, (refCount.get(r) ?? 0) + 1);
    if (refs.length) refsBy.set(key, refs); else refsBy.delete(key);
    for (const r of new Set([...before, ...refs])) markRef(r);
  };

  const want = (kind: KubeKind, namespace: string, name: string, emittedAt: string): DesiredEvent<ResourceEvent> | null => {
    const inf = informers.get(kind.kind);
    const o = inf?.get(namespace, name);
    if (!o) return null;
    if (isSecretKind(kind.kind) && !refCount.has(`${kind.kind}/${namespace}/${name}`)) return null;
    return kubeResourceEvent(cluster, kind, o, emittedAt);
  };

  /** Publishes one object (or its tombstone) as the caches have it now. */
  const publishSubject = async (subject: string, ref: { kind: KubeKind; namespace: string; name: string }) => {
    const emittedAt = new Date().toISOString();
    const desired = want(ref.kind, ref.namespace, ref.name, emittedAt);
    const have = state.get(subject);
    let event: DesiredEvent<ResourceEvent>;
    if (desired) event = desired;
    else if (have && !have.deleted) event = resourceTombstone(subject, have.event, emittedAt);
    else return;
    const r = await publishIfChanged(eventLog, ResourceEventSchema, state, event);
    if (!r.published) return;
    log.info({ kind: ref.kind.kind, namespace: ref.namespace, objectName: ref.name, op: event.event.op, seq: r.seq }, 'published resource');
  };

  const onChange = (kind: KubeKind) => (_op: 'upsert' | 'delete', o: Obj) => {
    const namespace = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    if (!name) return;
    markDirty(kind, namespace, name);
    if (REFERRING_KINDS.has(kind.kind)) {
      const present = informers.get(kind.kind)?.get(namespace, name);
      updateRefs(`${kind.kind}/${namespace}/${name}`, present ? secretReferences(kind.kind, present) : []);
    }
  };

  const custom = kc.makeApiClient(CustomObjectsApi);
  const missing = new Set<KubeKind>(ALL_KINDS);
  /** Starts an informer for every kind now served; resolves with the kinds still missing. */
  const discover = async (): Promise<void> => {
    for (const kind of [...missing]) {
      const version = await servedVersion(custom, kind, kc);
      missing.delete(kind);
      if (version === null) { log.info({ kind: kind.kind }, 'kind not served by the cluster; looking again later'); missing.add(kind); continue; }
      log.info({ kind: kind.kind, version }, 'watching');
      informers.set(kind.kind, startInformer({ kc, kind, version, log, onChange: onChange(kind), backoff: opts.backoff, pageSize: opts.pageSize }));
    }
  };
  // Discovery itself may fail while the API server is away: keep trying, with backoff.
  const unserved = new Set<string>();
  const synced = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await discover();
        break;
      } catch (err) {
        const delay = Math.min(30_000, 200 * 2 ** attempt);
        log.warn({ err: String((err as Error).message), retryInMs: delay }, 'discovery failed');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    for (const k of missing) unserved.add(k.kind);
    await Promise.all([...informers.values()].map((i) => i.synced));
    // Every subject the log holds for a kind of ours is checked against the caches: the ones gone
    // while the watcher was away (or of kinds no longer served) become tombstones.
    for (const [subject, have] of state) {
      const kind = ALL_KINDS.find((k) => k.kind === have.event.kind);
      if (kind && !have.deleted) queue.mark(subject, { kind, namespace: have.event.namespace, name: have.event.name });
    }
    ready = true;
    await queue.open();
    log.info({ kinds: [...informers.keys()], unserved: [...unserved] }, 'in step with the API server');
  })();
  const rediscover = setInterval(() => {
    if (!ready || missing.size === 0) return;
    void discover().catch((err) => log.warn({ err: String((err as Error).message) }, 'discovery failed'));
  }, opts.rediscoverMs ?? 60_000);
  rediscover.unref();

  return {
    synced,
    idle: () => queue.idle(),
    stop: async () => {
      stopped = true;
      clearInterval(rediscover);
      await Promise.all([...informers.values()].map((i) => i.stop()));
      await queue.stop();
    },
  };
}
