import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROXY_SCHEMA, type ProxyEvent } from '../../libs/contracts/index.ts';
import { applyProxyState, reduceProxyState, renderStatusYaml, statusFilePath, type ProxyStates } from '../../libs/status/index.ts';
import { formatStatusTable, readStatusDir, type StatusEntry } from '../../libs/status/table.ts';

const cond = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message, observedGeneration: 2, lastTransitionTime: '2024-01-01T00:00:00Z' });
const gatewayStatus = () => ({
  conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')],
  listeners: [{ name: 'http', attachedRoutes: 1, conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')] }],
});
const proxy = (event: ProxyEvent['event'], extra: Partial<ProxyEvent> = {}): ProxyEvent => ({
  schema: PROXY_SCHEMA, gateway: 'default/gw', node: 'envoy-1', event, typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  replica: 'x1', emittedAt: '2024-02-02T00:00:00Z', ...extra,
});

test('applyProxyState: a NACK turns the Gateway and every listener not Programmed, reason Invalid, with the proxy message', () => {
  let states: ProxyStates = new Map();
  states = reduceProxyState(states, proxy('nack', { version: 'v2', errorDetail: { code: 3, message: 'bad listener' } }));
  const out = applyProxyState(gatewayStatus(), states.get('default/gw')!);
  const programmed = (c: unknown) => (c as Array<Record<string, unknown>>).find((x) => x.type === 'Programmed');
  assert.deepEqual(programmed(out.conditions), {
    type: 'Programmed', status: 'False', reason: 'Invalid', message: 'rejected by proxy envoy-1: bad listener',
    observedGeneration: 2, lastTransitionTime: '2024-02-02T00:00:00Z',
  });
  const listener = (out.listeners as Array<{ conditions: unknown }>)[0];
  assert.equal(programmed(listener.conditions)!.status, 'False');
  assert.equal((out.conditions as unknown[]).length, 2, 'Accepted left as it was');
});

test('reduceProxyState: the rejection stands until an ACK of a later version of the same type from that node', () => {
  let s: ProxyStates = new Map();
  s = reduceProxyState(s, proxy('nack', { version: 'v2', errorDetail: { code: 3, message: 'bad' } }));
  s = reduceProxyState(s, proxy('ack', { version: 'v2' }));
  assert.equal(s.get('default/gw')?.length, 1, 'an ACK of the rejected version does not clear');
  s = reduceProxyState(s, proxy('ack', { version: 'v3', node: 'envoy-2' }));
  assert.equal(s.get('default/gw')?.length, 1, 'another node does not clear');
  s = reduceProxyState(s, proxy('ack', { version: 'v3', typeUrl: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }));
  assert.equal(s.get('default/gw')?.length, 1, 'another type does not clear');
  const unchanged = s;
  assert.equal(reduceProxyState(s, proxy('connected')), unchanged);
  s = reduceProxyState(s, proxy('ack', { version: 'v3' }));
  assert.equal(s.get('default/gw'), undefined);
});

test('applyProxyState: no rejections leaves the status unchanged', () => {
  const st = gatewayStatus();
  assert.equal(applyProxyState(st, []), st);
});

test('reduceProxyState: a disconnected proxy no longer holds its rejections', () => {
  let s: ProxyStates = reduceProxyState(new Map(), proxy('nack', { version: 'v2' }));
  s = reduceProxyState(s, proxy('disconnected'));
  assert.equal(s.size, 0);
});

test('formatStatusTable: key conditions per object, per parent for routes, and messages for what is not True', () => {
  const entries: StatusEntry[] = [
    { kind: 'HTTPRoute', namespace: 'default', name: 'web', generation: 3, path: '', status: { parents: [
      { parentRef: { name: 'gw', sectionName: 'http' }, conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'False', 'BackendNotFound', 'service default/nope not found')] },
      { parentRef: { name: 'gw2', namespace: 'infra' }, conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs')] },
    ] } },
    { kind: 'Gateway', namespace: 'default', name: 'gw', generation: 1, path: '', status: applyProxyState(gatewayStatus(), [{ node: 'e1', typeUrl: 't', version: 'v', message: 'boom', at: 'x' }]) },
    { kind: 'GatewayClass', namespace: '', name: 'gantry', generation: 1, path: '', status: { conditions: [cond('Accepted', 'True', 'Accepted')] } },
  ];
  assert.equal(formatStatusTable(entries), [
    'KIND          NAMESPACE  NAME    GEN  PARENT     CONDITIONS                                         MESSAGE',
    'GatewayClass  -          gantry  1    -          Accepted=True',
    'Gateway       default    gw      1    -          Accepted=True Programmed=False(Invalid)            Programmed: rejected by proxy e1: boom',
    'HTTPRoute     default    web     3    gw:http    Accepted=True ResolvedRefs=False(BackendNotFound)  ResolvedRefs: service default/nope not found',
    'HTTPRoute     default    web     3    infra/gw2  Accepted=True ResolvedRefs=True',
  ].join('\n'));
  assert.equal(formatStatusTable([]), 'No status written yet.');
});

test('readStatusDir: reads what the reporter writes, cluster-scoped under _cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-status-'));
  try {
    const write = (kind: string, ns: string, name: string, status: Record<string, unknown>) => {
      const path = join(dir, statusFilePath(kind, ns, name));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, renderStatusYaml({ apiVersion: 'gateway.networking.k8s.io/v1', kind, metadata: { name, ...(ns ? { namespace: ns } : {}), generation: 4 }, status }));
    };
    write('GatewayClass', '', 'gantry', { conditions: [] });
    write('Gateway', 'default', 'gw', { conditions: [] });
    writeFileSync(join(dir, 'Gateway/default/.abc.tmp'), 'partial');
    writeFileSync(join(dir, 'Gateway/default/broken.yaml'), ': : [');
    const got = readStatusDir(dir);
    assert.deepEqual(got.map((e) => [e.kind, e.namespace, e.name, e.generation, e.path, Boolean(e.error)]), [
      ['Gateway', 'default', 'broken', undefined, 'Gateway/default/broken.yaml', true],
      ['Gateway', 'default', 'gw', 4, 'Gateway/default/gw.yaml', false],
      ['GatewayClass', '', 'gantry', 4, 'GatewayClass/_cluster/gantry.yaml', false],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
