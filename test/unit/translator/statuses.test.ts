import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROLLER, NOW, condition, encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, reportOf, run } from './fixtures.ts';

test('a GatewayClass of our controller is Accepted and SupportedVersion, with generation and time', () => {
  const result = run([gatewayClass()]);
  const report = reportOf(result, 'GatewayClass', 'gantry')!;
  assert.equal(report.cluster, 'local');
  assert.deepEqual(report.status.conditions, [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted by this controller', observedGeneration: 1, lastTransitionTime: NOW },
    { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: 'Gateway API version is supported', observedGeneration: 1, lastTransitionTime: NOW },
  ]);
});

test('classes, gateways and routes of another controller get no report at all', () => {
  const result = run([
    gatewayClass('other', 'example.com/other'),
    gateway('theirs', [httpListener('http')], { className: 'other' }),
    httpRoute('r', { parentRefs: [{ name: 'theirs' }] }),
  ]);
  assert.deepEqual(result.reports, []);
  assert.equal(result.snapshots.size, 0);
});

test('a Gateway with one HTTP listener is Accepted and Programmed, with the default address and full listener status', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')], { generation: 3 })]);
  const status = reportOf(result, 'Gateway', 'web')!.status;
  assert.deepEqual(status.addresses, [{ type: 'IPAddress', value: '192.0.2.10' }]);
  assert.equal(condition(status.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(status.conditions, 'Programmed')!.reason, 'Programmed');
  assert.equal(condition(status.conditions, 'Accepted')!.observedGeneration, 3);
  const [listener] = status.listeners as Array<Record<string, unknown>>;
  assert.equal(listener.name, 'http');
  assert.equal(listener.attachedRoutes, 0);
  assert.deepEqual(listener.supportedKinds, [
    { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
    { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' },
  ]);
  assert.deepEqual((listener.conditions as Array<{ type: string; status: string; reason: string }>).map((c) => [c.type, c.status, c.reason]), [
    ['Accepted', 'True', 'Accepted'],
    ['ResolvedRefs', 'True', 'ResolvedRefs'],
    ['Programmed', 'True', 'Programmed'],
    ['Conflicted', 'False', 'NoConflicts'],
  ]);
});

test('spec.addresses are reported instead of the default address', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')], { addresses: [{ value: '203.0.113.7' }] })]);
  assert.deepEqual(reportOf(result, 'Gateway', 'web')!.status.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
});

test('a listener of an unsupported protocol is UnsupportedProtocol with no supported kinds, and the Gateway is Accepted with ListenersNotValid', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http'), { name: 'tcp', port: 9000, protocol: 'example.com/SCTP' }])]);
  const status = reportOf(result, 'Gateway', 'web')!.status;
  const tcp = (status.listeners as Array<{ name: string; supportedKinds: unknown[]; conditions: unknown }>).find((l) => l.name === 'tcp')!;
  assert.deepEqual(tcp.supportedKinds, []);
  assert.equal(condition(tcp.conditions, 'Accepted')!.reason, 'UnsupportedProtocol');
  assert.equal(condition(tcp.conditions, 'Programmed')!.status, 'False');
  assert.deepEqual([condition(status.conditions, 'Accepted')!.status, condition(status.conditions, 'Accepted')!.reason], ['True', 'ListenersNotValid']);
  assert.deepEqual(result.snapshots.get('default/web')!.listeners.map((l) => l.name), ['default/web/http-80']);
});

test('a listener admitting an unknown route kind has ResolvedRefs=False InvalidRouteKinds and lists only supported kinds', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http', 80, {
    allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'FooRoute' }] },
  })])]);
  const [listener] = reportOf(result, 'Gateway', 'web')!.status.listeners as Array<{ supportedKinds: unknown[]; conditions: unknown }>;
  assert.deepEqual(listener.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
  assert.equal(condition(listener.conditions, 'ResolvedRefs')!.reason, 'InvalidRouteKinds');
});

test('attachedRoutes counts the routes attached to each listener', () => {
  const result = run([
    gatewayClass(),
    gateway('web', [httpListener('a', 80, { hostname: 'a.example.com' }), httpListener('b', 80, { hostname: 'b.example.com' })]),
    httpRoute('one', { parentRefs: [{ name: 'web' }] }),
    httpRoute('two', { parentRefs: [{ name: 'web', sectionName: 'b' }] }),
  ]);
  const listeners = reportOf(result, 'Gateway', 'web')!.status.listeners as Array<{ name: string; attachedRoutes: number }>;
  assert.deepEqual(listeners.map((l) => [l.name, l.attachedRoutes]), [['a', 1], ['b', 2]]);
});

test('without opts.now conditions carry the epoch, a value only tests should rely on', () => {
  const result = run([gatewayClass()], [], null);
  assert.equal(condition(reportOf(result, 'GatewayClass', 'gantry')!.status.conditions, 'Accepted')!.lastTransitionTime, '1970-01-01T00:00:00.000Z');
});

test('reports name the Gateways they depend on', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), httpRoute('r', { parentRefs: [{ name: 'web' }] })]);
  assert.deepEqual(reportOf(result, 'GatewayClass', 'gantry')!.gateways, ['default/web']);
  assert.deepEqual(reportOf(result, 'HTTPRoute', 'r')!.gateways, ['default/web']);
  assert.equal((reportOf(result, 'HTTPRoute', 'r')!.status.parents as Array<{ controllerName: string }>)[0].controllerName, CONTROLLER);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
