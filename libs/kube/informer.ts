// An informer over one kind, built on client-node 1.4's ListWatch, with what that version leaves
// out (checked in node_modules/@kubernetes/client-node/dist/cache.js and watch.js):
// - ListWatch stops for good on any error other than 410 (a dropped connection, a 5xx, a refused
//   connect): it is restarted here with jittered exponential backoff, resuming from the
//   resourceVersion it holds, so a lost API server costs no relist and loses nothing;
// - it never asks for bookmarks: the watch here adds `allowWatchBookmarks=true`, so a quiet kind's
//   resourceVersion keeps up and a reconnect does not fall behind compaction;
// - its watch has no timeout (the 30 s AbortSignal it builds is overwritten): `timeoutSeconds` makes
//   the server end each watch after a few minutes, so a silently dead connection is replaced;
// - its list is one request: the list here pages with `limit`/`continue` (starting over when a
//   continue token expires), so a large kind is not one huge response;
// - `stop()` reports the aborted request as an error: ignored here.
// ListWatch already relists on 410 (an ERROR event, or an HTTP 410) and reports objects gone in
// the relist as deletes.
import { KubernetesObjectApi, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersionOf, collectionPath, type KubeKind } from './kinds.ts';

export type Obj = KubernetesObject & Record<string, any>;

export interface InformerOptions {
  kc: KubeConfig;
  kind: KubeKind;
  version: string;
  log: Logger;
  /** Called for every add, update and delete (including those a relist finds), with the object. */
  onChange(op: 'upsert' | 'delete', object: Obj): void;
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Upper bound of a watch's life; each gets a random value in [half, whole]. */
  watchTimeoutSeconds?: number;
  /** Only objects with these labels (a Kubernetes label selector), in lists and watches alike. */
  labelSelector?: string;
}

export interface Informer {
  readonly kind: KubeKind;
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  get(namespace: string, name: string): Obj | undefined;
  list(): readonly Obj[];
  stop(): Promise<void>;
}

/** kube JSON timestamps are RFC 3339 in whole seconds; client-node's typed core models hold Dates. */
export function toWire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, function (this: any, key) {
    const raw = this[key];
    return raw instanceof Date ? raw.toISOString().replace(/\.\d{3}Z$/, 'Z') : raw;
  }));
}

export function startInformer(opts: InformerOptions): Informer {
  const { kc, kind, version, log } = opts;
  const pageSize = opts.pageSize ?? 500;
  const backoff = opts.backoff ?? { initialMs: 200, maxMs: 30_000 };
  const apiVersion = apiVersionOf(kind, version);
  // The generic client lists any kind, built-in or custom, across all namespaces (it finds the
  // plural through discovery once, then caches it).
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const typed = (o: any): Obj => ({ ...toWire(o), apiVersion, kind: kind.kind });

  const listPage = (cont: string | undefined): Promise<any> =>
    objects.list(apiVersion, kind.kind, undefined, undefined, undefined, undefined, undefined, opts.labelSelector, pageSize, cont);
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => (resolveSynced = r));
  const listAll = async () => {
    for (let attempt = 0; ; attempt++) {
      const items: Obj[] = [];
      let cont: string | undefined;
      let resourceVersion = '';
      try {
        do {
          const page = await listPage(cont);
          items.push(...(page.items ?? []).map(typed));
          resourceVersion ||= page.metadata?.resourceVersion ?? '';
          cont = page.metadata?._continue ?? page.metadata?.['continue'] ?? undefined;
        } while (cont);
      } catch (err) {
        // An expired continue token: the consistent snapshot is gone, start the list over.
        if ((err as { code?: number }).code === 410 && attempt < 3) continue;
        throw err;
      }
      log.debug({ kind: kind.kind, objects: items.length, resourceVersion }, 'listed');
      return { metadata: { resourceVersion }, items };
    }
  };

  const watch = new Watch(kc);
  const timeout = opts.watchTimeoutSeconds ?? 600;
  const watcher = {
    watch: (path: string, params: Record<string, unknown>, cb: any, done: any) => watch.watch(path, {
      ...params, allowWatchBookmarks: true, timeoutSeconds: Math.ceil(timeout / 2 + Math.random() * timeout / 2),
    }, (type: string, obj: any, raw: any) => cb(type, type === 'ERROR' || type === 'BOOKMARK' ? obj : typed(obj), raw), done),
  } as unknown as Watch;

  const lw = new ListWatch<Obj>(collectionPath(kind, version), watcher, listAll as never, false, opts.labelSelector);
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const ok = () => { failures = 0; };
  lw.on('add', (o) => { ok(); opts.onChange('upsert', o); });
  lw.on('update', (o) => { ok(); opts.onChange('upsert', o); });
  lw.on('delete', (o) => { ok(); opts.onChange('delete', o); });
  lw.on('error', (err) => {
    if (stopped) return;
    failures++;
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 16)) * (0.5 + Math.random() / 2);
    log.warn({ kind: kind.kind, err: String((err as Error)?.message ?? err), retryInMs: Math.round(delay), resourceVersion: lw.latestResourceVersion() }, 'watch failed; resuming');
    timer = setTimeout(() => void run(), delay);
  });
  const run = async () => {
    if (stopped) return;
    const hadList = lw.latestResourceVersion() !== '';
    await lw.start();
    // start() resolves after the list (when one was needed) and the watch request: a list that
    // failed left the resourceVersion empty and went to the error handler.
    if (!hadList && lw.latestResourceVersion() !== '') { ok(); resolveSynced(); }
  };
  void run();

  return {
    kind, synced,
    get: (namespace, name) => lw.get(name, kind.namespaced ? namespace : undefined),
    list: () => lw.list(),
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await lw.stop();
    },
  };
}
