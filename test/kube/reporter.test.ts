// The reporter in Kubernetes mode: REPORTS (published here by hand, as the translator would) to the
// test API server's status subresources, with a real nats-server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REPORT_SCHEMA, ReportEventSchema, subjects } from '../../libs/contracts/index.ts';
import { publishEvent } from '../../libs/eventlog/index.ts';
import type { RunningKubeReporter } from '../../services/reporter/kube-reporter.ts';
import { eventually, type EdgeEnv } from '../edge/edge-support.ts';
import type { TestApiServer } from './api-server.ts';
import { CONTROLLER as OURS, startReporterCluster } from './cluster.ts';

const GW = 'gateway.networking.k8s.io/v1';
let env: EdgeEnv;
let api: TestApiServer;
let reporter: RunningKubeReporter;
let close: () => Promise<void>;
before(async () => { ({ env, api, reporter, close } = await startReporterCluster()); });
after(() => close());

const parent = (controllerName: string, reason = 'Accepted') => ({
  parentRef: { name: 'gw' }, controllerName,
  conditions: [{ type: 'Accepted', status: 'True', reason, message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
});
let n = 0;
const report = (name: string, status: Record<string, unknown> | null, cluster = 'local') => publishEvent(env.eventLog.js, ReportEventSchema,
  subjects.report({ cluster, kind: 'HTTPRoute', namespace: 'default', name }),
  { schema: REPORT_SCHEMA, cluster, kind: 'HTTPRoute', namespace: 'default', name, apiVersion: GW, generation: 1, op: status ? 'upsert' : 'delete', status, snapshots: {}, emittedAt: new Date().toISOString() },
  `test-${n++}`);
const statusWrites = () => api.requestLog.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status')).length;
const createRoute = (name: string) => api.create({ apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }] } });

test('a report becomes the status; other controllers\' parents are kept; spec is untouched; an unchanged report writes nothing', async () => {
  createRoute('r');
  api.updateStatus('HTTPRoute', 'default', 'r', (o) => { o.status = { parents: [parent('other.example/controller')] }; });
  const spec = api.get('HTTPRoute', 'default', 'r')!.spec;
  await report('r', { parents: [parent(OURS)] });
  await eventually('our status', async () => api.get('HTTPRoute', 'default', 'r')?.status?.parents?.length === 2);
  const o = api.get('HTTPRoute', 'default', 'r')!;
  assert.deepEqual(o.status.parents.map((p: any) => p.controllerName), ['other.example/controller', OURS]);
  assert.deepEqual(o.spec, spec);
  const writes = statusWrites();
  await report('r', { parents: [parent(OURS)] }); // same content, a new event (a restarted translator)
  await new Promise((r) => setTimeout(r, 100));
  await reporter.idle();
  assert.equal(statusWrites(), writes);
});

test('a write that loses a race (409) is computed again from the object as it now is', async () => {
  let raced = false;
  api.beforeRequest = (method, path) => {
    if (raced || method !== 'PATCH' || !path.endsWith('/httproutes/r/status')) return;
    raced = true; // another controller writes its entry between our read and our patch
    api.updateStatus('HTTPRoute', 'default', 'r', (o) => { o.status.parents[0] = parent('other.example/controller', 'Raced'); });
  };
  await report('r', { parents: [parent(OURS, 'Changed')] });
  await eventually('our new status', async () => api.get('HTTPRoute', 'default', 'r')?.status?.parents?.some((p: any) => p.conditions[0].reason === 'Changed'));
  api.beforeRequest = undefined;
  assert.ok(raced);
  assert.ok(api.requestLog.some((r) => r.method === 'PATCH' && r.code === 409));
  assert.deepEqual(api.get('HTTPRoute', 'default', 'r')!.status.parents.map((p: any) => p.conditions[0].reason), ['Raced', 'Changed'], 'the other controller\'s write survived');
});

test('a withdrawn report removes only our entries; a deleted object\'s status is dropped; other clusters\' reports are not ours', async () => {
  await report('r', null);
  await eventually('our entry removed', async () => api.get('HTTPRoute', 'default', 'r')?.status?.parents?.length === 1);
  assert.equal(api.get('HTTPRoute', 'default', 'r')!.status.parents[0].controllerName, 'other.example/controller');
  api.delete('HTTPRoute', 'default', 'r');
  const writes = statusWrites();
  await report('r', { parents: [parent(OURS)] });
  createRoute('elsewhere');
  await report('elsewhere', { parents: [parent(OURS)] }, 'other');
  await new Promise((r) => setTimeout(r, 150));
  await reporter.idle();
  assert.equal(statusWrites(), writes);
  assert.equal(api.get('HTTPRoute', 'default', 'elsewhere')!.status, undefined);
});

test('while the API server is away, writes wait and then happen', async () => {
  createRoute('later');
  await api.stop();
  await report('later', { parents: [parent(OURS)] });
  await new Promise((r) => setTimeout(r, 200));
  await api.start();
  await eventually('the status after the outage', async () => api.get('HTTPRoute', 'default', 'later')?.status?.parents?.length === 1, 10_000);
});
