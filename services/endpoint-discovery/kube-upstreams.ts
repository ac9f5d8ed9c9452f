// endpoint-discovery in Kubernetes mode, its Upstreams: keeps one discovered Upstream per TCP port of
// every discovered Service in the API server (libs/endpoints/upstreams.ts says which and what), so
// users see them with kubectl; the watcher publishes them from there like any Upstream. Informer
// callbacks mark a Service dirty (its own change, a change of its Namespace's switch, or of an
// Upstream it owns or whose name it wants); a debounced drain compares what it wants with the
// informer caches and writes only the differences: create, replace (a PUT carrying the cached
// resourceVersion, so a concurrent change is a 409) or delete (with uid and resourceVersion
// preconditions). Any failure (409, the API server away) marks the Service again, retried with
// backoff from the caches as they are by then, so nothing is lost. Only Upstreams labelled as
// discovered for that Service are ever written: a hand-written one keeps its name.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { DISCOVERY_ANNOTATION, discoveredFor, discoveredUpstreams, planUpstreamWrites, type UpstreamWrite } from '../../libs/endpoints/upstreams.ts';
import { DirtyQueue } from '../../libs/kube/dirty-queue.ts';
import type { Obj } from '../../libs/kube/informer.ts';
import { UPSTREAM_KIND } from '../../libs/kube/kinds.ts';
import { OwnerIndex } from '../../libs/kube/owner-index.ts';
import type { KubeObject } from '../../libs/translator/api.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface UpstreamSyncOptions {
  kc: KubeConfig;
  log: Logger;
  /** Whether a Service neither it nor its Namespace annotates is discovered. */
  defaultOn: boolean;
  debounceMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** The informer caches. */
  service(namespace: string, name: string): Obj | undefined;
  namespace(name: string): Obj | undefined;
  upstream(namespace: string, name: string): Obj | undefined;
  /** Every Service key ("<ns>/<name>"), in one namespace when given. */
  services(namespace?: string): string[];
}

export interface UpstreamSync {
  onService(o: Obj): void;
  onNamespace(op: 'upsert' | 'delete', o: Obj): void;
  onUpstream(op: 'upsert' | 'delete', o: Obj): void;
  /** Starts writing (the caches have listed): every Service is checked, and every one an Upstream names. */
  open(): Promise<void>;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const WRITE_CONCURRENCY = 16;
const keyOf = (o: Obj) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

export function startUpstreamSync(opts: UpstreamSyncOptions): UpstreamSync {
  const { log } = opts;
  const api = opts.kc.makeApiClient(CustomObjectsApi);
  const at = (namespace: string) => ({ group: UPSTREAM_KIND.group, version: UPSTREAM_KIND.versions[0], plural: UPSTREAM_KIND.plural, namespace });
  /** Discovered Upstreams ("<ns>/<name>") by the Service their label names ("<ns>/<service>"). */
  const owned = new OwnerIndex();
  /** The Upstream names each Service wants, by the Service: a change of an Upstream there concerns it. */
  const claims = new OwnerIndex();
  /** Per Namespace, its switch annotation as last seen. */
  const switches = new Map<string, string | undefined>();
  /** Per Upstream key, the resourceVersion of the hand-written holder last warned about. */
  const warned = new Map<string, string>();
  const queue = new DirtyQueue<null>({
    debounceMs: opts.debounceMs, concurrency: WRITE_CONCURRENCY, retryMs: opts.backoff.initialMs, retryMaxMs: opts.backoff.maxMs, log,
    handle: (key) => reconcile(key),
  });
  const mark = (serviceKey: string) => queue.mark(serviceKey, null);

  const write = async (namespace: string, service: string, w: UpstreamWrite) => {
    const name = w.object.metadata.name as string;
    try {
      if (w.op === 'create') await api.createNamespacedCustomObject({ ...at(namespace), body: w.object });
      else if (w.op === 'replace') await api.replaceNamespacedCustomObject({ ...at(namespace), name, body: w.object });
      else {
        const { uid, resourceVersion } = w.object.metadata;
        await api.deleteNamespacedCustomObject({ ...at(namespace), name, body: { preconditions: { uid, resourceVersion } } });
      }
    } catch (err) {
      if (w.op === 'delete' && (err as { code?: number }).code === 404) return; // gone already
      throw err;
    }
    log.info({ upstream: `${namespace}/${name}`, service, op: w.op }, 'wrote discovered Upstream');
  };

  /** Makes the API server hold what one Service wants, as the caches have it now. */
  const reconcile = async (key: string) => {
    const namespace = key.slice(0, key.indexOf('/'));
    const name = key.slice(namespace.length + 1);
    const svc = opts.service(namespace, name);
    const plan = svc ? discoveredUpstreams(opts.defaultOn, svc as unknown as KubeObject, opts.namespace(namespace) as unknown as KubeObject | undefined) : { upstreams: [], problems: [] };
    for (const problem of plan.problems) log.warn({ service: key, problem }, 'discovery switch not understood');
    const wanted = new Set(plan.upstreams.map((u) => `${namespace}/${u.metadata.name}`));
    for (const k of claims.of(key)) if (!wanted.has(k)) claims.set(k, undefined);
    for (const k of wanted) claims.set(k, key);
    const mine = owned.of(key).map((k) => opts.upstream(namespace, k.slice(namespace.length + 1))).filter((o): o is Obj => !!o);
    const { writes, taken } = planUpstreamWrites(name, plan.upstreams, (n) => opts.upstream(namespace, n), mine);
    for (const holder of taken) {
      const k = keyOf(holder);
      if (warned.get(k) === holder.metadata.resourceVersion) continue;
      warned.set(k, holder.metadata.resourceVersion);
      log.warn({ upstream: k, service: key, heldFor: discoveredFor(holder) ?? null }, 'an Upstream not written by discovery for this Service has the name: it is left as it is');
    }
    const results = await Promise.allSettled(writes.map((w) => write(namespace, key, w)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  return {
    onService: (o) => mark(keyOf(o)),
    onNamespace: (op, o) => {
      const name = o.metadata?.name as string;
      if (op === 'delete') { switches.delete(name); return; }
      const value = o.metadata?.annotations?.[DISCOVERY_ANNOTATION] as string | undefined;
      if (switches.has(name) && switches.get(name) === value) return;
      switches.set(name, value);
      for (const s of opts.services(name)) mark(s);
    },
    onUpstream: (op, o) => {
      const key = keyOf(o);
      const service = op === 'delete' ? undefined : discoveredFor(o);
      for (const s of owned.set(key, service ? `${o.metadata?.namespace ?? ''}/${service}` : undefined)) mark(s);
      const claimer = claims.owner(key);
      if (claimer) mark(claimer);
    },
    open: async () => {
      for (const s of opts.services()) mark(s);
      // Services gone while we were away still own Upstreams (the garbage collector may not have run).
      for (const s of owned.owners()) mark(s);
      await queue.open();
    },
    idle: () => queue.idle(),
    stop: () => queue.stop(),
  };
}
