// ListenerSets: allowedListeners, ListenerSet status, route attachment through a ListenerSet
// parentRef, and conflicts with the Gateway's listeners and between ListenerSets.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../../../libs/translator/api.ts';
import { condition, encodeEverySnapshot, gatewayClass, GW_API, httpListener, httpRoute, reportOf, run, service } from './fixtures.ts';

function parentGateway(name: string, from?: string, more: Record<string, unknown> = {}, listeners = [httpListener('web', 80, { hostname: 'gw.example.com' })]): KubeObject {
  return {
    apiVersion: GW_API, kind: 'Gateway', metadata: { name, namespace: 'default', generation: 1 },
    spec: { gatewayClassName: 'gantry', listeners, ...(from ? { allowedListeners: { namespaces: { from, ...more } } } : {}) },
  };
}

function listenerSet(name: string, listeners: unknown[], extra: { namespace?: string; parent?: string; createdAt?: string; kind?: string } = {}): KubeObject {
  const kind = extra.kind ?? 'ListenerSet';
  return {
    apiVersion: kind === 'XListenerSet' ? 'gateway.networking.x-k8s.io/v1alpha1' : GW_API, kind,
    metadata: { name, namespace: extra.namespace ?? 'default', generation: 2, ...(extra.createdAt ? { creationTimestamp: extra.createdAt } : {}) },
    spec: { parentRef: { name: extra.parent ?? 'gw', namespace: 'default' }, listeners },
  };
}

const allNs = { allowedRoutes: { namespaces: { from: 'All' } } };
const namespace = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function setStatus(result: ReturnType<typeof run>, name: string, ns = 'default') {
  return reportOf(result, 'ListenerSet', name, ns)?.status as { conditions: unknown; listeners: Array<{ name: string; attachedRoutes: number; conditions: unknown }> };
}

test('a Gateway without allowedListeners takes no ListenerSet: NotAllowed, attachedListenerSets 0', () => {
  const result = run([gatewayClass(), parentGateway('gw'), listenerSet('ls', [httpListener('extra', 80, { hostname: 'ls.example.com' })])]);
  const ls = setStatus(result, 'ls');
  assert.deepEqual([condition(ls.conditions, 'Accepted')!.status, condition(ls.conditions, 'Accepted')!.reason], ['False', 'NotAllowed']);
  assert.equal(condition(ls.conditions, 'Programmed')!.reason, 'NotAllowed');
  assert.equal(reportOf(result, 'Gateway', 'gw')!.status.attachedListenerSets, 0);
});

test('allowedListeners from Same takes ListenerSets of the Gateway namespace only, and their listeners are programmed', () => {
  const result = run([
    gatewayClass(), parentGateway('gw', 'Same'),
    listenerSet('same', [httpListener('extra', 80, { hostname: 'ls.example.com', ...allNs })]),
    listenerSet('elsewhere', [httpListener('extra', 80, { hostname: 'other.example.com' })], { namespace: 'other' }),
  ]);
  const same = setStatus(result, 'same');
  assert.equal(condition(same.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(same.conditions, 'Programmed')!.reason, 'Programmed');
  assert.equal(condition(same.conditions, 'Accepted')!.observedGeneration, 2);
  assert.deepEqual(same.listeners.map((l) => [l.name, condition(l.conditions, 'Programmed')!.status]), [['extra', 'True']]);
  assert.equal(condition(setStatus(result, 'elsewhere', 'other').conditions, 'Accepted')!.reason, 'NotAllowed');
  const gw = reportOf(result, 'Gateway', 'gw')!.status;
  assert.equal(gw.attachedListenerSets, 1);
  assert.deepEqual((gw.listeners as Array<{ name: string }>).map((l) => l.name), ['web'], 'a ListenerSet listener is not a Gateway listener');
});

test('allowedListeners from Selector takes ListenerSets of namespaces with matching labels', () => {
  const result = run([
    gatewayClass(), parentGateway('gw', 'Selector', { selector: { matchLabels: { team: 'a' } } }),
    namespace('team-a', { team: 'a' }), namespace('team-b', { team: 'b' }),
    listenerSet('ls', [httpListener('x', 80, { hostname: 'a.example.com' })], { namespace: 'team-a' }),
    listenerSet('ls', [httpListener('x', 80, { hostname: 'b.example.com' })], { namespace: 'team-b' }),
  ]);
  assert.equal(condition(setStatus(result, 'ls', 'team-a').conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(setStatus(result, 'ls', 'team-b').conditions, 'Accepted')!.reason, 'NotAllowed');
});

test('a route attaches to a ListenerSet through a parentRef naming it, never through the Gateway, and status is per parentRef', () => {
  const result = run([
    gatewayClass(), parentGateway('gw', 'Same', {}, [httpListener('web', 80, { hostname: 'gw.example.com' })]),
    listenerSet('ls', [httpListener('extra', 80, { hostname: 'ls.example.com' })]),
    httpRoute('to-set', { parentRefs: [{ kind: 'ListenerSet', name: 'ls' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] }),
    httpRoute('to-gw-section', { parentRefs: [{ name: 'gw', sectionName: 'extra' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] }),
    httpRoute('to-gw', { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] }),
  ], [service('default', 'svc', [{ port: 80 }])]);
  const parents = (name: string) => reportOf(result, 'HTTPRoute', name)!.status.parents as Array<{ parentRef: Record<string, string>; conditions: unknown }>;
  assert.deepEqual(parents('to-set').map((p) => [p.parentRef.group, p.parentRef.kind, p.parentRef.name, condition(p.conditions, 'Accepted')!.status]),
    [['gateway.networking.k8s.io', 'ListenerSet', 'ls', 'True']]);
  assert.equal(condition(parents('to-gw-section')[0].conditions, 'Accepted')!.reason, 'NoMatchingParent');
  assert.deepEqual(setStatus(result, 'ls').listeners.map((l) => l.attachedRoutes), [1]);
  assert.equal((reportOf(result, 'Gateway', 'gw')!.status.listeners as Array<{ attachedRoutes: number }>)[0].attachedRoutes, 1);
  const domains = result.snapshots.get('default/gw')!.routes[0].virtual_hosts!.flatMap((v) => v.domains);
  assert.ok(domains.includes('ls.example.com') && domains.includes('gw.example.com'));
});

test('hostname conflicts: the Gateway listener wins, then the oldest ListenerSet; a ListenerSet left without listeners is ListenersNotValid', () => {
  const dup = (name: string, hostname: string) => httpListener(name, 80, { hostname });
  const result = run([
    gatewayClass(), parentGateway('gw', 'Same', {}, [dup('taken', 'taken.example.com')]),
    listenerSet('older', [dup('own', 'older.example.com'), dup('taken', 'taken.example.com'), dup('shared', 'shared.example.com')], { createdAt: '2025-01-01T00:00:00Z' }),
    listenerSet('a-newer', [dup('shared', 'shared.example.com')], { createdAt: '2025-01-02T00:00:00Z' }),
  ]);
  const older = setStatus(result, 'older');
  const byName = new Map(older.listeners.map((l) => [l.name, l]));
  assert.equal(condition(byName.get('own')!.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(byName.get('shared')!.conditions, 'Accepted')!.status, 'True');
  for (const type of ['Accepted', 'Programmed']) assert.equal(condition(byName.get('taken')!.conditions, type)!.reason, 'HostnameConflict');
  assert.deepEqual([condition(byName.get('taken')!.conditions, 'Conflicted')!.status, condition(byName.get('taken')!.conditions, 'Conflicted')!.reason], ['True', 'HostnameConflict']);
  assert.equal(condition(older.conditions, 'Accepted')!.status, 'True');
  const newer = setStatus(result, 'a-newer');
  assert.deepEqual([condition(newer.conditions, 'Accepted')!.status, condition(newer.conditions, 'Accepted')!.reason], ['False', 'ListenersNotValid']);
  assert.equal(condition(newer.conditions, 'Programmed')!.reason, 'ListenersNotValid');
  assert.equal(condition(newer.listeners[0].conditions, 'Conflicted')!.reason, 'HostnameConflict');
  assert.equal(reportOf(result, 'Gateway', 'gw')!.status.attachedListenerSets, 1);
});

test('an XListenerSet (gateway.networking.x-k8s.io) is read like a ListenerSet', () => {
  const result = run([
    gatewayClass(), parentGateway('gw', 'All'),
    listenerSet('x', [httpListener('extra', 8080)], { kind: 'XListenerSet' }),
    httpRoute('r', { parentRefs: [{ group: 'gateway.networking.x-k8s.io', kind: 'XListenerSet', name: 'x' }] }),
  ]);
  const status = reportOf(result, 'XListenerSet', 'x')!.status as { conditions: unknown; listeners: Array<{ attachedRoutes: number }> };
  assert.equal(condition(status.conditions, 'Accepted')!.status, 'True');
  assert.equal(status.listeners[0].attachedRoutes, 1);
  assert.ok(result.snapshots.get('default/gw')!.listeners.some((l) => l.name === 'default/gw/http-8080'));
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
