// Listener conflicts within a Gateway (ProtocolConflict, HostnameConflict), and Gateway-level status:
// infrastructure.parametersRef, spec.addresses, attachedRoutes on a listener that cannot be programmed.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../../../libs/translator/api.ts';
import { translate } from '../../../libs/translator/index.ts';
import { condition, CONTROLLER, gateway, gatewayClass, httpListener, httpRoute, reportOf, run, stored } from './fixtures.ts';

type ListenerStatus = { name: string; attachedRoutes: number; conditions: unknown };
const listenersOf = (result: ReturnType<typeof run>, gw: string) => new Map((reportOf(result, 'Gateway', gw)!.status.listeners as ListenerStatus[]).map((l) => [l.name, l]));

test('HTTP and TCP on one port are a ProtocolConflict: the first listener keeps the port, the second is Conflicted and not programmed', () => {
  const result = run([gatewayClass(), gateway('gw', [httpListener('http', 8000), { name: 'tcp', port: 8000, protocol: 'TCP' }])]);
  const listeners = listenersOf(result, 'gw');
  assert.equal(condition(listeners.get('http')!.conditions, 'Conflicted')!.status, 'False');
  const tcp = listeners.get('tcp')!.conditions;
  assert.deepEqual([condition(tcp, 'Conflicted')!.status, condition(tcp, 'Conflicted')!.reason], ['True', 'ProtocolConflict']);
  assert.deepEqual([condition(tcp, 'Accepted')!.status, condition(tcp, 'Programmed')!.reason], ['False', 'ProtocolConflict']);
  assert.deepEqual(result.snapshots.get('default/gw')!.listeners.map((l) => l.name), ['default/gw/http-8000']);
});

test('two HTTP listeners with the same port and hostname are a HostnameConflict; different hostnames share the port', () => {
  const result = run([gatewayClass(), gateway('gw', [
    httpListener('a', 80, { hostname: 'a.example.com' }), httpListener('b', 80, { hostname: 'b.example.com' }), httpListener('a-again', 80, { hostname: 'a.example.com' }),
  ])]);
  const listeners = listenersOf(result, 'gw');
  assert.equal(condition(listeners.get('b')!.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(listeners.get('a-again')!.conditions, 'Conflicted')!.reason, 'HostnameConflict');
  assert.equal(condition(reportOf(result, 'Gateway', 'gw')!.status.conditions, 'Accepted')!.reason, 'ListenersNotValid');
});

test('two TCP listeners on one port conflict (they have no hostname to tell them apart)', () => {
  const result = run([gatewayClass(), gateway('gw', [{ name: 'a', port: 9000, protocol: 'TCP' }, { name: 'b', port: 9000, protocol: 'TCP' }])]);
  assert.equal(condition(listenersOf(result, 'gw').get('b')!.conditions, 'Conflicted')!.reason, 'HostnameConflict');
});

test('routes attached to a Conflicted listener are not accepted by it', () => {
  const result = run([
    gatewayClass(), gateway('gw', [httpListener('a', 80), httpListener('b', 80)]),
    httpRoute('r', { parentRefs: [{ name: 'gw', sectionName: 'b' }] }),
  ]);
  const parent = (reportOf(result, 'HTTPRoute', 'r')!.status.parents as Array<{ conditions: unknown }>)[0];
  assert.equal(condition(parent.conditions, 'Accepted')!.reason, 'NotAllowedByListeners');
  assert.equal(listenersOf(result, 'gw').get('b')!.attachedRoutes, 0);
});

test('an unresolvable infrastructure.parametersRef makes the Gateway Accepted=False/InvalidParameters and it is not programmed', () => {
  const gw = gateway('gw', [httpListener('http')]);
  (gw.spec as Record<string, unknown>).infrastructure = { parametersRef: { group: 'invalid.io', kind: 'InvalidParameters', name: 'invalid' } };
  const result = run([gatewayClass(), gw]);
  const conditions = reportOf(result, 'Gateway', 'gw')!.status.conditions;
  assert.deepEqual([condition(conditions, 'Accepted')!.status, condition(conditions, 'Accepted')!.reason], ['False', 'InvalidParameters']);
  assert.equal(condition(conditions, 'Programmed')!.status, 'False');
  assert.ok(!result.snapshots.has('default/gw') && result.retained.includes('default/gw'));
});

function withAddresses(addresses: unknown[]) {
  const objects: KubeObject[] = [gatewayClass(), gateway('gw', [httpListener('http')], { addresses })];
  const result = translate({ objects: objects.map((o) => stored(o)), services: [] }, {
    controllerName: CONTROLLER, defaultAddress: '192.0.2.10', usableAddresses: ['127.0.0.1', '::1'],
  });
  return reportOf(result, 'Gateway', 'gw')!.status as { conditions: unknown; addresses: unknown };
}

test('a spec.addresses IP on a local interface is usable and reported in status.addresses', () => {
  const status = withAddresses([{ type: 'IPAddress', value: '127.0.0.1' }]);
  assert.equal(condition(status.conditions, 'Programmed')!.status, 'True');
  assert.deepEqual(status.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
});

test('a spec.addresses IP the proxy cannot bind is Programmed=False/AddressNotUsable', () => {
  const status = withAddresses([{ type: 'IPAddress', value: '198.51.100.1' }]);
  assert.deepEqual([condition(status.conditions, 'Programmed')!.status, condition(status.conditions, 'Programmed')!.reason], ['False', 'AddressNotUsable']);
});

test('an address of an unsupported type is Accepted=False/UnsupportedAddress; one without a value gets the default address', () => {
  const unsupported = withAddresses([{ type: 'test/fake-invalid-type', value: '198.51.100.1' }]);
  assert.deepEqual([condition(unsupported.conditions, 'Accepted')!.status, condition(unsupported.conditions, 'Accepted')!.reason], ['False', 'UnsupportedAddress']);
  const optional = withAddresses([{ type: 'IPAddress' }]);
  assert.equal(condition(optional.conditions, 'Programmed')!.status, 'True');
  assert.deepEqual(optional.addresses, [{ type: 'IPAddress', value: '192.0.2.10' }]);
});
