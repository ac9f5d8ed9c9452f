// Gateway provisioning in the Kubernetes-mode reporter, against the test API server (the
// kube-apiserver stand-in) and a real nats-server. Resource, report and proxy events are published
// here by hand, as the watcher, translator and xds-server would. No controllers run beside the test
// API server (no kube-controller-manager, no cloud load balancer, no kubelet): the test plays them
// where the behaviour depends on it, by writing the Deployment's and the Service's status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  PROXY_SCHEMA, ProxyEventSchema, REPORT_SCHEMA, RESOURCE_SCHEMA, ReportEventSchema, ResourceEventSchema, subjects,
} from '../../libs/contracts/index.ts';
import { publishEvent } from '../../libs/eventlog/index.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { startKubeReporter, type RunningKubeReporter } from '../../services/reporter/kube-reporter.ts';
import { eventually, quietLog, type EdgeEnv } from '../edge/edge-support.ts';
import type { TestApiServer } from './api-server.ts';
import { CONTROLLER as OURS, startReporterCluster } from './cluster.ts';

const GW = 'gateway.networking.k8s.io/v1';

let env: EdgeEnv;
let api: TestApiServer;
let reporter: RunningKubeReporter;
let close: () => Promise<void>;
let kc: KubeConfig;
let first: RunningKubeReporter;
const PROVISIONING = { xds: { address: 'gantry-xds.gantry-system.svc.cluster.local', port: 18000 }, envoyImage: 'envoy:test', debounceMs: 10 };
before(async () => {
  ({ env, api, kc, reporter, close } = await startReporterCluster({ provisioning: PROVISIONING }, (server) => {
    // Gantry's GatewayParameters CRD, as deploy/ installs it.
    server.create(parse(readFileSync(new URL('../../deploy/crds/gantry/gatewayparameters.yaml', import.meta.url), 'utf8')));
  }));
  await reporter.caughtUp;
  first = reporter;
});
after(async () => {
  // The restart test replaced the reporter `close` knows of: stop the one running now first.
  if (reporter !== first) await reporter.stop();
  await close();
});

let n = 0;
/** The object as the watcher would publish it (from what the API server holds now), or its tombstone. */
async function publishResource(kind: string, namespace: string, name: string) {
  const o = api.get(kind, namespace, name);
  await publishEvent(env.eventLog.js, ResourceEventSchema, subjects.resource({ cluster: 'local', kind, namespace, name }), {
    schema: RESOURCE_SCHEMA, cluster: 'local', kind, namespace, name, apiVersion: o?.apiVersion ?? GW, uid: o?.metadata.uid ?? '',
    generation: o?.metadata.generation ?? 0, resourceVersion: o?.metadata.resourceVersion ?? '', op: o ? 'upsert' : 'delete',
    object: o ? { apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, spec: o.spec } : null, emittedAt: new Date().toISOString(), source: { type: 'kubernetes' },
  }, `res-${n++}`);
}
const programmed = { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'translated', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' };
const accepted = { ...programmed, type: 'Accepted', reason: 'Accepted' };
/** The translator's report of a valid Gateway. */
const reportGateway = (name: string) => publishEvent(env.eventLog.js, ReportEventSchema, subjects.report({ cluster: 'local', kind: 'Gateway', namespace: 'default', name }), {
  schema: REPORT_SCHEMA, cluster: 'local', kind: 'Gateway', namespace: 'default', name, apiVersion: GW, generation: 1, op: 'upsert',
  status: { addresses: [{ type: 'IPAddress', value: '127.0.0.1' }], conditions: [accepted, programmed], listeners: [{ name: 'http', attachedRoutes: 0, supportedKinds: [], conditions: [programmed] }] },
  snapshots: {}, emittedAt: new Date().toISOString(),
}, `rep-${n++}`);
const ack = (gateway: string, node: string) => publishEvent(env.eventLog.js, ProxyEventSchema, subjects.proxy(gateway, node), {
  schema: PROXY_SCHEMA, gateway, node, event: 'ack', typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', version: 'v1', replica: 'x', stream: 's1', emittedAt: new Date().toISOString(),
}, `proxy-${n++}`);

const condition = (name: string, type = 'Programmed') => api.get('Gateway', 'default', name)?.status?.conditions?.find((c: any) => c.type === type);
const writesTo = (path: string) => api.requestLog.filter((r) => r.method !== 'GET' && r.path.includes(path)).length;

async function createGateway(name: string, className = 'gantry', extra: Record<string, unknown> = {}) {
  api.create({ apiVersion: GW, kind: 'Gateway', metadata: { name, namespace: 'default' }, spec: {
    gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'https', port: 443, protocol: 'HTTPS' }, { name: 'dns', port: 53, protocol: 'UDP' }], ...extra,
  } });
  await publishResource('Gateway', 'default', name);
  await reportGateway(name);
}

test('a Gateway of our class gets its ServiceAccount, bootstrap, Deployment and Service; Programmed waits for address, readiness and an ACK', async () => {
  api.create({ apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'gantry' }, spec: { controllerName: OURS } });
  await publishResource('GatewayClass', '', 'gantry');
  await createGateway('web', 'gantry', { infrastructure: { labels: { team: 'payments' }, annotations: { 'example.com/owner': 'payments' } } });

  const deployment = await eventually('the Deployment', async () => api.get('Deployment', 'default', 'web-gantry'));
  const gateway = api.get('Gateway', 'default', 'web')!;
  for (const kind of ['ServiceAccount', 'ConfigMap', 'Deployment', 'Service']) {
    const o = api.get(kind, 'default', 'web-gantry');
    assert.ok(o, `${kind} created`);
    assert.equal(o.metadata.labels['gateway.networking.k8s.io/gateway-name'], 'web');
    assert.equal(o.metadata.labels.team, 'payments', 'spec.infrastructure.labels');
    assert.equal(o.metadata.annotations['example.com/owner'], 'payments', 'spec.infrastructure.annotations');
    assert.deepEqual(o.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid, r.controller]), [['Gateway', 'web', gateway.metadata.uid, true]]);
  }
  const bootstrap = parse(api.get('ConfigMap', 'default', 'web-gantry')!.data['envoy.yaml']);
  assert.equal(bootstrap.node.cluster, 'default/web', 'node.cluster names the Gateway');
  assert.equal(bootstrap.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address, 'gantry-xds.gantry-system.svc.cluster.local');
  const service = api.get('Service', 'default', 'web-gantry')!;
  assert.equal(service.spec.type, 'LoadBalancer', 'LoadBalancer by default');
  assert.deepEqual(service.spec.ports.map((p: any) => `${p.protocol}/${p.port}`), ['UDP/53', 'TCP/80', 'TCP/443']);
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(container.image, 'envoy:test');
  assert.deepEqual(deployment.spec.template.metadata.labels.team, 'payments');
  assert.ok(container.args.includes('$(POD_NAME)'), 'each proxy reports as its pod');

  await eventually('no address yet', async () => condition('web')?.reason === 'AddressNotAssigned');
  assert.equal(condition('web').status, 'False');
  assert.deepEqual(api.get('Gateway', 'default', 'web')!.status.addresses, []);

  // The cloud's load balancer controller assigns an address.
  api.updateStatus('Service', 'default', 'web-gantry', (o) => { o.status = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } }; });
  await eventually('the address in status, waiting for pods', async () => condition('web')?.reason === 'Pending' && condition('web').message.includes('0 of 1'));
  assert.deepEqual(api.get('Gateway', 'default', 'web')!.status.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
  assert.equal(api.get('Gateway', 'default', 'web')!.status.listeners[0].conditions.find((c: any) => c.type === 'Programmed').reason, 'Pending');

  // The Deployment controller and kubelet: one replica ready. Programmed still waits for a proxy's ACK.
  api.updateStatus('Deployment', 'default', 'web-gantry', (o) => { o.status = { replicas: 1, readyReplicas: 1 }; });
  await eventually('waiting for an ACK', async () => condition('web')?.message.includes('acknowledge'));
  assert.equal(condition('web').status, 'False');

  await ack('default/web', 'web-gantry-abc');
  await eventually('Programmed', async () => condition('web')?.status === 'True');
  assert.equal(condition('web').reason, 'Programmed');
  assert.equal(api.get('Gateway', 'default', 'web')!.status.listeners[0].conditions.find((c: any) => c.type === 'Programmed').status, 'True');
});

test('a restarted reporter writes nothing to a Gateway whose status is right (no Programmed flap while provisioning catches up)', async () => {
  await reporter.idle();
  await reporter.stop();
  const before = api.requestLog.length;
  reporter = await startKubeReporter({ eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, controllerName: OURS, backoff: { initialMs: 20, maxMs: 200 }, provisioning: PROVISIONING });
  await reporter.caughtUp;
  await reporter.idle();
  const writes = api.requestLog.slice(before).filter((r) => r.method !== 'GET' && !r.path.includes('/leases'));
  assert.deepEqual(writes, [], 'nothing written');
  assert.equal(condition('web').status, 'True');
});

test('GatewayParameters of the class and of the Gateway shape the objects; only what changed is written', async () => {
  await reporter.idle();
  const saWrites = writesTo('/serviceaccounts/web-gantry');
  api.create({ apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'internal', namespace: 'default' }, spec: {
    service: { type: 'ClusterIP' }, deployment: { replicas: 3, podAnnotations: { 'example.com/scrape': 'true' } }, envoy: { logLevel: 'debug' },
  } });
  await publishResource('GatewayParameters', 'default', 'internal');
  api.update('Gateway', 'default', 'web', (o) => { o.spec.infrastructure.parametersRef = { group: 'gateway.gantry.dev', kind: 'GatewayParameters', name: 'internal' }; });
  await publishResource('Gateway', 'default', 'web');
  await eventually('the Service is ClusterIP', async () => api.get('Service', 'default', 'web-gantry')?.spec.type === 'ClusterIP');
  const d = api.get('Deployment', 'default', 'web-gantry')!;
  assert.equal(d.spec.replicas, 3);
  assert.equal(d.spec.template.metadata.annotations['example.com/scrape'], 'true');
  assert.ok(d.spec.template.spec.containers[0].args.join(' ').includes('--log-level debug'));
  await reporter.idle();
  assert.equal(writesTo('/serviceaccounts/web-gantry'), saWrites, 'the ServiceAccount did not change, so it was not written');
});

test('the listeners of a ListenerSet attached to the Gateway add Service ports', async () => {
  api.update('Gateway', 'default', 'web', (o) => { o.spec.allowedListeners = { namespaces: { from: 'Same' } }; });
  await publishResource('Gateway', 'default', 'web');
  api.create({ apiVersion: 'gateway.networking.x-k8s.io/v1alpha1', kind: 'XListenerSet', metadata: { name: 'extra', namespace: 'default' }, spec: {
    parentRef: { name: 'web' }, listeners: [{ name: 'alt', port: 8443, protocol: 'HTTPS' }],
  } });
  await publishResource('XListenerSet', 'default', 'extra');
  await eventually('port 8443 on the Service', async () => api.get('Service', 'default', 'web-gantry')?.spec.ports.some((p: any) => p.port === 8443));
  api.delete('XListenerSet', 'default', 'extra');
  await publishResource('XListenerSet', 'default', 'extra');
  await eventually('port 8443 gone again', async () => !api.get('Service', 'default', 'web-gantry')?.spec.ports.some((p: any) => p.port === 8443));
});

test('bad parameters leave the objects as they are and say why; a name taken by someone else is not touched', async () => {
  const before = api.get('Deployment', 'default', 'web-gantry')!.metadata.resourceVersion;
  api.update('Gateway', 'default', 'web', (o) => { o.spec.infrastructure.parametersRef.name = 'missing'; });
  await publishResource('Gateway', 'default', 'web');
  await eventually('the problem in status', async () => condition('web')?.message.includes('GatewayParameters default/missing not found'));
  assert.equal(condition('web').status, 'False');
  assert.equal(api.get('Deployment', 'default', 'web-gantry')!.metadata.resourceVersion, before, 'the Deployment is left alone');

  api.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'taken-gantry', namespace: 'default' }, spec: { ports: [{ port: 1 }] } });
  await createGateway('taken');
  await eventually('the conflict in status', async () => condition('taken')?.message?.includes('Service default/taken-gantry exists and is not managed by Gantry'));
  assert.equal(api.get('Service', 'default', 'taken-gantry')!.spec.ports[0].port, 1, 'the user\'s Service is untouched');
});

test('a Gateway of another controller gets nothing; a deleted Gateway\'s objects are removed', async () => {
  api.create({ apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'other' }, spec: { controllerName: 'other.example/controller' } });
  await publishResource('GatewayClass', '', 'other');
  await createGateway('foreign', 'other');
  api.delete('Gateway', 'default', 'web');
  await publishResource('Gateway', 'default', 'web');
  await eventually('the proxy objects removed', async () => ['ServiceAccount', 'ConfigMap', 'Deployment', 'Service'].every((k) => !api.get(k, 'default', 'web-gantry')));
  await reporter.idle();
  assert.equal(api.get('Deployment', 'default', 'foreign-gantry'), undefined);
  assert.ok(api.get('Service', 'default', 'taken-gantry'), 'the user\'s Service stays');
});
