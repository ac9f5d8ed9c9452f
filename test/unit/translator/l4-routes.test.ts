// TCPRoute and UDPRoute: TCP listeners with tcp_proxy, UDP listeners with udp_proxy, route status.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { KubeObject } from '../../../libs/translator/api.ts';
import {
  condition, encodeEverySnapshot, gateway, gatewayClass, GW_API, httpListener, reportOf, routeParent, run, service, unpack,
} from './fixtures.ts';

function l4Route(kind: 'TCPRoute' | 'UDPRoute', name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: GW_API, kind, metadata: { name, namespace: 'default', generation: 1, ...metadata }, spec };
}

const tcpListener = (name: string, port: number) => ({ name, port, protocol: 'TCP' });
const udpListener = (name: string, port: number) => ({ name, port, protocol: 'UDP' });
const backends = [service('default', 'echo-a', [{ port: 3000 }]), service('default', 'echo-b', [{ port: 3000 }]), service('other', 'echo-c', [{ port: 3000 }])];

function listenerStatus(result: ReturnType<typeof run>, gw: string, listener: string) {
  const listeners = reportOf(result, 'Gateway', gw)!.status.listeners as Array<{ name: string; attachedRoutes: number; supportedKinds: unknown[]; conditions: unknown }>;
  return listeners.find((l) => l.name === listener)!;
}

function tcpProxyOf(result: ReturnType<typeof run>, gw: string, name: string) {
  const listener = result.snapshots.get(`default/${gw}`)!.listeners.find((l) => l.name === name)!;
  return unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', listener.filter_chains![0].filters![0].typed_config);
}

test('a TCP listener admits TCPRoutes only and proxies to the weighted backends with tcp_proxy weighted_clusters', () => {
  const result = run([
    gatewayClass(), gateway('tcp', [tcpListener('tcp', 9000)]),
    l4Route('TCPRoute', 'split', { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo-a', port: 3000, weight: 70 }, { name: 'echo-b', port: 3000, weight: 30 }] }] }),
  ], backends);
  const listener = listenerStatus(result, 'tcp', 'tcp');
  assert.deepEqual(listener.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]);
  assert.equal(listener.attachedRoutes, 1);
  const parent = routeParent(result, 'TCPRoute', 'split', 'tcp')!;
  assert.equal(condition(parent.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(parent.conditions, 'ResolvedRefs')!.status, 'True');
  const proxy = tcpProxyOf(result, 'tcp', 'default/tcp/tcp-9000');
  assert.deepEqual(proxy.weighted_clusters.clusters.map((c: { name: string; weight: number }) => [c.name, c.weight]), [
    ['k8s/default/echo-a/3000', 70], ['k8s/default/echo-b/3000', 30],
  ]);
  assert.ok(result.snapshots.get('default/tcp')!.clusters.some((c) => c.name === 'k8s/default/echo-a/3000'));
});

test('a TCPRoute naming an HTTP listener is NotAllowedByListeners and the listener counts no route', () => {
  const result = run([
    gatewayClass(), gateway('web', [httpListener('http', 5300, { allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] } })]),
    l4Route('TCPRoute', 'lost', { parentRefs: [{ name: 'web', sectionName: 'http' }], rules: [{ backendRefs: [{ name: 'echo-a', port: 3000 }] }] }),
  ], backends);
  assert.equal(condition(routeParent(result, 'TCPRoute', 'lost', 'web')!.conditions, 'Accepted')!.reason, 'NotAllowedByListeners');
  assert.equal(listenerStatus(result, 'web', 'http').attachedRoutes, 0);
});

test('several TCPRoutes on one listener are all Accepted and counted, but only the oldest is programmed', () => {
  const result = run([
    gatewayClass(), gateway('tcp', [tcpListener('tcp', 9000)]),
    l4Route('TCPRoute', 'a-newer', { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo-b', port: 3000 }] }] }, { creationTimestamp: '2025-01-02T00:00:00Z' }),
    l4Route('TCPRoute', 'z-older', { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo-a', port: 3000 }] }] }, { creationTimestamp: '2025-01-01T00:00:00Z' }),
  ], backends);
  assert.equal(listenerStatus(result, 'tcp', 'tcp').attachedRoutes, 2);
  for (const name of ['a-newer', 'z-older']) assert.equal(condition(routeParent(result, 'TCPRoute', name, 'tcp')!.conditions, 'Accepted')!.status, 'True');
  assert.equal(tcpProxyOf(result, 'tcp', 'default/tcp/tcp-9000').cluster, 'k8s/default/echo-a/3000');
});

test('a TCPRoute to a missing Service is ResolvedRefs=False/BackendNotFound and its connections go to a cluster without endpoints', () => {
  const result = run([
    gatewayClass(), gateway('tcp', [tcpListener('tcp', 9000)]),
    l4Route('TCPRoute', 'missing', { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'nope', port: 3000 }] }] }),
  ], backends);
  const parent = routeParent(result, 'TCPRoute', 'missing', 'tcp')!;
  assert.equal(condition(parent.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(parent.conditions, 'ResolvedRefs')!.reason, 'BackendNotFound');
  assert.equal(tcpProxyOf(result, 'tcp', 'default/tcp/tcp-9000').cluster, 'gantry/unavailable');
});

test('a cross-namespace backendRef of a TCPRoute needs a ReferenceGrant naming TCPRoute', () => {
  const objects: KubeObject[] = [
    gatewayClass(), gateway('tcp', [tcpListener('tcp', 9000)]),
    l4Route('TCPRoute', 'cross', { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo-c', namespace: 'other', port: 3000 }] }] }),
  ];
  const denied = run(objects, backends);
  assert.equal(condition(routeParent(denied, 'TCPRoute', 'cross', 'tcp')!.conditions, 'ResolvedRefs')!.reason, 'RefNotPermitted');
  const grant: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'other' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  };
  const granted = run([...objects, grant], backends);
  assert.equal(condition(routeParent(granted, 'TCPRoute', 'cross', 'tcp')!.conditions, 'ResolvedRefs')!.status, 'True');
  assert.equal(tcpProxyOf(granted, 'tcp', 'default/tcp/tcp-9000').cluster, 'k8s/other/echo-c/3000');
});

test('a UDP listener is a UDP socket whose udp_proxy routes every session to the UDPRoute backend', () => {
  const result = run([
    gatewayClass(), gateway('udp', [udpListener('dns', 5300)]),
    l4Route('UDPRoute', 'dns', { parentRefs: [{ name: 'udp' }], rules: [{ backendRefs: [{ name: 'echo-a', port: 3000 }] }] }),
  ], backends);
  assert.deepEqual(listenerStatus(result, 'udp', 'dns').supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'UDPRoute' }]);
  const listener = result.snapshots.get('default/udp')!.listeners.find((l) => l.name === 'default/udp/udp-5300')!;
  assert.equal(listener.address!.socket_address!.protocol, 'UDP');
  const proxy = unpack('envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig', listener.listener_filters![0].typed_config);
  const route = unpack('envoy.extensions.filters.udp.udp_proxy.v3.Route', proxy.matcher.on_no_match.action.typed_config);
  assert.equal(route.cluster, 'k8s/default/echo-a/3000');
});

test('a UDPRoute parentRef by port or sectionName attaches to that listener only', () => {
  const result = run([
    gatewayClass(), gateway('udp', [udpListener('a', 5300), udpListener('b', 5301)]),
    l4Route('UDPRoute', 'by-port', { parentRefs: [{ name: 'udp', port: 5300 }], rules: [{ backendRefs: [{ name: 'echo-a', port: 3000 }] }] }),
    l4Route('UDPRoute', 'by-section', { parentRefs: [{ name: 'udp', sectionName: 'b' }], rules: [{ backendRefs: [{ name: 'echo-b', port: 3000 }] }] }),
    l4Route('UDPRoute', 'wrong-port', { parentRefs: [{ name: 'udp', sectionName: 'b', port: 5300 }], rules: [{ backendRefs: [{ name: 'echo-b', port: 3000 }] }] }),
  ], backends);
  assert.equal(listenerStatus(result, 'udp', 'a').attachedRoutes, 1);
  assert.equal(listenerStatus(result, 'udp', 'b').attachedRoutes, 1);
  assert.equal(condition(routeParent(result, 'UDPRoute', 'wrong-port', 'udp')!.conditions, 'Accepted')!.reason, 'NoMatchingParent');
});

test('a TCP and a UDP listener may share a port number', () => {
  const result = run([gatewayClass(), gateway('both', [tcpListener('t', 53), udpListener('u', 53)])]);
  for (const name of ['t', 'u']) assert.equal(condition(listenerStatus(result, 'both', name).conditions, 'Conflicted')!.status, 'False');
  assert.deepEqual(result.snapshots.get('default/both')!.listeners.map((l) => l.name).sort(), ['default/both/tcp-53', 'default/both/udp-53']);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
