// Upstreams in Kubernetes mode, against the test API server (serving the Upstream type as if its CRD
// were installed) and a real nats-server: the watcher publishes them and the ConfigMap their TLS
// names; the translator, fed from RESOURCES as the service feeds it, reports them; the reporter
// writes that report to the Upstream's status subresource.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeConfig } from '@kubernetes/client-node';
import { REPORT_SCHEMA, ReportEventSchema, subjects } from '../../libs/contracts/index.ts';
import { publishEvent } from '../../libs/eventlog/index.ts';
import { Translator } from '../../libs/translator/index.ts';
import { World } from '../../libs/world/world.ts';
import { startKubeReporter, type RunningKubeReporter } from '../../services/reporter/kube-reporter.ts';
import { startKubeWatcher, type RunningKubeWatcher } from '../../services/watcher/kube-source.ts';
import { makePki } from '../unit/translator/certs.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from '../edge/edge-support.ts';
import { CORE_TYPES, GATEWAY_API_TYPES, type ResourceType, type TestApiServer } from './api-server.ts';
import { startTestCluster } from './cluster.ts';

const GANTRY = 'gateway.gantry.dev';
const OURS = 'gantry.dev/gateway-controller';
const UPSTREAM_TYPE: ResourceType = {
  group: GANTRY, versions: ['v1alpha1'], kind: 'Upstream', plural: 'upstreams', namespaced: true, status: true, generation: true, builtin: false,
};
const UPSTREAM = 'gantry.res.local.Upstream.default.api';
const CA = 'gantry.res.local.ConfigMap.default.api-ca';
const pki = makePki();

let env: EdgeEnv;
let api: TestApiServer;
let kc: KubeConfig;
let watcher: RunningKubeWatcher;
let reporter: RunningKubeReporter;
before(async () => {
  env = await startEdgeEnv();
  ({ api, kc } = await startTestCluster({ types: [...CORE_TYPES, ...GATEWAY_API_TYPES, UPSTREAM_TYPE], bookmarkIntervalMs: 200 }));
  watcher = await startKubeWatcher({ eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, debounceMs: 10, backoff: { initialMs: 20, maxMs: 200 } });
  await watcher.synced;
  reporter = await startKubeReporter({ eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, controllerName: OURS, backoff: { initialMs: 20, maxMs: 200 } });
});
after(async () => { await reporter.stop(); await watcher.stop(); await api.stop(); await env.close(); });

const upstream = (caName: string) => ({
  apiVersion: `${GANTRY}/v1alpha1`, kind: 'Upstream', metadata: { name: 'api', namespace: 'default' },
  spec: { type: 'Static', static: { hosts: [{ address: '192.0.2.1', port: 443 }] }, tls: { sni: 'api.example.com', caCertificateRef: { name: caName } } },
});

/** What the translator service does with RESOURCES: a World fed the latest events, translated; the Upstream's report published. */
async function translateAndReport(): Promise<Record<string, any>> {
  const world = new World();
  for (const subject of [UPSTREAM, CA]) {
    const m = await latest(env.eventLog, 'RESOURCES', subject);
    if (m) world.applyResource(m.data, m.seq);
  }
  const result = new Translator({ controllerName: OURS, defaultAddress: '127.0.0.1', now: new Date().toISOString() }).translateIndex(world.index);
  const r = result.reports.find((x) => x.kind === 'Upstream' && x.name === 'api')!;
  await publishEvent(env.eventLog.js, ReportEventSchema, subjects.report(r), {
    schema: REPORT_SCHEMA, cluster: r.cluster, kind: r.kind, namespace: r.namespace, name: r.name, apiVersion: r.apiVersion,
    generation: r.generation, op: 'upsert', status: r.status, snapshots: {}, emittedAt: new Date().toISOString(),
  }, `${subjects.report(r)}@${Date.now()}`);
  return r.status;
}

const acceptedInApi = () => api.get('Upstream', 'default', 'api')?.status?.conditions?.find((c: { type: string }) => c.type === 'Accepted');

test('an Upstream created in the API server is published with the ConfigMap its TLS names; its status write publishes nothing', async () => {
  api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'api-ca', namespace: 'default' }, data: { 'ca.crt': pki.ca.cert } });
  await new Promise((r) => setTimeout(r, 100));
  await watcher.idle();
  assert.equal(await latest(env.eventLog, 'RESOURCES', CA), undefined, 'no Upstream refers to it yet');
  api.create(upstream('api-ca'));
  const published = await eventually('the Upstream', () => latest(env.eventLog, 'RESOURCES', UPSTREAM));
  assert.deepEqual([published.data.kind, published.data.apiVersion, published.data.op, published.data.object.spec.tls.sni], ['Upstream', `${GANTRY}/v1alpha1`, 'upsert', 'api.example.com']);
  assert.equal(published.data.uid, api.get('Upstream', 'default', 'api')!.metadata.uid);
  await eventually('the CA ConfigMap it refers to', () => latest(env.eventLog, 'RESOURCES', CA));

  const status = await translateAndReport();
  assert.deepEqual(status.conditions.map((c: { type: string; status: string; observedGeneration: number }) => [c.type, c.status, c.observedGeneration]), [['Accepted', 'True', 1]]);
  await eventually('the status written', async () => acceptedInApi()?.status === 'True');
  await watcher.idle();
  const seq = await lastSeq(env.eventLog, 'RESOURCES');
  await new Promise((r) => setTimeout(r, 100));
  await watcher.idle();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), seq, 'status is the reporter\'s output, not an input');
});

test('an Upstream changed to name a missing ConfigMap: the old one is withdrawn and the status says why', async () => {
  api.update('Upstream', 'default', 'api', (o) => { o.spec.tls.caCertificateRef.name = 'missing'; });
  await eventually('the change', async () => (await latest(env.eventLog, 'RESOURCES', UPSTREAM))?.data.generation === 2);
  await eventually('the ConfigMap withdrawn', async () => (await latest(env.eventLog, 'RESOURCES', CA))?.data.op === 'delete');
  await translateAndReport();
  const accepted = await eventually('the new status', async () => { const c = acceptedInApi(); return c?.status === 'False' ? c : undefined; });
  assert.deepEqual([accepted.reason, accepted.message, accepted.observedGeneration], ['InvalidCACertificateRef', 'spec.tls: ConfigMap default/missing not found', 2]);
  assert.equal(api.get('Upstream', 'default', 'api')!.spec.tls.caCertificateRef.name, 'missing', 'spec untouched');
});
