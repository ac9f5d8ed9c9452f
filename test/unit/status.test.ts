import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROXY_SCHEMA, type ProxyEvent } from '../../libs/contracts/index.ts';
import {
  applyProxyState, applyRouteRejections, gatewayObjectKey, proxiesDocument, proxyStateChange, proxiesFilePath, reduceProxyState, reduceProxyTable, renderProxiesYaml,
  renderStatusYaml, statusDocument, statusFilePath, type ProxyStates, type ProxyTable,
} from '../../libs/status/index.ts';
import { formatProxiesTable, formatStatusTable, readProxiesDir, readStatusDir, type StatusEntry } from '../../libs/status/table.ts';
import { routeObjectOf } from '../../libs/xds-server/route-objects.ts';

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

// --- proxies: NACKed routes, the proxies table ----------------------------------------------------
const ROUTE_TYPE = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
const CLUSTER_TYPE = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const routeStatus = () => ({
  parents: [
    { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }, controllerName: 'c', conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs')] },
    { parentRef: { name: 'other', namespace: 'infra' }, controllerName: 'c', conditions: [cond('Accepted', 'True', 'Accepted')] },
  ],
});

test('routeObjectOf: Envoy route names Gantry generates name their route object', () => {
  assert.equal(routeObjectOf('HTTPRoute/default/web/rule/0/match/1'), 'HTTPRoute/default/web');
  assert.equal(routeObjectOf('GRPCRoute/apps/echo/rule/2/match/0'), 'GRPCRoute/apps/echo');
  assert.equal(routeObjectOf('gantry/not-found'), undefined);
});

test('applyRouteRejections: a NACK of a route configuration holding the route makes that Gateway\'s parent Accepted=False/UnsupportedValue', () => {
  let s: ProxyStates = new Map();
  s = reduceProxyState(s, proxy('nack', { typeUrl: ROUTE_TYPE, version: 'r2', errorDetail: { code: 3, message: 'bad regex' }, objects: ['HTTPRoute/default/web', 'HTTPRoute/default/other'] }));
  const out = applyRouteRejections(routeStatus(), 'HTTPRoute/default/web', 'default', s);
  const [mine, theirs] = out.parents as Array<{ conditions: Array<Record<string, unknown>> }>;
  assert.deepEqual(mine.conditions[0], {
    type: 'Accepted', status: 'False', reason: 'UnsupportedValue', observedGeneration: 2, lastTransitionTime: '2024-02-02T00:00:00Z',
    message: 'rejected by proxy envoy-1: bad regex (the proxy keeps serving its last accepted version)',
  });
  assert.equal(mine.conditions[1].status, 'True', 'ResolvedRefs left alone');
  assert.equal(theirs.conditions[0].status, 'True', 'another Gateway\'s parent is not affected');
  // A route not in the rejected configurations, or a NACK of another type, leaves the status as it was.
  const st = routeStatus();
  assert.equal(applyRouteRejections(st, 'HTTPRoute/default/unrelated', 'default', s), st);
  const clusterNack = reduceProxyState(new Map(), proxy('nack', { typeUrl: CLUSTER_TYPE, version: 'c2' }));
  assert.equal(applyRouteRejections(st, 'HTTPRoute/default/web', 'default', clusterNack), st);
  // statusDocument applies it to routes; an ACK of a later RDS version clears it.
  const report = { schema: 'gantry.report/v1' as const, cluster: 'local', kind: 'HTTPRoute', namespace: 'default', name: 'web', apiVersion: 'gateway.networking.k8s.io/v1', generation: 2, op: 'upsert' as const, status: routeStatus(), snapshots: {}, emittedAt: 'x' };
  assert.equal((statusDocument(report, s).status.parents as any)[0].conditions[0].status, 'False');
  s = reduceProxyState(s, proxy('ack', { typeUrl: ROUTE_TYPE, version: 'r3' }));
  assert.equal((statusDocument(report, s).status.parents as any)[0].conditions[0].status, 'True');
});

test('reduceProxyState: a late disconnect of an older stream does not clear a NACK the new stream reported', () => {
  let s: ProxyStates = reduceProxyState(new Map(), proxy('nack', { version: 'v2', stream: 'r2#7' }));
  s = reduceProxyState(s, proxy('disconnected', { stream: 'r1#3' }));
  assert.equal(s.get('default/gw')?.length, 1);
  s = reduceProxyState(s, proxy('disconnected', { stream: 'r2#7' }));
  assert.equal(s.size, 0);
});

test('reduceProxyTable: per proxy the ACKed version per type, standing NACKs, replica and last seen; a reconnect survives the old stream\'s late disconnect', () => {
  let t: ProxyTable = new Map();
  t = reduceProxyTable(t, proxy('connected', { stream: 'r1#1', emittedAt: 't1' }));
  t = reduceProxyTable(t, proxy('ack', { stream: 'r1#1', version: 'l1', emittedAt: 't2' }));
  t = reduceProxyTable(t, proxy('ack', { stream: 'r1#1', typeUrl: CLUSTER_TYPE, version: 'c1', emittedAt: 't3' }));
  t = reduceProxyTable(t, proxy('nack', { stream: 'r1#1', version: 'l2', errorDetail: { code: 3, message: 'bad listener' }, emittedAt: 't4' }));
  assert.deepEqual(t.get('default/gw')?.get('envoy-1'), {
    node: 'envoy-1', replica: 'x1', stream: 'r1#1', lastSeen: 't4',
    types: { LDS: { acked: 'l1', nack: { version: 'l2', message: 'bad listener', at: 't4' } }, CDS: { acked: 'c1' } },
  });
  // The proxy moves to replica x2 (connection age); x1's disconnect arrives after.
  t = reduceProxyTable(t, proxy('connected', { stream: 'r2#1', replica: 'x2', emittedAt: 't5' }));
  const moved = t;
  t = reduceProxyTable(t, proxy('disconnected', { stream: 'r1#1', replica: 'x1', emittedAt: 't6' }));
  assert.equal(t, moved, 'a late disconnect of the old stream is ignored');
  assert.equal(t.get('default/gw')?.get('envoy-1')?.replica, 'x2');
  t = reduceProxyTable(t, proxy('ack', { stream: 'r2#1', replica: 'x2', version: 'l3', emittedAt: 't7' }));
  assert.deepEqual(t.get('default/gw')?.get('envoy-1')?.types.LDS, { acked: 'l3' }, 'an ACK of a later version clears the NACK');
  t = reduceProxyTable(t, proxy('disconnected', { stream: 'r2#1', replica: 'x2' }));
  assert.equal(t.size, 0);
});

test('proxies files: written per Gateway under _proxies, read back by gantry status as a second table', () => {
  let t: ProxyTable = new Map();
  t = reduceProxyTable(t, proxy('ack', { stream: 's1', version: 'l1', emittedAt: '2024-05-05T10:00:00Z' }));
  t = reduceProxyTable(t, proxy('nack', { stream: 's1', typeUrl: ROUTE_TYPE, version: 'r9', errorDetail: { code: 3, message: 'invalid route' }, emittedAt: '2024-05-05T10:00:01Z' }));
  t = reduceProxyTable(t, proxy('ack', { node: 'envoy-2', stream: 's2', typeUrl: CLUSTER_TYPE, version: 'c1', replica: 'x2', emittedAt: '2024-05-05T09:00:00Z' }));
  assert.equal(proxiesFilePath('default/gw'), '_proxies/default/gw.yaml');
  const doc = proxiesDocument('default/gw', t)!;
  assert.equal(proxiesDocument('default/none', t), null);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-proxies-'));
  try {
    mkdirSync(join(dir, '_proxies/default'), { recursive: true });
    writeFileSync(join(dir, proxiesFilePath('default/gw')), renderProxiesYaml(doc));
    assert.deepEqual(readStatusDir(dir), [], 'the proxies directory is not read as objects');
    const read = readProxiesDir(dir);
    assert.deepEqual(read.errors, []);
    assert.equal(formatProxiesTable(read.gateways), [
      'GATEWAY     NODE     LDS  RDS   CDS  EDS  SDS  REPLICA  LAST SEEN             MESSAGE',
      'default/gw  envoy-1  l1   NACK  -    -    -    x1       2024-05-05T10:00:01Z  RDS r9: invalid route',
      'default/gw  envoy-2  -    -     c1   -    -    x2       2024-05-05T09:00:00Z',
    ].join('\n'));
    assert.equal(formatProxiesTable([]), 'No proxies connected.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a proxy event names the objects whose status it changes: the Gateway, and the routes rejected before or after', () => {
  const nack = proxyStateChange(new Map(), proxy('nack', { typeUrl: ROUTE_TYPE, version: 'v1', objects: ['HTTPRoute/default/a'] }))!;
  assert.deepEqual(nack.objects, ['Gateway/default/gw', 'HTTPRoute/default/a']);
  const cleared = proxyStateChange(nack.states, proxy('ack', { typeUrl: ROUTE_TYPE, version: 'v2' }))!;
  assert.deepEqual(cleared.objects, ['Gateway/default/gw', 'HTTPRoute/default/a'], 'the route rejected before is due again');
  assert.equal(cleared.states.size, 0);
  assert.equal(proxyStateChange(cleared.states, proxy('ack', { typeUrl: ROUTE_TYPE, version: 'v2' })), undefined, 'nothing changed');
  assert.equal(proxyStateChange(new Map(), proxy('nack', { gateway: 'no-slash' })), undefined);
  assert.equal(gatewayObjectKey('ns/gw'), 'Gateway/ns/gw');
});
