// The test API server, driven by the unmodified @kubernetes/client-node: if the client library
// works against it the way it works against kube-apiserver, the services' tests mean something.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, makeInformer, PatchStrategy, setHeaderOptions, Watch,
} from '@kubernetes/client-node';
import { TestApiServer } from './api-server.ts';

let api: TestApiServer;
let kc: KubeConfig;
before(async () => {
  api = new TestApiServer({ bookmarkIntervalMs: 100 });
  await api.start();
  kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
});
after(async () => { await api.stop(); });

const GROUP = 'gateway.networking.k8s.io';
const route = (name: string, namespace = 'default', host = 'a.example.com') => ({
  apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name, namespace },
  spec: { parentRefs: [{ name: 'gw' }], hostnames: [host] },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('discovery: KubernetesObjectApi finds core and Gateway API kinds and creates through them', async () => {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const created = await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  assert.equal(created.metadata?.name, 'team');
  const r = await objects.create(route('discovered', 'team') as never);
  assert.equal((r as any).metadata.generation, 1);
  assert.match((r as any).metadata.uid, /^[0-9a-f-]{36}$/);
  const list = await objects.list(`${GROUP}/v1beta1`, 'HTTPRoute', 'team');
  assert.deepEqual(list.items.map((i) => [i.apiVersion, i.metadata?.name]), [[`${GROUP}/v1beta1`, 'discovered']], 'served at every version');
  await assert.rejects(objects.create(route('x', 'nowhere') as never), (e: ApiException<string>) => e.code === 404);
});

test('create, conflict, generation: spec changes bump it, metadata and status do not', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const r = await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', body: { ...route('gen'), status: { parents: [] } } });
  assert.equal(r.status, undefined, 'status is dropped on create (status subresource)');
  await assert.rejects(custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', body: route('gen') }), (e: ApiException<string>) => e.code === 409);
  const labelled = await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen', body: { metadata: { labels: { a: 'b' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(labelled.metadata.generation, 1);
  const changed = await custom.replaceNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen', body: { ...labelled, spec: { hostnames: ['b.example.com'] } } });
  assert.equal(changed.metadata.generation, 2);
  await assert.rejects(custom.replaceNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen', body: labelled }),
    (e: ApiException<string>) => e.code === 409, 'a stale resourceVersion is a conflict');
});

test('status subresource: merge patch changes status only; a stale resourceVersion is 409; a no-op bumps nothing', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const have = await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen' });
  const patch = (body: object) => custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen', body },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const status = { parents: [{ parentRef: { name: 'gw' }, controllerName: 'x/y', conditions: [] }] };
  const out = await patch({ metadata: { resourceVersion: have.metadata.resourceVersion }, status, spec: { hostnames: ['ignored'] } });
  assert.deepEqual(out.status, status);
  assert.deepEqual(out.spec, have.spec, 'spec untouched through /status');
  assert.equal(out.metadata.generation, have.metadata.generation);
  await assert.rejects(patch({ metadata: { resourceVersion: have.metadata.resourceVersion }, status: {} }), (e: ApiException<string>) => e.code === 409);
  const again = await patch({ status });
  assert.equal(again.metadata.resourceVersion, out.metadata.resourceVersion, 'an unchanged status is no write');
  const spec = await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes', name: 'gen', body: { status: { parents: [] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.deepEqual(spec.status, status, 'the main resource cannot change status');
});

test('list: limit and continue pages are one consistent snapshot; an old token after compaction is 410', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (let i = 0; i < 5; i++) api.create(route(`page-${i}`));
  const first = await custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'httproutes', limit: 3 });
  assert.equal(first.items.length, 3);
  assert.ok(first.metadata.continue);
  api.create(route('page-after'));
  api.delete('HTTPRoute', 'default', 'page-4');
  const rest = await custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'httproutes', limit: 100, _continue: first.metadata.continue });
  assert.equal(rest.metadata.resourceVersion, first.metadata.resourceVersion);
  const names = [...first.items, ...rest.items].map((i: any) => i.metadata.name);
  assert.ok(names.includes('page-4') && !names.includes('page-after'), 'the list reflects the revision of its first page');
  api.compact();
  await assert.rejects(custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'httproutes', limit: 1, _continue: first.metadata.continue }),
    (e: ApiException<string>) => e.code === 410);
  const core = kc.makeApiClient(CoreV1Api);
  const nss = await core.listNamespace({ labelSelector: 'kubernetes.io/metadata.name!=x' });
  assert.ok(nss.items.some((n) => n.metadata?.name === 'default'));
});

test('watch: events resume after a resourceVersion, bookmarks arrive, an expired version is ERROR 410', async () => {
  const watch = new Watch(kc);
  const rv = api.resourceVersion;
  api.create(route('w1'));
  api.update('HTTPRoute', 'default', 'w1', (o) => { o.spec.hostnames = ['w.example.com']; });
  api.delete('HTTPRoute', 'default', 'w1');
  const seen: string[] = [];
  const req = await watch.watch(`/apis/${GROUP}/v1/namespaces/default/httproutes`, { resourceVersion: rv, allowWatchBookmarks: true },
    (type, obj) => seen.push(`${type}:${obj.metadata?.name ?? ''}`), () => undefined);
  await until('a bookmark', () => seen.includes('BOOKMARK:'));
  assert.deepEqual(seen.filter((s) => s !== 'BOOKMARK:'), ['ADDED:w1', 'MODIFIED:w1', 'DELETED:w1']);
  req.abort();
  api.compact();
  const errors: any[] = [];
  let done410 = false;
  await watch.watch(`/apis/${GROUP}/v1/httproutes`, { resourceVersion: rv }, (type, obj) => { if (type === 'ERROR') errors.push(obj); }, () => { done410 = true; });
  await until('the stream to end', () => done410);
  assert.equal(errors[0]?.code, 410);
  assert.equal(errors[0]?.reason, 'Expired');
});

test('makeInformer (client-node 1.4): a dropped watch is an error that stops it; started again it resumes from its resourceVersion; a 410 relists', async () => {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const path = `/apis/${GROUP}/v1/namespaces/default/httproutes`;
  const informer = makeInformer(kc, path, () => custom.listNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'httproutes' }));
  const names = () => new Set(informer.list('default').map((o: any) => o.metadata.name));
  const errors: unknown[] = [];
  let lists = 0;
  informer.on('connect', () => { lists++; });
  let restart = true;
  informer.on('error', (e) => { errors.push(e); if (restart) setTimeout(() => void informer.start(), 20); });
  await informer.start();
  assert.ok(names().has('page-0'));
  api.create(route('live'));
  await until('the live route', () => names().has('live'));
  api.dropWatches();
  api.create(route('after-drop'));
  await until('the route created while the watch was down', () => names().has('after-drop'));
  assert.equal(errors.length, 1, 'the library does not retry a broken watch by itself');
  // A gap the watch cannot cover: changes while it is cut off, then compaction past its revision.
  await until('the watch to be open again', () => api.openWatches('httproutes') > 0);
  restart = false;
  api.dropWatches();
  await until('the error', () => errors.length === 2);
  api.delete('HTTPRoute', 'default', 'live');
  api.create(route('after-compaction'));
  api.compact();
  const requestsBefore = api.requestLog.length;
  await informer.start();
  await until('a relist', () => names().has('after-compaction') && !names().has('live'));
  // Later requests (a bookmark-driven rewatch on a slow machine) may follow; the first three are the relist.
  assert.deepEqual(api.requestLog.slice(requestsBefore, requestsBefore + 3).map((r) => r.path), [path, path, path], 'a watch (ERROR 410), a list, a watch');
  assert.ok(lists >= 3);
  await informer.stop();
});
