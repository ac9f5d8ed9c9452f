import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { PROXY_SCHEMA, ProxyEventSchema, REPORT_SCHEMA, ReportEventSchema, subjects, type ProxyEvent } from '../../libs/contracts/index.ts';
import { publishEvent } from '../../libs/eventlog/index.ts';
import { formatStatusTable, readStatusDir } from '../../libs/status/table.ts';
import { startReporter, type RunningReporter } from '../../services/reporter/reporter.ts';
import { eventually, quietLog, startEdgeEnv, type EdgeEnv } from './edge-support.ts';

let env: EdgeEnv;
let statusDir: string;
before(async () => { env = await startEdgeEnv(); statusDir = join(env.dir, '.gantry-status'); });
after(async () => { await env.close(); });

const cond = (type: string, status = 'True', reason = type) => ({ type, status, reason, message: '', observedGeneration: 2, lastTransitionTime: '2024-01-01T00:00:00Z' });
let n = 0;
async function report(kind: string, namespace: string, name: string, status: Record<string, unknown> | null) {
  const ref = { cluster: 'local', kind, namespace, name };
  await publishEvent(env.eventLog.js, ReportEventSchema, subjects.report(ref), {
    schema: REPORT_SCHEMA, ...ref, apiVersion: 'gateway.networking.k8s.io/v1', generation: 2,
    op: status ? 'upsert' : 'delete', status, emittedAt: new Date().toISOString(),
  }, `report-${++n}`);
}
async function proxy(event: ProxyEvent['event'], version: string, message?: string) {
  await publishEvent(env.eventLog.js, ProxyEventSchema, subjects.proxy('default/gw', 'envoy-1'), {
    schema: PROXY_SCHEMA, gateway: 'default/gw', node: 'envoy-1', event, typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
    version, replica: 'x', emittedAt: '2024-03-03T00:00:00Z', ...(message ? { errorDetail: { code: 13, message } } : {}),
  }, `proxy-${++n}`);
}
const gwStatus = { conditions: [cond('Accepted'), cond('Programmed')], listeners: [{ name: 'http', attachedRoutes: 0, conditions: [cond('Programmed')] }] };
const gwFile = () => join(statusDir, 'Gateway/default/gw.yaml');
const programmed = () => {
  const doc = parse(readFileSync(gwFile(), 'utf8'));
  return [doc.status.conditions.find((c: any) => c.type === 'Programmed'), doc.status.listeners[0].conditions[0]];
};

let reporter: RunningReporter;
test('reports become status files; cluster-scoped objects under _cluster; stale files are removed at start', async () => {
  mkdirSync(join(statusDir, 'HTTPRoute/default'), { recursive: true });
  writeFileSync(join(statusDir, 'HTTPRoute/default/stale.yaml'), 'kind: HTTPRoute\n');
  await report('Gateway', 'default', 'gw', gwStatus);
  await report('GatewayClass', '', 'gantry', { conditions: [cond('Accepted')] });
  reporter = await startReporter({ eventLog: env.eventLog, cluster: 'local', statusDir, log: quietLog });
  await reporter.caughtUp;
  assert.equal(existsSync(join(statusDir, 'HTTPRoute/default/stale.yaml')), false);
  const doc = parse(readFileSync(gwFile(), 'utf8'));
  assert.deepEqual(doc.metadata, { name: 'gw', namespace: 'default', generation: 2 });
  assert.equal(doc.apiVersion, 'gateway.networking.k8s.io/v1');
  assert.deepEqual(parse(readFileSync(join(statusDir, 'GatewayClass/_cluster/gantry.yaml'), 'utf8')).metadata, { name: 'gantry', generation: 2 });
});

test('a NACK from a proxy makes the Gateway and its listeners not Programmed until a later version is ACKed', async () => {
  await proxy('nack', 'v7', 'listener http: invalid filter');
  await eventually('Programmed False', async () => programmed()[0].status === 'False');
  const [gw, listener] = programmed();
  assert.deepEqual([gw.reason, gw.message], ['Invalid', 'rejected by proxy envoy-1: listener http: invalid filter']);
  assert.equal(listener.status, 'False');
  // The status table shows it.
  assert.match(formatStatusTable(readStatusDir(statusDir)), /Gateway\s+default\s+gw\s+2\s+-\s+Accepted=True Programmed=False\(Invalid\)\s+Programmed: rejected by proxy envoy-1/);
  // A new report for the Gateway while the NACK stands keeps it applied.
  await report('Gateway', 'default', 'gw', { ...gwStatus, addresses: [{ value: '127.0.0.1' }] });
  await eventually('the new report', async () => readFileSync(gwFile(), 'utf8').includes('127.0.0.1'));
  assert.equal(programmed()[0].status, 'False');
  await proxy('ack', 'v8');
  await eventually('Programmed True', async () => programmed()[0].status === 'True');
});

test('a tombstone report removes the status file', async () => {
  await report('GatewayClass', '', 'gantry', null);
  await eventually('the file removed', async () => !existsSync(join(statusDir, 'GatewayClass/_cluster/gantry.yaml')));
  await reporter.stop();
});
