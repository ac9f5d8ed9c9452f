// TLSRoutes on TLS listeners: Passthrough proxies the encrypted stream by SNI, Terminate decrypts it
// with the listener's certificate first; hostnames, listener kinds and backends decide the status.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makePki, tlsSecret } from './certs.ts';
import { condition, encodeEverySnapshot, gateway, gatewayClass, httpListener, reportOf, routeParent, run, service, unpack, GW_API } from './fixtures.ts';
import type { KubeObject } from '../../../libs/translator/api.ts';

const pki = makePki();
const tlsCert = pki.leaf(['tls.example.com']);

function tlsRoute(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: GW_API, kind: 'TLSRoute', metadata: { name, namespace: 'default', generation: 1, ...metadata }, spec };
}

const passthrough = (name: string, more: Record<string, unknown> = {}) => ({ name, port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, ...more });
const terminate = (name: string, more: Record<string, unknown> = {}) => ({
  name, port: 443, protocol: 'TLS', tls: { mode: 'Terminate', certificateRefs: [{ name: 'tls-cert' }] }, ...more,
});
const backends = [service('default', 'db', [{ port: 5432 }]), service('other', 'db', [{ port: 5432 }])];
const toDb = (hostnames: string[], gw = 'edge', ref: Record<string, unknown> = {}) => ({
  parentRefs: [{ name: gw }], hostnames, rules: [{ backendRefs: [{ name: 'db', port: 5432, ...ref }] }],
});

test('a TLSRoute on a Passthrough listener is a tcp_proxy chain matching its hostnames by SNI, with no TLS context', () => {
  const result = run([gatewayClass(), gateway('edge', [passthrough('tls', { hostname: '*.example.com' })]), tlsRoute('db', toDb(['db.example.com']))], backends);
  const snap = result.snapshots.get('default/edge')!;
  assert.deepEqual(snap.listeners.map((l) => l.name), ['default/edge/tls-443']);
  const [chain] = snap.listeners[0].filter_chains!;
  assert.equal(chain.name, 'tls/tls/db.example.com');
  assert.deepEqual(chain.filter_chain_match!.server_names, ['db.example.com']);
  assert.equal(chain.transport_socket, undefined);
  const proxy = unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', chain.filters![0].typed_config);
  assert.equal(proxy.cluster, 'k8s/default/db/5432');
  assert.ok(snap.clusters.some((c) => c.name === 'k8s/default/db/5432'));
  assert.deepEqual(snap.routes, [], 'a TLS-only port has no HTTP route configuration');
  assert.deepEqual(snap.apiListeners, []);
  const parent = routeParent(result, 'TLSRoute', 'db', 'edge')!;
  assert.deepEqual(parent.conditions.map((c) => `${c.type}=${c.status}`), ['Accepted=True', 'ResolvedRefs=True']);
  const [listener] = reportOf(result, 'Gateway', 'edge')!.status.listeners as Array<{ supportedKinds: unknown[]; attachedRoutes: number }>;
  assert.deepEqual(listener.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }]);
  assert.equal(listener.attachedRoutes, 1);
});

test("a TLSRoute on a Terminate listener decrypts with the listener's certificate and proxies plain TCP", () => {
  const result = run([gatewayClass(), gateway('edge', [terminate('tls', { hostname: 'tls.example.com' })]), tlsSecret('tls-cert', tlsCert), tlsRoute('db', toDb(['tls.example.com']))], backends);
  const snap = result.snapshots.get('default/edge')!;
  const [chain] = snap.listeners[0].filter_chains!;
  const tls = unpack('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', chain.transport_socket!.typed_config);
  assert.deepEqual(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: { name: string }) => s.name), ['secret/default/tls-cert']);
  assert.equal(tls.common_tls_context.alpn_protocols, undefined, 'no ALPN: the stream is not HTTP');
  assert.equal(chain.filters![0].name, 'envoy.filters.network.tcp_proxy');
  assert.deepEqual(snap.secrets.map((s) => s.name), ['secret/default/tls-cert']);
});

test('Terminate and Passthrough listeners share a port: SNI picks the chain', () => {
  const result = run([
    gatewayClass(),
    gateway('edge', [terminate('term', { hostname: 'tls.example.com' }), passthrough('pass', { hostname: 'abc.example.com' })]),
    tlsSecret('tls-cert', tlsCert),
    tlsRoute('a', toDb(['abc.example.com'])), tlsRoute('t', toDb(['tls.example.com'])),
  ], backends);
  const chains = result.snapshots.get('default/edge')!.listeners[0].filter_chains!;
  assert.deepEqual(chains.map((c) => [c.name, Boolean(c.transport_socket)]), [['tls/pass/abc.example.com', false], ['tls/term/tls.example.com', true]]);
});

test('a TLSRoute whose hostnames miss the listener hostname is NoMatchingListenerHostname and attaches nowhere', () => {
  const result = run([gatewayClass(), gateway('edge', [passthrough('tls', { hostname: 'www.example.com' })]), tlsRoute('db', toDb(['www.nomatch.com', '*.nomatch.com']))], backends);
  const accepted = condition(routeParent(result, 'TLSRoute', 'db', 'edge')!.conditions, 'Accepted')!;
  assert.deepEqual([accepted.status, accepted.reason], ['False', 'NoMatchingListenerHostname']);
  assert.deepEqual(result.snapshots.get('default/edge')!.listeners, [], 'no chain, no listener: Envoy refuses a listener without filter chains');
});

test('a TLSRoute on an HTTP listener is NotAllowedByListeners; a TLS listener lists only TLSRoute and calls other kinds invalid', () => {
  const result = run([
    gatewayClass(),
    gateway('web', [httpListener('http')]),
    gateway('edge', [passthrough('tls', { allowedRoutes: { kinds: [{ kind: 'TCPRoute' }, { kind: 'TLSRoute' }] } })]),
    tlsRoute('db', toDb(['db.example.com'], 'web')),
  ], backends);
  assert.equal(condition(routeParent(result, 'TLSRoute', 'db', 'web')!.conditions, 'Accepted')!.reason, 'NotAllowedByListeners');
  const [listener] = reportOf(result, 'Gateway', 'edge')!.status.listeners as Array<{ supportedKinds: unknown[]; conditions: unknown }>;
  assert.deepEqual(listener.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute' }]);
  assert.equal(condition(listener.conditions, 'ResolvedRefs')!.reason, 'InvalidRouteKinds');
});

test('a TLSRoute backend in another namespace is RefNotPermitted without a ReferenceGrant from TLSRoutes; a missing Service is BackendNotFound', () => {
  const gw = gateway('edge', [passthrough('tls')]);
  const result = run([gatewayClass(), gw, tlsRoute('cross', toDb(['a.example.com'], 'edge', { namespace: 'other' })), tlsRoute('gone', toDb(['b.example.com'], 'edge', { name: 'gone' }))], backends);
  assert.equal(condition(routeParent(result, 'TLSRoute', 'cross', 'edge')!.conditions, 'ResolvedRefs')!.reason, 'RefNotPermitted');
  assert.equal(condition(routeParent(result, 'TLSRoute', 'gone', 'edge')!.conditions, 'ResolvedRefs')!.reason, 'BackendNotFound');
  const chains = result.snapshots.get('default/edge')!.listeners[0].filter_chains!;
  const clusters = chains.map((c) => unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', c.filters![0].typed_config).cluster);
  assert.deepEqual(clusters, ['gantry/unavailable', 'gantry/unavailable'], 'connections fail rather than reach the wrong place');

  const grant: KubeObject = {
    apiVersion: GW_API, kind: 'ReferenceGrant', metadata: { name: 'tls', namespace: 'other' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'TLSRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  };
  const granted = run([gatewayClass(), gw, grant, tlsRoute('cross', toDb(['a.example.com'], 'edge', { namespace: 'other' }))], backends);
  assert.equal(condition(routeParent(granted, 'TLSRoute', 'cross', 'edge')!.conditions, 'ResolvedRefs')!.status, 'True');
});

test('two TLSRoutes claiming one hostname: the older one gets the chain, both stay Accepted', () => {
  const result = run([
    gatewayClass(), gateway('edge', [passthrough('tls')]),
    tlsRoute('a-newer', toDb(['db.example.com'], 'edge', { name: 'cache' }), { creationTimestamp: '2025-02-01T00:00:00Z' }),
    tlsRoute('b-older', toDb(['db.example.com']), { creationTimestamp: '2025-01-01T00:00:00Z' }),
  ], [...backends, service('default', 'cache', [{ port: 5432 }])]);
  for (const name of ['a-newer', 'b-older']) assert.equal(condition(routeParent(result, 'TLSRoute', name, 'edge')!.conditions, 'Accepted')!.status, 'True');
  const chains = result.snapshots.get('default/edge')!.listeners[0].filter_chains!;
  assert.equal(chains.length, 1);
  const proxy = unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', chains[0].filters![0].typed_config);
  assert.equal(proxy.cluster, 'k8s/default/db/5432');
});

test('every TLS snapshot of this file encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
