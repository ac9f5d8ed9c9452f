import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../libs/xds/types.ts';
import { condition, encodeEverySnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, routeParent, run, service, unpack } from './fixtures.ts';

const base = [gatewayClass(), gateway('web', [httpListener('http')])];
const app = service('default', 'app', [{ port: 8080 }]);
const app2 = service('default', 'app2', [{ port: 9090, appProtocol: 'kubernetes.io/h2c' }]);
const other = service('other', 'svc', [{ port: 80 }]);

function firstRoute(result: ReturnType<typeof run>, variant: 'routes' | 'grpcRoutes' = 'routes'): Route {
  return result.snapshots.get('default/web')![variant][0].virtual_hosts![0].routes![0];
}

test('weighted backendRefs become weighted clusters; weight 0 is left out', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [
    { name: 'app', port: 8080, weight: 3 }, { name: 'app2', port: 9090, weight: 1 }, { name: 'other-app', port: 1, weight: 0 },
  ] }] })], [app, app2]);
  assert.deepEqual(firstRoute(result).route, { weighted_clusters: { clusters: [
    { name: 'k8s/default/app/8080', weight: { value: 3 } }, { name: 'k8s/default/app2/9090', weight: { value: 1 } },
  ] } });
});

test('clusters are EDS, round robin, 5s connect timeout; HTTP/2 upstream for h2c appProtocol and GRPCRoute backends', () => {
  const result = run([...base,
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'app', port: 8080 }, { name: 'app2', port: 9090 }] }] }),
    grpcRoute('g', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'svc', namespace: 'default', port: 7070 }] }] }),
  ], [app, app2, service('default', 'svc', [{ port: 7070 }])]);
  const clusters = result.snapshots.get('default/web')!.clusters;
  assert.deepEqual(clusters.map((c) => c.name), ['gantry/unavailable', 'k8s/default/app/8080', 'k8s/default/app2/9090', 'k8s/default/svc/7070']);
  const app8080 = clusters[1];
  assert.deepEqual({ ...app8080 }, {
    name: 'k8s/default/app/8080', type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'k8s/default/app/8080' },
    lb_policy: 'ROUND_ROBIN', connect_timeout: { seconds: 5 },
  });
  const h2 = (name: string) => {
    const opts = clusters.find((c) => c.name === name)!.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    return opts ? unpack('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', opts) : undefined;
  };
  assert.equal(h2('k8s/default/app/8080'), undefined);
  assert.deepEqual(h2('k8s/default/app2/9090')!.explicit_http_config, {
    http2_protocol_options: {}, protocol_config: 'http2_protocol_options',
  });
  assert.ok(h2('k8s/default/svc/7070'));
});

test('a cross-namespace backendRef without ReferenceGrant is RefNotPermitted and answers 500', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'svc', namespace: 'other', port: 80 }] }] })], [other]);
  const resolved = condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!;
  assert.deepEqual([resolved.status, resolved.reason], ['False', 'RefNotPermitted']);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'Accepted')!.status, 'True');
  assert.deepEqual(firstRoute(result).direct_response, { status: 500 });
});

function grant(from: Record<string, string>, to: Record<string, string>, apiVersion = 'gateway.networking.k8s.io/v1beta1') {
  return { apiVersion, kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'other' }, spec: { from: [from], to: [to] } };
}

test('a ReferenceGrant in the target namespace lets the route reach the Service (v1beta1 and v1, with or without name)', () => {
  for (const g of [
    grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }, { group: '', kind: 'Service' }),
    grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }, { group: '', kind: 'Service', name: 'svc' }, 'gateway.networking.k8s.io/v1'),
  ]) {
    const result = run([...base, g, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'svc', namespace: 'other', port: 80 }] }] })], [other]);
    assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!.status, 'True');
    assert.deepEqual(firstRoute(result).route, { cluster: 'k8s/other/svc/80' });
  }
});

test('a ReferenceGrant for another kind, namespace or Service name does not allow the reference', () => {
  for (const g of [
    grant({ group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: 'default' }, { group: '', kind: 'Service' }),
    grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'elsewhere' }, { group: '', kind: 'Service' }),
    grant({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }, { group: '', kind: 'Service', name: 'not-svc' }),
  ]) {
    const result = run([...base, g, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'svc', namespace: 'other', port: 80 }] }] })], [other]);
    assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!.reason, 'RefNotPermitted');
  }
});

test('a missing Service answers 500 in Envoy, routes to the unavailable cluster in the gRPC variant, and other rules keep working', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [
    { matches: [{ path: { type: 'Exact', value: '/missing' } }], backendRefs: [{ name: 'ghost', port: 80 }] },
    { matches: [{ path: { type: 'Exact', value: '/ok' } }], backendRefs: [{ name: 'app', port: 8080 }] },
  ] })], [app]);
  const resolved = condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!;
  assert.deepEqual([resolved.status, resolved.reason], ['False', 'BackendNotFound']);
  const snapshot = result.snapshots.get('default/web')!;
  const [missing, ok] = snapshot.routes[0].virtual_hosts![0].routes!;
  assert.deepEqual(missing.direct_response, { status: 500 });
  assert.deepEqual(ok.route, { cluster: 'k8s/default/app/8080' });
  const [grpcMissing, grpcOk] = snapshot.grpcRoutes[0].virtual_hosts![0].routes!;
  assert.equal(grpcMissing.direct_response, undefined);
  assert.deepEqual(grpcMissing.route, { cluster: 'gantry/unavailable' });
  assert.deepEqual(grpcOk.route, { cluster: 'k8s/default/app/8080' });
  assert.deepEqual(snapshot.endpoints.find((e) => e.cluster_name === 'gantry/unavailable'), { cluster_name: 'gantry/unavailable', endpoints: [] });
});

test('an unknown Service port is BackendNotFound', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'app', port: 1234 }] }] })], [app]);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!.reason, 'BackendNotFound');
});

test('a backendRef of an unsupported kind is InvalidKind', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ group: 'example.com', kind: 'Bucket', name: 'b' }] }] })]);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!.reason, 'InvalidKind');
});

test('mixed valid and invalid weighted backends: a first route answers 500 for the invalid share, the next forwards the rest', () => {
  const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [
    { name: 'app', port: 8080, weight: 80 }, { name: 'ghost', port: 80, weight: 20 },
  ] }] })], [app]);
  const [failed, forward] = result.snapshots.get('default/web')!.routes[0].virtual_hosts![0].routes!;
  assert.deepEqual(failed.match!.runtime_fraction, { default_value: { numerator: 200_000, denominator: 'MILLION' } });
  assert.deepEqual(failed.direct_response, { status: 500 });
  assert.equal(forward.match!.runtime_fraction, undefined);
  assert.deepEqual(forward.route, { cluster: 'k8s/default/app/8080' });
});

test('a rule without backendRefs, or whose backends all weigh 0, answers 500', () => {
  for (const backendRefs of [[], [{ name: 'app', port: 8080, weight: 0 }]]) {
    const result = run([...base, httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs }] })], [app]);
    assert.deepEqual(firstRoute(result).direct_response, { status: 500 });
    assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web')!.conditions, 'ResolvedRefs')!.status, 'True');
  }
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});

test('a backend port whose appProtocol Gantry cannot speak is ResolvedRefs=False/UnsupportedProtocol and answers 500; https needs a BackendTLSPolicy', () => {
  const svc = service('default', 'odd', [{ port: 1, appProtocol: 'kubernetes.io/mysql' }, { port: 2, name: 'tls', appProtocol: 'HTTPS' }, { port: 3, appProtocol: 'HTTP' }]);
  const to = (port: number) => httpRoute(`to-${port}`, { parentRefs: [{ name: 'web' }], hostnames: [`p${port}.example.com`], rules: [{ backendRefs: [{ name: 'odd', port }] }] });
  const policy = {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name: 'tls', namespace: 'default', generation: 1 },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: 'odd', sectionName: 'tls' }], validation: { hostname: 'odd.example.com', wellKnownCACertificates: 'System' } },
  };
  const resolved = (result: ReturnType<typeof run>, port: number) => condition(routeParent(result, 'HTTPRoute', `to-${port}`, 'web')!.conditions, 'ResolvedRefs')!;
  const without = run([...base, to(1), to(2), to(3)], [svc]);
  assert.equal(resolved(without, 1).reason, 'UnsupportedProtocol');
  assert.match(resolved(without, 1).message, /appProtocol kubernetes\.io\/mysql/);
  assert.equal(resolved(without, 2).reason, 'UnsupportedProtocol');
  assert.equal(resolved(without, 3).reason, 'ResolvedRefs');
  const vhost = without.snapshots.get('default/web')!.routes[0].virtual_hosts!.find((v) => v.name === 'p1.example.com')!;
  assert.deepEqual(vhost.routes![0].direct_response, { status: 500 });
  const withPolicy = run([...base, to(2), policy as never], [svc]);
  assert.equal(resolved(withPolicy, 2).reason, 'ResolvedRefs');
  assert.ok(encodeEverySnapshot() > 0);
});
