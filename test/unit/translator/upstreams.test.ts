// Gantry's Upstream kind as a route backend: Static hosts (STATIC / STRICT_DNS clusters), Kube
// (the Service port's endpoints over EDS), protocol, TLS, connect timeout; its own Accepted status;
// references across namespaces; invalid specs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../libs/translator/api.ts';
import type { Cluster } from '../../../libs/xds/types.ts';
import { caConfigMap, makePki, tlsSecret } from './certs.ts';
import {
  condition, encodeEverySnapshot, gateway, gatewayClass, GW_API, grpcRoute, httpListener, httpRoute, reportOf, routeParent, run, service, unpack,
} from './fixtures.ts';

const GANTRY = 'gateway.gantry.dev';
const pki = makePki();
const client = pki.leaf(['gateway.example.com']);

function upstream(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: `${GANTRY}/v1alpha1`, kind: 'Upstream', metadata: { name, namespace: 'default', generation: 3, ...metadata }, spec };
}
const staticHosts = (...hosts: Array<{ address: string; port: number; weight?: number }>) => ({ type: 'Static', static: { hosts } });
const kube = (serviceName: string, servicePort: number, more: Record<string, unknown> = {}) => ({ type: 'Kube', kube: { serviceName, servicePort, ...more } });
const ref = (name: string, more: Record<string, unknown> = {}) => ({ group: GANTRY, kind: 'Upstream', name, ...more });
const toUpstream = (name: string, more: Record<string, unknown> = {}) =>
  httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [ref(name, more)] }] });

const base = [gatewayClass(), gateway('web', [httpListener('http')])];
const app = service('default', 'app', [{ port: 8080, endpoints: [{ address: '10.0.0.7', port: 8080, zone: 'a' }] }]);

const snapshot = (result: ReturnType<typeof run>) => result.snapshots.get('default/web')!;
const clusterOf = (result: ReturnType<typeof run>, name: string): Cluster | undefined => snapshot(result).clusters.find((c) => c.name === name);
const firstRoute = (result: ReturnType<typeof run>) => snapshot(result).routes[0].virtual_hosts![0].routes![0];
const accepted = (result: ReturnType<typeof run>, name: string, namespace = 'default') => {
  const c = condition(reportOf(result, 'Upstream', name, namespace)!.status.conditions, 'Accepted')!;
  return { status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration };
};
const resolvedRefs = (result: ReturnType<typeof run>, kind = 'HTTPRoute', name = 'r', gw = 'web') => condition(routeParent(result, kind, name, gw)!.conditions, 'ResolvedRefs')!;
const h2 = (c: Cluster) => c.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
const upstreamTls = (c: Cluster) => unpack('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', c.transport_socket!.typed_config);

test('a Static Upstream of IP addresses is a STATIC cluster holding its weighted hosts; the backendRef needs no port', () => {
  const result = run([...base,
    upstream('ips', staticHosts({ address: '192.0.2.1', port: 8080, weight: 3 }, { address: '2001:db8::1', port: 8443 })),
    toUpstream('ips'),
  ]);
  assert.deepEqual(accepted(result, 'ips'), { status: 'True', reason: 'Accepted', message: '', observedGeneration: 3 });
  assert.deepEqual(resolvedRefs(result).status, 'True');
  assert.deepEqual(firstRoute(result).route, { cluster: 'upstream/default/ips' });
  const cluster = clusterOf(result, 'upstream/default/ips')!;
  assert.deepEqual({ ...cluster }, {
    name: 'upstream/default/ips', type: 'STATIC', lb_policy: 'ROUND_ROBIN', connect_timeout: { seconds: 5 },
    load_assignment: {
      cluster_name: 'upstream/default/ips',
      endpoints: [{ lb_endpoints: [
        { endpoint: { address: { socket_address: { address: '192.0.2.1', port_value: 8080 } } }, load_balancing_weight: { value: 3 } },
        { endpoint: { address: { socket_address: { address: '2001:db8::1', port_value: 8443 } } }, load_balancing_weight: { value: 1 } },
      ] }],
    },
  });
  assert.ok(!snapshot(result).endpoints.some((e) => e.cluster_name === 'upstream/default/ips'), 'its hosts are in the cluster, not sent over EDS');
});

test('a Static Upstream naming a DNS host is STRICT_DNS (IPv4 preferred), IP literals included', () => {
  const result = run([...base,
    upstream('dns', staticHosts({ address: 'api.example.com', port: 443, weight: 2 }, { address: '192.0.2.9', port: 443 })),
    toUpstream('dns'),
  ]);
  const cluster = clusterOf(result, 'upstream/default/dns')!;
  assert.deepEqual([cluster.type, cluster.dns_lookup_family], ['STRICT_DNS', 'V4_PREFERRED']);
  assert.deepEqual(cluster.load_assignment!.endpoints![0].lb_endpoints!.map((e) => [e.endpoint!.address!.socket_address!.address, e.load_balancing_weight!.value]), [
    ['api.example.com', 2], ['192.0.2.9', 1],
  ]);
});

test('a Kube Upstream is an EDS cluster of its own with the Service port\'s endpoints, next to the Service\'s', () => {
  const result = run([...base,
    upstream('app-h2', kube('app', 8080, {}), {}),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [ref('app-h2', { weight: 1 }), { name: 'app', port: 8080, weight: 1 }] }] }),
  ], [app]);
  assert.equal(resolvedRefs(result).status, 'True');
  const cluster = clusterOf(result, 'upstream/default/app-h2')!;
  assert.deepEqual([cluster.type, cluster.eds_cluster_config!.service_name], ['EDS', 'upstream/default/app-h2']);
  const endpoints = (name: string) => snapshot(result).endpoints.find((e) => e.cluster_name === name)!.endpoints;
  assert.deepEqual(endpoints('upstream/default/app-h2'), endpoints('k8s/default/app/8080'));
  assert.deepEqual(endpoints('upstream/default/app-h2')![0].lb_endpoints!.map((e) => e.endpoint!.address!.socket_address!.address), ['10.0.0.7']);
  assert.deepEqual(firstRoute(result).route!.weighted_clusters!.clusters!.map((c) => c.name), ['upstream/default/app-h2', 'k8s/default/app/8080']);
});

test('a Kube Upstream whose Service or port is missing leaves the route BackendNotFound (500); the Upstream stays Accepted', () => {
  for (const [spec, message] of [
    [kube('gone', 8080), 'Upstream default/u: Service default/gone not found'],
    [kube('app', 9999), 'Upstream default/u: Service default/app has no port 9999'],
  ] as const) {
    const result = run([...base, upstream('u', spec), toUpstream('u')], [app]);
    assert.deepEqual([resolvedRefs(result).status, resolvedRefs(result).reason, resolvedRefs(result).message], ['False', 'BackendNotFound', message]);
    assert.deepEqual(firstRoute(result).direct_response, { status: 500 });
    assert.equal(accepted(result, 'u').status, 'True');
  }
});

test('a Kube Upstream pointing into another namespace needs a ReferenceGrant there from Upstreams', () => {
  const other = service('other', 'svc', [{ port: 80 }]);
  const u = upstream('far', kube('svc', 80, { serviceNamespace: 'other' }));
  const denied = run([...base, u, toUpstream('far')], [other]);
  assert.deepEqual([accepted(denied, 'far').status, accepted(denied, 'far').reason], ['False', 'RefNotPermitted']);
  assert.match(accepted(denied, 'far').message, /no ReferenceGrant in other allows Upstreams from default to refer to Service other\/svc/);
  assert.deepEqual([resolvedRefs(denied).reason, firstRoute(denied).direct_response], ['BackendNotFound', { status: 500 }]);
  assert.match(resolvedRefs(denied).message, /^Upstream default\/far is not Accepted: no ReferenceGrant/);
  const grant = {
    apiVersion: `${GW_API}`, kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'other' },
    spec: { from: [{ group: GANTRY, kind: 'Upstream', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  };
  const allowed = run([...base, u, toUpstream('far'), grant], [other]);
  assert.equal(accepted(allowed, 'far').status, 'True');
  assert.equal(firstRoute(allowed).route!.cluster, 'upstream/default/far');
});

test('protocol: H2C and GRPC get HTTP/2 upstream options, HTTP does not unless a GRPCRoute uses it', () => {
  const result = run([...base,
    upstream('h1', { ...kube('app', 8080), protocol: 'HTTP' }),
    upstream('h2c', { ...kube('app', 8080), protocol: 'H2C' }),
    upstream('grpc', { ...kube('app', 8080), protocol: 'GRPC' }),
    upstream('for-grpc', kube('app', 8080)),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [ref('h1'), ref('h2c'), ref('grpc')] }] }),
    grpcRoute('g', { parentRefs: [{ name: 'web' }], hostnames: ['grpc.example.com'], rules: [{ backendRefs: [ref('for-grpc')] }] }),
  ], [app]);
  assert.equal(h2(clusterOf(result, 'upstream/default/h1')!), undefined);
  for (const name of ['h2c', 'grpc', 'for-grpc']) {
    const opts = unpack('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', h2(clusterOf(result, `upstream/default/${name}`)!));
    assert.equal(opts.explicit_http_config.protocol_config, 'http2_protocol_options', name);
  }
});

test('protocol TCP: an HTTPRoute to it is UnsupportedProtocol and answers 500; a TCPRoute proxies to it', () => {
  const tcp = upstream('db', { ...staticHosts({ address: '192.0.2.5', port: 5432 }), protocol: 'TCP' });
  const http = run([...base, tcp, toUpstream('db')]);
  assert.deepEqual([resolvedRefs(http).status, resolvedRefs(http).reason], ['False', 'UnsupportedProtocol']);
  assert.match(resolvedRefs(http).message, /Upstream default\/db has protocol TCP/);
  assert.deepEqual(firstRoute(http).direct_response, { status: 500 });
  const l4 = run([gatewayClass(), gateway('tcp', [{ name: 'tcp', port: 5432, protocol: 'TCP' }]), tcp,
    { apiVersion: GW_API, kind: 'TCPRoute', metadata: { name: 't', namespace: 'default' }, spec: { parentRefs: [{ name: 'tcp' }], rules: [{ backendRefs: [ref('db')] }] } }]);
  assert.equal(resolvedRefs(l4, 'TCPRoute', 't', 'tcp').status, 'True');
  const listener = l4.snapshots.get('default/tcp')!.listeners[0];
  assert.equal(unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', listener.filter_chains![0].filters![0].typed_config).cluster, 'upstream/default/db');
  assert.equal(l4.snapshots.get('default/tcp')!.clusters.find((c) => c.name === 'upstream/default/db')!.type, 'STATIC');
});

test('connectTimeout is the cluster\'s connect_timeout', () => {
  const result = run([...base,
    upstream('slow', { ...staticHosts({ address: '192.0.2.1', port: 80 }), connectTimeout: '1m30s' }),
    upstream('fast', { ...staticHosts({ address: '192.0.2.2', port: 80 }), connectTimeout: '250ms' }),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [ref('slow'), ref('fast')] }] }),
  ]);
  assert.deepEqual(clusterOf(result, 'upstream/default/slow')!.connect_timeout, { seconds: 90 });
  assert.deepEqual(clusterOf(result, 'upstream/default/fast')!.connect_timeout, { seconds: 0, nanos: 250_000_000 });
});

test('tls: SNI, the ConfigMap\'s CA, SANs (DNS, URI, IP) and the client certificate as an SDS Secret', () => {
  const result = run([...base, caConfigMap('upstream-ca', pki.ca.cert), tlsSecret('client', client),
    upstream('secure', { ...staticHosts({ address: 'api.example.com', port: 443 }), tls: {
      sni: 'api.example.com', caCertificateRef: { name: 'upstream-ca' }, clientCertificateRef: { name: 'client' },
      subjectAltNames: ['api.example.com', 'spiffe://example.com/ns/default/sa/api', '192.0.2.1'],
    } }),
    toUpstream('secure'),
  ]);
  assert.equal(accepted(result, 'secure').status, 'True');
  const tls = upstreamTls(clusterOf(result, 'upstream/default/secure')!);
  assert.equal(tls.sni, 'api.example.com');
  const validation = tls.common_tls_context.validation_context;
  assert.equal(validation.trusted_ca.inline_string, pki.ca.cert.trim() + '\n');
  assert.deepEqual(validation.match_typed_subject_alt_names.map((m: { san_type: string; matcher: { exact: string } }) => [m.san_type, m.matcher.exact]), [
    ['DNS', 'api.example.com'], ['URI', 'spiffe://example.com/ns/default/sa/api'], ['IP_ADDRESS', '192.0.2.1'],
  ]);
  assert.deepEqual(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: { name: string }) => s.name), ['secret/default/client']);
  const secret = snapshot(result).secrets.find((s) => s.name === 'secret/default/client')!;
  assert.equal(secret.tls_certificate!.certificate_chain!.inline_string, client.cert.trim() + '\n');
});

test('tls without a CA trusts the system bundle; without SANs the SNI must be the certificate\'s name', () => {
  const result = run([...base, upstream('public', { ...staticHosts({ address: 'api.example.com', port: 443 }), tls: { sni: 'api.example.com' } }), toUpstream('public')]);
  const validation = upstreamTls(clusterOf(result, 'upstream/default/public')!).common_tls_context.validation_context;
  assert.equal(validation.trusted_ca.filename, '/etc/ssl/certs/ca-certificates.crt');
  assert.deepEqual(validation.match_typed_subject_alt_names.map((m: { matcher: { exact: string } }) => m.matcher.exact), ['api.example.com']);
  assert.deepEqual(snapshot(result).secrets, []);
});

test('a missing or unusable CA ConfigMap or client Secret: the Upstream is not Accepted and its routes get 500', () => {
  const spec = (tls: Record<string, unknown>) => ({ ...staticHosts({ address: '192.0.2.1', port: 443 }), tls });
  for (const [objects, tls, reason, message] of [
    [[], { caCertificateRef: { name: 'nope' } }, 'InvalidCACertificateRef', 'spec.tls: ConfigMap default/nope not found'],
    [[caConfigMap('empty', 'no pem here')], { caCertificateRef: { name: 'empty' } }, 'InvalidCACertificateRef', 'spec.tls: ConfigMap default/empty: ca.crt holds no PEM certificate'],
    [[], { clientCertificateRef: { name: 'nope' } }, 'InvalidClientCertificateRef', 'spec.tls: Secret default/nope not found'],
    [[tlsSecret('client', client, 'other')], { clientCertificateRef: { name: 'client' } }, 'InvalidClientCertificateRef', 'spec.tls: Secret default/client not found'],
  ] as const) {
    const result = run([...base, ...objects, upstream('u', spec(tls)), toUpstream('u')]);
    assert.deepEqual(accepted(result, 'u'), { status: 'False', reason, message, observedGeneration: 3 });
    assert.deepEqual([resolvedRefs(result).reason, resolvedRefs(result).message], ['BackendNotFound', `Upstream default/u is not Accepted: ${message}`]);
    assert.deepEqual(firstRoute(result).direct_response, { status: 500 });
    assert.equal(clusterOf(result, 'upstream/default/u'), undefined);
  }
});

test('TLS passthrough never originates the Upstream\'s TLS: the chain uses a plaintext copy of its cluster', () => {
  const result = run([gatewayClass(), gateway('edge', [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }]),
    upstream('secure', { ...staticHosts({ address: '192.0.2.1', port: 443 }), tls: { sni: 'db.example.com' } }),
    { apiVersion: GW_API, kind: 'TLSRoute', metadata: { name: 't', namespace: 'default' }, spec: { parentRefs: [{ name: 'edge' }], hostnames: ['db.example.com'], rules: [{ backendRefs: [ref('secure')] }] } },
  ]);
  const snap = result.snapshots.get('default/edge')!;
  const proxy = unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', snap.listeners[0].filter_chains![0].filters![0].typed_config);
  assert.equal(proxy.cluster, 'upstream/default/secure/passthrough');
  const cluster = snap.clusters.find((c) => c.name === 'upstream/default/secure/passthrough')!;
  assert.deepEqual([cluster.type, cluster.transport_socket], ['STATIC', undefined]);
  assert.ok(!snap.clusters.some((c) => c.name === 'upstream/default/secure'), 'the encrypting cluster is not used');
});

test('an unknown Upstream is BackendNotFound with a message, and answers 500', () => {
  const result = run([...base, toUpstream('nope')]);
  assert.deepEqual([resolvedRefs(result).status, resolvedRefs(result).reason, resolvedRefs(result).message], ['False', 'BackendNotFound', 'Upstream default/nope not found']);
  assert.deepEqual(firstRoute(result).direct_response, { status: 500 });
});

test('a route reaches an Upstream in another namespace only with a ReferenceGrant to Upstreams', () => {
  const far = upstream('far', staticHosts({ address: '192.0.2.1', port: 80 }), { namespace: 'other' });
  const route = toUpstream('far', { namespace: 'other' });
  const grant = (to: Record<string, string>) => ({
    apiVersion: GW_API, kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'other' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }], to: [to] },
  });
  for (const objects of [[], [grant({ group: '', kind: 'Service' })], [grant({ group: GANTRY, kind: 'Upstream', name: 'other-name' })]]) {
    const denied = run([...base, far, route, ...objects]);
    assert.deepEqual([resolvedRefs(denied).reason, firstRoute(denied).direct_response], ['RefNotPermitted', { status: 500 }]);
  }
  for (const to of [{ group: GANTRY, kind: 'Upstream' }, { group: GANTRY, kind: 'Upstream', name: 'far' }] as Array<Record<string, string>>) {
    const allowed = run([...base, far, route, grant(to)]);
    assert.equal(resolvedRefs(allowed).status, 'True');
    assert.equal(firstRoute(allowed).route!.cluster, 'upstream/other/far');
  }
});

test('an invalid spec is Accepted=False/Invalid naming the field; other objects are unaffected', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ type: 'Static' }, /^spec\.static: must be set when type is Static$/],
    [{ ...staticHosts({ address: '192.0.2.1', port: 80 }), kube: { serviceName: 'app', servicePort: 8080 } }, /^spec\.kube: must not be set when type is Static$/],
    [{ type: 'Kube', static: { hosts: [{ address: '192.0.2.1', port: 80 }] } }, /spec\.kube: must be set when type is Kube/],
    [{ ...staticHosts({ address: '192.0.2.1', port: 80 }), connectTimeout: '5 seconds' }, /^spec\.connectTimeout: must be a Gateway API duration/],
    [{ ...staticHosts({ address: '192.0.2.1', port: 80 }), connectTimeout: '0s' }, /^spec\.connectTimeout: must be more than 0$/],
    [staticHosts({ address: 'not a host', port: 80 }), /^spec\.static\.hosts\[0\]\.address: must be an IP address or a lowercase RFC 1123 DNS name$/],
    [staticHosts({ address: '192.0.2.1', port: 0 }), /^spec\.static\.hosts\[0\]\.port: /],
    [{ ...staticHosts({ address: '192.0.2.1', port: 80 }), protocol: 'UDP' }, /^spec\.protocol: /],
    [{ type: 'Elsewhere' }, /^spec\.type: /],
  ];
  for (const [spec, message] of cases) {
    const result = run([...base, upstream('bad', spec), upstream('good', staticHosts({ address: '192.0.2.2', port: 80 })),
      httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [ref('bad')] }, { matches: [{ path: { value: '/good' } }], backendRefs: [ref('good')] }] })]);
    const bad = accepted(result, 'bad');
    assert.deepEqual([bad.status, bad.reason, bad.observedGeneration], ['False', 'Invalid', 3], JSON.stringify(spec));
    assert.match(bad.message, message);
    assert.equal(accepted(result, 'good').status, 'True');
    assert.equal(resolvedRefs(result).reason, 'BackendNotFound');
    const routes = snapshot(result).routes[0].virtual_hosts![0].routes!;
    // PathPrefix /good is two Envoy routes (the exact path and the prefix "/good/").
    assert.deepEqual(routes.map((r) => r.route?.cluster ?? r.direct_response?.status), ['upstream/default/good', 'upstream/default/good', 500]);
  }
});

test('an Upstream of another apiVersion is not read (no report); a RequestMirror may target an Upstream', () => {
  const result = run([...base,
    { ...upstream('future', staticHosts({ address: '192.0.2.1', port: 80 })), apiVersion: `${GANTRY}/v2` },
    upstream('shadow', staticHosts({ address: '192.0.2.3', port: 80 })),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: ref('shadow') } }], backendRefs: [{ name: 'app', port: 8080 }] }] }),
  ], [app]);
  assert.equal(reportOf(result, 'Upstream', 'future'), undefined);
  assert.deepEqual(firstRoute(result).route!.request_mirror_policies!.map((m) => m.cluster), ['upstream/default/shadow']);
  assert.equal(clusterOf(result, 'upstream/default/shadow')!.type, 'STATIC');
});

test('every snapshot of this file encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
