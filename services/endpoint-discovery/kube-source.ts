// endpoint-discovery in Kubernetes mode: keeps the ENDPOINTS stream's subjects of one cluster equal
// to the endpoints the API server's Services and EndpointSlices give. Two informers
// (libs/kube/informer.ts: list + watch, resume, bookmarks, relist on 410, backoff); a change of a
// Service, or of a slice labelled with its name (kubernetes.io/service-name), marks that Service
// dirty; a debounced drain computes its endpoints from the caches (libs/endpoints) and publishes
// them when their digest differs from the log's latest, or a tombstone when the Service is gone.
// Nothing drains until both informers have listed; then every Service the log holds is checked
// too, so a restart publishes only what changed while the service was away.
import type { KubeConfig } from '@kubernetes/client-node';
import { EndpointsEventSchema, STREAMS, subjects, type EndpointsEvent } from '../../libs/contracts/index.ts';
import { endpointsDigest, endpointsTombstone, SERVICE_NAME_LABEL, serviceEndpointsEvent } from '../../libs/endpoints/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { startInformer, type Obj } from '../../libs/kube/informer.ts';
import { DirtyQueue } from '../../libs/kube/dirty-queue.ts';
import { ENDPOINT_KINDS } from '../../libs/kube/kinds.ts';
import { publishIfChanged, readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import type { KubeObject } from '../../libs/translator/api.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface KubeDiscoveryOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  debounceMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  pageSize?: number;
}

export interface RunningKubeDiscovery {
  /** Resolves once both informers have listed and the first drain is published. */
  synced: Promise<void>;
  /** Resolves once no drain is running or pending. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const PUBLISH_CONCURRENCY = 64;

export async function startKubeEndpointDiscovery(opts: KubeDiscoveryOptions): Promise<RunningKubeDiscovery> {
  const { eventLog, cluster, kc, log } = opts;
  const state: Map<string, LogEntry<EndpointsEvent>> = await readLogState<EndpointsEvent>(eventLog, {
    stream: STREAMS.ENDPOINTS, filter: subjects.endpointsOfCluster(cluster), schema: EndpointsEventSchema, logger: log, digest: endpointsDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the endpoints the log holds');

  /** "<ns>/<service>" → the keys ("<ns>/<slice>") of the slices labelled with it. */
  const slicesBy = new Map<string, Set<string>>();
  /** "<ns>/<slice>" → the Service key it was last indexed under. */
  const ownerOf = new Map<string, string>();
  /** Dirty Services ("<ns>/<name>"), published from the caches (see publishService below). */
  const queue = new DirtyQueue<null>({
    debounceMs: opts.debounceMs ?? 20, concurrency: PUBLISH_CONCURRENCY, retryMs: 1000, log,
    handle: (key) => publishService(key),
  });
  const markService = (key: string) => queue.mark(key, null);

  const onService = (_op: 'upsert' | 'delete', o: Obj) => {
    if (!o.metadata?.name) return;
    markService(`${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  };
  const onSlice = (op: 'upsert' | 'delete', o: Obj) => {
    if (!o.metadata?.name) return;
    const ns = o.metadata.namespace ?? '';
    const key = `${ns}/${o.metadata.name}`;
    const label = op === 'delete' ? undefined : o.metadata.labels?.[SERVICE_NAME_LABEL];
    const owner = label ? `${ns}/${label}` : undefined;
    const before = ownerOf.get(key);
    if (before && before !== owner) {
      slicesBy.get(before)?.delete(key);
      if (slicesBy.get(before)?.size === 0) slicesBy.delete(before);
      markService(before);
    }
    if (owner) {
      ownerOf.set(key, owner);
      if (!slicesBy.has(owner)) slicesBy.set(owner, new Set());
      slicesBy.get(owner)!.add(key);
      markService(owner);
    } else ownerOf.delete(key);
  };

  const common = { kc, log, backoff: opts.backoff, pageSize: opts.pageSize };
  const services = startInformer({ ...common, kind: ENDPOINT_KINDS.service, version: 'v1', onChange: onService });
  const slices = startInformer({ ...common, kind: ENDPOINT_KINDS.endpointSlice, version: 'v1', onChange: onSlice });

  const want = (key: string, emittedAt: string): DesiredEvent<EndpointsEvent> | null => {
    const [ns, name] = key.split('/');
    const svc = services.get(ns, name);
    if (!svc) return null;
    const own = [...slicesBy.get(key) ?? []].map((k) => slices.get(ns, k.slice(ns.length + 1))).filter((s): s is Obj => !!s);
    return serviceEndpointsEvent(cluster, svc as unknown as KubeObject, own as unknown as KubeObject[], emittedAt);
  };

  /** Publishes one Service's endpoints (or its tombstone) as the caches have them now. */
  const publishService = async (key: string) => {
    const emittedAt = new Date().toISOString();
    const [ns, name] = key.split('/');
    const subject = subjects.endpoints(cluster, ns, name);
    let event = want(key, emittedAt);
    const have = state.get(subject);
    if (!event) {
      if (!have || have.deleted) return;
      event = endpointsTombstone(subject, have.event, emittedAt);
    }
    const r = await publishIfChanged(eventLog, EndpointsEventSchema, state, event);
    if (!r.published) return;
    log.info({
      namespace: ns, serviceName: name, op: event.event.op, seq: r.seq,
      ports: event.event.ports.length, endpoints: event.event.ports.reduce((n, p) => n + p.endpoints.length, 0),
    }, 'published endpoints');
  };

  const synced = (async () => {
    await Promise.all([services.synced, slices.synced]);
    // Services the log holds that are gone now (deleted while we were away) become tombstones.
    for (const have of state.values()) if (!have.deleted) markService(`${have.event.namespace}/${have.event.name}`);
    await queue.open();
    log.info({ services: services.list().length, slices: slices.list().length }, 'in step with the API server');
  })();

  return {
    synced,
    idle: () => queue.idle(),
    stop: async () => {
      await Promise.all([services.stop(), slices.stop()]);
      await queue.stop();
    },
  };
}
