// The watcher in Kubernetes mode against the test API server and a real nats-server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { startKubeWatcher, type RunningKubeWatcher } from '../../services/watcher/kube-source.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from '../edge/edge-support.ts';
import type { TestApiServer } from './api-server.ts';
import { startTestCluster } from './cluster.ts';

let env: EdgeEnv;
let api: TestApiServer;
let kc: KubeConfig;
before(async () => {
  env = await startEdgeEnv();
  ({ api, kc } = await startTestCluster({ bookmarkIntervalMs: 200 }));
});
after(async () => { await api.stop(); await env.close(); });

const GW = 'gateway.networking.k8s.io/v1';
const ROUTE = 'gantry.res.local.HTTPRoute.default.r1';
const route = (name: string, host: string) => ({
  apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: [host] },
});
const gateway = (certs: string[]) => ({
  apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' },
  spec: { gatewayClassName: 'gantry', listeners: [{ name: 'https', protocol: 'HTTPS', port: 443, tls: { certificateRefs: certs.map((name) => ({ name })) } }] },
});
const secret = (name: string, v = 'a') => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(v).toString('base64'), 'tls.key': 'eA==' } });
const start = () => startKubeWatcher({ eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, debounceMs: 10, backoff: { initialMs: 20, maxMs: 200 } });
const hostOf = async (subject: string) => (await latest(env.eventLog, 'RESOURCES', subject))?.data?.object?.spec?.hostnames?.[0];

let w: RunningKubeWatcher;
test('an HTTPRoute created, changed and deleted reaches RESOURCES; a status write publishes nothing', async () => {
  w = await start();
  await w.synced;
  const ns = (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Namespace._.default'))!.data;
  assert.deepEqual([ns.op, ns.source], ['upsert', { type: 'kubernetes' }]);
  api.create(route('r1', 'a.example.com'));
  const added = await eventually('the route', () => latest(env.eventLog, 'RESOURCES', ROUTE));
  assert.deepEqual([added.data.kind, added.data.generation, added.data.apiVersion, added.data.object.spec.hostnames], ['HTTPRoute', 1, GW, ['a.example.com']]);
  assert.equal(added.data.uid, api.get('HTTPRoute', 'default', 'r1')!.metadata.uid);
  api.update('HTTPRoute', 'default', 'r1', (o) => { o.spec.hostnames = ['b.example.com']; });
  await eventually('the change', async () => (await hostOf(ROUTE)) === 'b.example.com');
  assert.equal((await latest(env.eventLog, 'RESOURCES', ROUTE))!.data.generation, 2);
  const seq = await lastSeq(env.eventLog, 'RESOURCES');
  api.updateStatus('HTTPRoute', 'default', 'r1', (o) => { o.status = { parents: [{ parentRef: { name: 'gw' }, controllerName: 'x/y', conditions: [] }] }; });
  await new Promise((r) => setTimeout(r, 100));
  await w.idle();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), seq, 'status is the reporter\'s output, not an input');
  api.delete('HTTPRoute', 'default', 'r1');
  const gone = await eventually('the tombstone', async () => { const m = await latest(env.eventLog, 'RESOURCES', ROUTE); return m?.data.op === 'delete' ? m : undefined; });
  assert.equal(gone.data.object, null);
});

test('Secrets are published only while a Gateway refers to them', async () => {
  api.create(secret('cert'));
  api.create(secret('unrelated'));
  await new Promise((r) => setTimeout(r, 100));
  await w.idle();
  assert.equal(await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Secret.default.cert'), undefined);
  api.create(gateway(['cert']));
  await eventually('the referenced Secret', () => latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Secret.default.cert'));
  api.update('Secret', 'default', 'cert', (o) => { o.data['tls.crt'] = Buffer.from('b').toString('base64'); });
  await eventually('the changed Secret', async () => (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Secret.default.cert'))?.data.object.data['tls.crt'] === 'Yg==');
  api.update('Gateway', 'default', 'gw', (o) => { o.spec.listeners[0].tls.certificateRefs = []; });
  await eventually('the Secret withdrawn', async () => (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Secret.default.cert'))?.data.op === 'delete');
  assert.equal(await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.Secret.default.unrelated'), undefined);
});

test('a restart publishes only what changed while the watcher was away', async () => {
  api.create(route('stays', 'stays.example.com'));
  api.create(route('changes', 'c1.example.com'));
  api.create(route('goes', 'g.example.com'));
  await eventually('the routes', () => latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.default.goes'));
  await w.idle();
  await w.stop();
  api.update('HTTPRoute', 'default', 'changes', (o) => { o.spec.hostnames = ['c2.example.com']; });
  api.delete('HTTPRoute', 'default', 'goes');
  api.create(route('new', 'n.example.com'));
  const before = await lastSeq(env.eventLog, 'RESOURCES');
  w = await start();
  await w.synced;
  await w.idle();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before + 3, 'one change, one tombstone, one new route');
  assert.equal(await hostOf('gantry.res.local.HTTPRoute.default.changes'), 'c2.example.com');
  assert.equal((await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.default.goes'))!.data.op, 'delete');
  assert.equal(await hostOf('gantry.res.local.HTTPRoute.default.new'), 'n.example.com');
});

test('a watch dropped mid-stream and a 410 are survived with nothing lost', async () => {
  await eventually('open watches', async () => api.openWatches('httproutes') > 0);
  api.dropWatches();
  api.create(route('during-drop', 'd.example.com'));
  await eventually('the route created across the drop', () => latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.default.during-drop'));
  // Cut off, history compacted past what the watcher saw: only a relist can tell it what happened.
  await api.stop();
  api.delete('HTTPRoute', 'default', 'stays');
  api.update('HTTPRoute', 'default', 'changes', (o) => { o.spec.hostnames = ['c3.example.com']; });
  api.create(route('while-away', 'w.example.com'));
  api.compact();
  await new Promise((r) => setTimeout(r, 300)); // a lost API server: the watcher keeps what it has, retrying
  await api.start();
  await eventually('the deletion seen by the relist', async () => (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.default.stays'))?.data.op === 'delete', 10_000);
  await eventually('the change', async () => (await hostOf('gantry.res.local.HTTPRoute.default.changes')) === 'c3.example.com');
  await eventually('the new route', () => latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.default.while-away'));
  assert.ok(api.requestLog.some((r) => r.code === 200 && r.path.endsWith('/httproutes')), 'listed again');
  // Every route the API server holds is in the log as it is there, and nothing else is live.
  await w.idle();
  for (const o of api.list('HTTPRoute')) assert.equal(await hostOf(`gantry.res.local.HTTPRoute.default.${o.metadata.name}`), o.spec.hostnames[0]);
  await w.stop();
});
