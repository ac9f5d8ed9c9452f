// endpoint-discovery in Kubernetes mode against the test API server and a real nats-server: endpoints
// events, and the discovered Upstreams it writes to the API server. The scenarios build on each other.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { subjects } from '../../libs/contracts/index.ts';
import { startKubeEndpointDiscovery, type RunningKubeDiscovery } from '../../services/endpoint-discovery/kube-source.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from '../edge/edge-support.ts';
import { CORE_TYPES, GATEWAY_API_TYPES, type ResourceType, type TestApiServer } from './api-server.ts';
import { startTestCluster } from './cluster.ts';

/** Gantry's Upstream CRD (deploy/crds/gantry/upstreams.yaml), as the test API server serves a custom resource. */
const UPSTREAM: ResourceType = {
  group: 'gateway.gantry.dev', versions: ['v1alpha1'], kind: 'Upstream', plural: 'upstreams', namespaced: true, status: true, generation: true, builtin: false,
};

let env: EdgeEnv;
let api: TestApiServer;
let kc: KubeConfig;
before(async () => {
  env = await startEdgeEnv();
  ({ api, kc } = await startTestCluster({ bookmarkIntervalMs: 200, types: [...CORE_TYPES, ...GATEWAY_API_TYPES, UPSTREAM] }));
});
// A failed scenario may leave discovery running: stopping it again is harmless.
after(async () => { await d?.stop(); await api.stop(); await env.close(); });

const WEB = subjects.endpoints('local', 'default', 'web');
const service = (name: string) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' }] },
});
const slice = (name: string, svc: string, endpoints: object[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints,
});
const ep = (address: string, zone: string, node: string, conditions: object) => ({ addresses: [address], conditions, zone, nodeName: node, hostname: `h-${address.split('.')[3]}` });
const start = (upstreamDiscovery = true) => startKubeEndpointDiscovery({
  eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, debounceMs: 10, backoff: { initialMs: 20, maxMs: 200 }, upstreamDiscovery,
});
const endpointsOf = async (subject: string) => (await latest(env.eventLog, 'ENDPOINTS', subject))?.data;

let d: RunningKubeDiscovery;
test('a Service with two slices gives its endpoints; a slice change updates them', async () => {
  d = await start();
  await d.synced;
  api.create(service('web'));
  api.create(slice('web-a', 'web', [ep('10.0.0.1', 'z1', 'n1', { ready: true })]));
  api.create(slice('web-b', 'web', [ep('10.0.0.3', 'z2', 'n2', { ready: true, serving: true }), ep('10.0.0.2', 'z2', 'n3', { ready: false, serving: true, terminating: true })]));
  api.create(slice('other-a', 'other', [ep('10.0.9.9', 'z1', 'n1', { ready: true })]));
  const e = await eventually('both slices', async () => { const x = await endpointsOf(WEB); return x?.ports[0]?.endpoints.length === 3 ? x : undefined; });
  assert.deepEqual([e.op, e.serviceType, e.namespace, e.name], ['upsert', 'ClusterIP', 'default', 'web']);
  assert.deepEqual(e.ports, [{
    name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http', endpoints: [
      { address: '10.0.0.1', port: 8080, ready: true, serving: true, terminating: false, zone: 'z1', node: 'n1', hostname: 'h-1' },
      { address: '10.0.0.2', port: 8080, ready: false, serving: true, terminating: true, zone: 'z2', node: 'n3', hostname: 'h-2' },
      { address: '10.0.0.3', port: 8080, ready: true, serving: true, terminating: false, zone: 'z2', node: 'n2', hostname: 'h-3' },
    ],
  }]);
  api.update('EndpointSlice', 'default', 'web-a', (o) => { o.endpoints[0].conditions = { ready: false, serving: false, terminating: true }; });
  const changed = await eventually('the slice change', async () => { const x = await endpointsOf(WEB); return x?.ports[0].endpoints[0].ready === false ? x : undefined; });
  assert.deepEqual(changed.ports[0].endpoints[0], { address: '10.0.0.1', port: 8080, ready: false, serving: false, terminating: true, zone: 'z1', node: 'n1', hostname: 'h-1' });
  api.delete('EndpointSlice', 'default', 'web-b');
  await eventually('the slice deleted', async () => (await endpointsOf(WEB))?.ports[0].endpoints.length === 1);
  // A Service with no slices yet is published with no endpoints; the slice of another is not its.
  assert.equal(await endpointsOf(subjects.endpoints('local', 'default', 'other')), undefined);
  api.create(service('other'));
  await eventually('the other Service', async () => (await endpointsOf(subjects.endpoints('local', 'default', 'other')))?.ports[0].endpoints[0]?.address === '10.0.9.9');
  // A slice relabelled moves its endpoints from one Service to the other.
  api.update('EndpointSlice', 'default', 'other-a', (o) => { o.metadata.labels['kubernetes.io/service-name'] = 'web'; });
  await eventually('the slice moved away', async () => (await endpointsOf(subjects.endpoints('local', 'default', 'other')))?.ports[0].endpoints.length === 0);
  await eventually('the slice moved in', async () => (await endpointsOf(WEB))?.ports[0].endpoints.length === 2);
  api.update('EndpointSlice', 'default', 'other-a', (o) => { o.metadata.labels['kubernetes.io/service-name'] = 'other'; });
  await eventually('the slice moved back', async () => (await endpointsOf(WEB))?.ports[0].endpoints.length === 1);
});

test('deleting the Service publishes a tombstone', async () => {
  api.delete('Service', 'default', 'web');
  const gone = await eventually('the tombstone', async () => { const x = await endpointsOf(WEB); return x?.op === 'delete' ? x : undefined; });
  assert.deepEqual(gone.ports, []);
});

const upstreamWrites = () => api.requestLog.filter((r) => r.method !== 'GET' && r.path.includes('/upstreams')).length;
const upstream = (ns: string, name: string) => api.get('Upstream', ns, name);

test('a restart publishes nothing new and writes nothing; then only what changed while away', async () => {
  await d.upstreamsSynced;
  await eventually('other-80 discovered', async () => upstream('default', 'other-80'));
  assert.equal(upstream('default', 'web-80'), undefined, 'deleted with its Service');
  await d.idle();
  await d.stop();
  const before = await lastSeq(env.eventLog, 'ENDPOINTS');
  const writes = upstreamWrites();
  d = await start();
  await d.synced;
  await d.upstreamsSynced;
  await d.idle();
  assert.equal(await lastSeq(env.eventLog, 'ENDPOINTS'), before, 'nothing changed: nothing published');
  assert.equal(upstreamWrites(), writes, 'nothing changed: nothing written');
  await d.stop();
  api.delete('Service', 'default', 'other');
  api.create(service('web'));
  d = await start();
  await d.synced;
  await d.upstreamsSynced;
  await d.idle();
  assert.equal(await lastSeq(env.eventLog, 'ENDPOINTS'), before + 2, 'one tombstone, one Service back');
  assert.equal((await endpointsOf(subjects.endpoints('local', 'default', 'other'))).op, 'delete');
  assert.equal((await endpointsOf(WEB)).ports[0].endpoints[0].address, '10.0.0.1');
  assert.equal(upstream('default', 'other-80'), undefined, 'the Upstream of the Service deleted while away is deleted');
  assert.equal(upstream('default', 'web-80')!.metadata.ownerReferences[0].uid, api.get('Service', 'default', 'web')!.metadata.uid, 'owned by the new Service');
});

const STORE = 'store';
const storeService = (ports: object[], annotations?: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop', namespace: STORE, ...(annotations ? { annotations } : {}) },
  spec: { type: 'ClusterIP', selector: { app: 'shop' }, ports },
});
const HTTP = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };
const API = { name: 'api', port: 9000, targetPort: 9090, protocol: 'TCP', appProtocol: 'grpc' };
const DNS = { name: 'dns', port: 53, protocol: 'UDP' };
const storeSlice = (name: string, svc: string, port: string, number: number, address: string) => ({
  ...slice(name, svc, [ep(address, 'z1', 'n1', { ready: true })]), metadata: { name, namespace: STORE, labels: { 'kubernetes.io/service-name': svc } },
  ports: [{ name: port, port: number, protocol: 'TCP' }],
});
const protocolOf = (name: string) => upstream(STORE, name)?.spec.protocol;

test('a discovered Upstream per TCP port follows the Service: created, updated, deleted; hand edits reverted', async () => {
  api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: STORE } });
  api.create(storeService([HTTP, API, DNS]));
  await eventually('both Upstreams', async () => upstream(STORE, 'shop-80') && upstream(STORE, 'shop-9000'));
  const svc = api.get('Service', STORE, 'shop')!;
  const u = upstream(STORE, 'shop-80')!;
  assert.deepEqual(u.metadata.labels, { 'gateway.gantry.dev/discovered': 'true', 'gateway.gantry.dev/service': 'shop' });
  assert.deepEqual(u.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'shop', uid: svc.metadata.uid, controller: false, blockOwnerDeletion: false }]);
  assert.deepEqual(u.spec, { type: 'Kube', kube: { serviceName: 'shop', serviceNamespace: STORE, servicePort: 80 }, protocol: 'HTTP' });
  assert.equal(protocolOf('shop-9000'), 'GRPC');
  assert.equal(upstream(STORE, 'shop-53'), undefined, 'no Upstream for a UDP port');
  // A port's protocol changes: its Upstream is replaced; a port goes: its Upstream is deleted.
  api.update('Service', STORE, 'shop', (o) => { o.spec.ports = [{ ...API, appProtocol: 'kubernetes.io/h2c' }]; });
  await eventually('the new protocol', async () => protocolOf('shop-9000') === 'H2C');
  await eventually('the port gone', async () => upstream(STORE, 'shop-80') === undefined);
  assert.equal(upstream(STORE, 'shop-9000')!.metadata.generation, 2);
  // A hand edit of a discovered Upstream's spec is reverted; one deleted by hand comes back.
  api.update('Upstream', STORE, 'shop-9000', (o) => { o.spec.protocol = 'TCP'; o.spec.connectTimeout = '1s'; o.metadata.labels.team = 'a'; });
  await eventually('the edit reverted', async () => protocolOf('shop-9000') === 'H2C');
  assert.deepEqual([upstream(STORE, 'shop-9000')!.spec.connectTimeout, upstream(STORE, 'shop-9000')!.metadata.labels.team], [undefined, 'a'], 'the spec is discovery\'s; other labels are kept');
  const uid = upstream(STORE, 'shop-9000')!.metadata.uid;
  api.delete('Upstream', STORE, 'shop-9000');
  await eventually('recreated', async () => upstream(STORE, 'shop-9000') && upstream(STORE, 'shop-9000')!.metadata.uid !== uid);
  // A conflict (someone else writes between our read and our write) is retried.
  let raced = false;
  api.beforeRequest = (method, path) => {
    if (raced || method !== 'PUT' || !path.endsWith('/upstreams/shop-9000')) return;
    raced = true;
    api.update('Upstream', STORE, 'shop-9000', (o) => { o.metadata.labels.raced = 'yes'; });
  };
  api.update('Service', STORE, 'shop', (o) => { o.spec.ports = [{ ...API, appProtocol: 'grpc' }]; });
  await eventually('written after the conflict', async () => protocolOf('shop-9000') === 'GRPC');
  api.beforeRequest = undefined;
  assert.ok(raced && api.requestLog.some((r) => r.method === 'PUT' && r.code === 409 && r.path.endsWith('/shop-9000')), 'a 409 was met');
  assert.equal(upstream(STORE, 'shop-9000')!.metadata.labels.raced, 'yes');
  api.update('Service', STORE, 'shop', (o) => { o.spec.ports = [HTTP, API]; });
  await eventually('shop-80 back', async () => upstream(STORE, 'shop-80'));
});

test('switches: a Service annotation, its Namespace\'s, the Service\'s winning; globally off', async () => {
  const both = () => upstream(STORE, 'shop-80') && upstream(STORE, 'shop-9000');
  const none = () => !upstream(STORE, 'shop-80') && !upstream(STORE, 'shop-9000');
  const annotate = (kind: string, ns: string, name: string, v: string | undefined) => api.update(kind, ns, name, (o) => {
    o.metadata.annotations = v === undefined ? {} : { 'discovery.gantry.dev/upstreams': v };
  });
  annotate('Service', STORE, 'shop', 'disabled');
  await eventually('off for the Service', async () => none());
  annotate('Service', STORE, 'shop', undefined);
  await eventually('on again', async () => both());
  annotate('Namespace', '', STORE, 'disabled');
  await eventually('off for the Namespace', async () => none());
  annotate('Service', STORE, 'shop', 'enabled');
  await eventually('on for the Service, whatever its Namespace says', async () => both());
  annotate('Service', STORE, 'shop', undefined);
  await eventually('off with the Namespace', async () => none());
  annotate('Namespace', '', STORE, 'enabled');
  await eventually('on with the Namespace', async () => both());
  annotate('Namespace', '', STORE, undefined);
  // Globally off: every discovered Upstream goes, unless a Service or Namespace asks for it; endpoints go on.
  await d.idle();
  await d.stop();
  annotate('Service', 'default', 'web', 'enabled');
  d = await start(false);
  await d.upstreamsSynced;
  await eventually('off globally', async () => none());
  assert.ok(upstream('default', 'web-80'), 'the Service asks for it');
  api.create(storeSlice('shop-a', 'shop', 'http', 8080, '10.1.0.1'));
  await eventually('endpoints still published', async () => (await endpointsOf(subjects.endpoints('local', STORE, 'shop')))?.ports[0].endpoints[0]?.address === '10.1.0.1');
  await d.idle();
  await d.stop();
  annotate('Service', 'default', 'web', undefined);
  d = await start();
  await d.upstreamsSynced;
  await eventually('on globally', async () => both());
});

test('a hand-written Upstream is never touched: its name is left to it, and taken over only once it is gone', async () => {
  const mine = { apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'Upstream', metadata: { name: 'hand-80', namespace: STORE }, spec: { type: 'Static', static: { hosts: [{ address: '10.0.0.9', port: 80 }] } } };
  const rv = api.create(mine).metadata.resourceVersion;
  const other = api.create({ ...mine, metadata: { ...mine.metadata, name: 'unrelated' } });
  api.create({ ...storeService([HTTP]), metadata: { name: 'hand', namespace: STORE } });
  await eventually('the Service seen', async () => (await endpointsOf(subjects.endpoints('local', STORE, 'hand'))) !== undefined);
  await new Promise((r) => setTimeout(r, 100));
  await d.idle();
  assert.equal(upstream(STORE, 'hand-80')!.metadata.resourceVersion, rv, 'left as it is');
  assert.equal(upstream(STORE, 'unrelated')!.metadata.resourceVersion, other.metadata.resourceVersion);
  api.delete('Service', STORE, 'hand');
  await new Promise((r) => setTimeout(r, 100));
  await d.idle();
  assert.ok(upstream(STORE, 'hand-80'), 'not deleted with a Service it does not belong to');
  api.create({ ...storeService([HTTP]), metadata: { name: 'hand', namespace: STORE } });
  api.delete('Upstream', STORE, 'hand-80');
  await eventually('the freed name discovered', async () => upstream(STORE, 'hand-80')?.metadata.labels?.['gateway.gantry.dev/discovered'] === 'true');
});

test('a watch dropped mid-stream and a 410 are survived with nothing lost, endpoints and Upstreams', async () => {
  await eventually('open watches', async () => ['services', 'endpointslices', 'upstreams', 'namespaces'].every((p) => api.openWatches(p) > 0));
  api.dropWatches();
  api.create({ ...storeService([HTTP]), metadata: { name: 'during-drop', namespace: STORE } });
  api.create(storeSlice('during-drop-a', 'during-drop', 'http', 8080, '10.2.0.1'));
  await eventually('endpoints across the drop', async () => (await endpointsOf(subjects.endpoints('local', STORE, 'during-drop')))?.ports[0].endpoints.length === 1);
  await eventually('the Upstream across the drop', async () => upstream(STORE, 'during-drop-80'));
  // Cut off, history compacted past what the informers saw: only a relist can tell what happened.
  await api.stop();
  api.delete('Service', STORE, 'during-drop'); // no garbage collector here: its Upstream stays unless discovery deletes it
  api.update('Service', STORE, 'shop', (o) => { o.spec.ports = [HTTP, API, { name: 'admin', port: 9901, protocol: 'TCP', appProtocol: 'http' }]; });
  api.create({ ...storeService([API]), metadata: { name: 'while-away', namespace: STORE } });
  api.create(storeSlice('while-away-a', 'while-away', 'api', 9090, '10.3.0.1'));
  api.delete('Upstream', STORE, 'shop-80');
  api.update('Namespace', '', 'default', (o) => { o.metadata.annotations = { 'discovery.gantry.dev/upstreams': 'disabled' }; });
  api.compact();
  await new Promise((r) => setTimeout(r, 300)); // a lost API server: discovery keeps what it has, retrying
  await api.start();
  await eventually('the tombstone seen by the relist', async () => (await endpointsOf(subjects.endpoints('local', STORE, 'during-drop')))?.op === 'delete', 10_000);
  await eventually('its Upstream deleted', async () => upstream(STORE, 'during-drop-80') === undefined);
  await eventually('the new Service\'s endpoints', async () => (await endpointsOf(subjects.endpoints('local', STORE, 'while-away')))?.ports[0].endpoints[0]?.address === '10.3.0.1');
  await eventually('its Upstream', async () => protocolOf('while-away-9000') === 'GRPC');
  await eventually('the new port\'s Upstream', async () => protocolOf('shop-9901') === 'HTTP');
  await eventually('the Upstream deleted meanwhile is back', async () => upstream(STORE, 'shop-80'));
  await eventually('the Namespace switch seen', async () => upstream('default', 'web-80') === undefined);
  assert.ok(api.requestLog.some((r) => r.code === 200 && r.method === 'GET' && r.path.endsWith('/upstreams')), 'listed again');
  // The API server holds exactly what discovery wants now.
  await d.idle();
  const discovered = api.list('Upstream').filter((o) => o.metadata.labels?.['gateway.gantry.dev/discovered'] === 'true').map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
  assert.deepEqual(discovered, ['store/hand-80', 'store/shop-80', 'store/shop-9000', 'store/shop-9901', 'store/while-away-9000']);
  await d.stop();
});
