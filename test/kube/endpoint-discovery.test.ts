// endpoint-discovery in Kubernetes mode against the test API server and a real nats-server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { subjects } from '../../libs/contracts/index.ts';
import { startKubeEndpointDiscovery, type RunningKubeDiscovery } from '../../services/endpoint-discovery/kube-source.ts';
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
const start = () => startKubeEndpointDiscovery({ eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, debounceMs: 10, backoff: { initialMs: 20, maxMs: 200 } });
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

test('a restart publishes nothing new, and only what changed while away', async () => {
  await d.idle();
  await d.stop();
  const before = await lastSeq(env.eventLog, 'ENDPOINTS');
  d = await start();
  await d.synced;
  await d.idle();
  assert.equal(await lastSeq(env.eventLog, 'ENDPOINTS'), before, 'nothing changed: nothing published');
  await d.stop();
  api.delete('Service', 'default', 'other');
  api.create(service('web'));
  d = await start();
  await d.synced;
  await d.idle();
  assert.equal(await lastSeq(env.eventLog, 'ENDPOINTS'), before + 2, 'one tombstone, one Service back');
  assert.equal((await endpointsOf(subjects.endpoints('local', 'default', 'other'))).op, 'delete');
  assert.equal((await endpointsOf(WEB)).ports[0].endpoints[0].address, '10.0.0.1');
  await d.stop();
});
