// endpoint-discovery in Kubernetes mode: keeps the ENDPOINTS stream's subjects of one cluster equal
// to the endpoints the API server's Services and EndpointSlices give. An informer over each
// (libs/kube/informer.ts: list + watch, resume, bookmarks, relist on 410, backoff); a change of a
// Service, or of a slice labelled with its name (kubernetes.io/service-name), marks that Service
// dirty; a debounced drain computes its endpoints from the caches (libs/endpoints) and publishes
// them when their digest differs from the log's latest, or a tombstone when the Service is gone.
// Nothing drains until both have listed; then every Service the log holds is checked
// too, so a restart publishes only what changed while the service was away. The discovered
// Upstreams are written to the API server (kube-upstreams.ts), from two more informers (Namespaces
// for the switch, Upstreams), in their own queue: an API server refusing writes does not hold up
// endpoints, and the watcher publishes those Upstreams from the API server like any other.
import type { KubeConfig } from '@kubernetes/client-node';
import { EndpointsEventSchema, STREAMS, subjects, type EndpointsEvent } from '../../libs/contracts/index.ts';
import { endpointsDigest, endpointsTombstone, SERVICE_NAME_LABEL, serviceEndpointsEvent } from '../../libs/endpoints/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { startInformer, type InformerOptions, type Obj } from '../../libs/kube/informer.ts';
import { DirtyQueue } from '../../libs/kube/dirty-queue.ts';
import { ENDPOINT_KINDS, type KubeKind } from '../../libs/kube/kinds.ts';
import { OwnerIndex } from '../../libs/kube/owner-index.ts';
import { publishIfChanged, readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import type { KubeObject } from '../../libs/translator/api.ts';
import type { Logger } from '../../libs/service/index.ts';
import { startUpstreamSync } from './kube-upstreams.ts';

export interface KubeDiscoveryOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  debounceMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  pageSize?: number;
  /** Whether Services without a discovery annotation (theirs or their Namespace's) get Upstreams; default true. */
  upstreamDiscovery?: boolean;
}

export interface RunningKubeDiscovery {
  /** Resolves once both informers have listed and the first drain is published. */
  synced: Promise<void>;
  /** Resolves once the Upstream and Namespace informers have listed too and the first Upstream writes are done. */
  upstreamsSynced: Promise<void>;
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

  /** Slices ("<ns>/<slice>") by the Service ("<ns>/<service>") their label names. */
  const slicesBy = new OwnerIndex();
  /** Dirty Services ("<ns>/<name>"), published from the caches (see publishService below). */
  const queue = new DirtyQueue<null>({
    debounceMs: opts.debounceMs ?? 20, concurrency: PUBLISH_CONCURRENCY, retryMs: 1000, log,
    handle: (key) => publishService(key),
  });
  const markService = (key: string) => queue.mark(key, null);

  const backoff = opts.backoff ?? { initialMs: 200, maxMs: 30_000 };
  const upstreamSync = startUpstreamSync({
    kc, log, defaultOn: opts.upstreamDiscovery ?? true, debounceMs: opts.debounceMs ?? 20, backoff,
    service: (ns, name) => services.get(ns, name),
    namespace: (name) => namespaces.get('', name),
    upstream: (ns, name) => upstreams.get(ns, name),
    services: (ns) => services.list().filter((o) => ns === undefined || o.metadata?.namespace === ns).map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`),
  });

  const onService = (_op: 'upsert' | 'delete', o: Obj) => {
    if (!o.metadata?.name) return;
    markService(`${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    upstreamSync.onService(o);
  };
  const onSlice = (op: 'upsert' | 'delete', o: Obj) => {
    if (!o.metadata?.name) return;
    const ns = o.metadata.namespace ?? '';
    const label = op === 'delete' ? undefined : o.metadata.labels?.[SERVICE_NAME_LABEL];
    for (const service of slicesBy.set(`${ns}/${o.metadata.name}`, label ? `${ns}/${label}` : undefined)) markService(service);
  };

  const inform = (kind: KubeKind, onChange: InformerOptions['onChange']) =>
    startInformer({ kc, log, backoff, pageSize: opts.pageSize, kind, version: kind.versions[0]!, onChange });
  const services = inform(ENDPOINT_KINDS.service, onService);
  const slices = inform(ENDPOINT_KINDS.endpointSlice, onSlice);
  const namespaces = inform(ENDPOINT_KINDS.namespace, upstreamSync.onNamespace);
  const upstreams = inform(ENDPOINT_KINDS.upstream, upstreamSync.onUpstream);

  const want = (key: string, emittedAt: string): DesiredEvent<EndpointsEvent> | null => {
    const [ns, name] = key.split('/');
    const svc = services.get(ns, name);
    if (!svc) return null;
    const own = slicesBy.of(key).map((k) => slices.get(ns, k.slice(ns.length + 1))).filter((s): s is Obj => !!s);
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
  // The Upstream informer waits for the CRD if it is not installed; endpoints do not wait for it.
  const upstreamsSynced = (async () => {
    await Promise.all([services.synced, namespaces.synced, upstreams.synced]);
    await upstreamSync.open();
    log.info({ upstreams: upstreams.list().length }, 'Upstreams in step with the API server');
  })();

  return {
    synced,
    upstreamsSynced,
    idle: async () => { await queue.idle(); await upstreamSync.idle(); },
    stop: async () => {
      await Promise.all([services.stop(), slices.stop(), namespaces.stop(), upstreams.stop()]);
      await Promise.all([queue.stop(), upstreamSync.stop()]);
    },
  };
}
