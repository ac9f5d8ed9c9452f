// HTTPRoute and GRPCRoute filters as Envoy route fields: header modifiers (rule and backendRef),
// URL rewrites, mirrors, CORS, and what a gRPC client gets instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../libs/xds/types.ts';
import { encodeEverySnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, run, service, unpack } from './fixtures.ts';

const base = [gatewayClass(), gateway('web', [httpListener('http')])];
const services = [service('default', 'app', [{ port: 8080 }]), service('default', 'mirror', [{ port: 80 }]), service('default', 'app2', [{ port: 9090 }])];

function routesOf(rule: Record<string, unknown>, kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute', variant: 'routes' | 'grpcRoutes' = 'routes'): Route[] {
  const build = kind === 'HTTPRoute' ? httpRoute : grpcRoute;
  const result = run([...base, build('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'app', port: 8080 }], ...rule }] })], services);
  return result.snapshots.get('default/web')![variant][0].virtual_hosts![0].routes!;
}

const headerFilter = (type: 'RequestHeaderModifier' | 'ResponseHeaderModifier') => ({
  type,
  [type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier']: {
    set: [{ name: 'X-Set', value: 'one' }], add: [{ name: 'X-Add', value: 'two' }, { name: 'x-add', value: 'ignored' }], remove: ['X-Gone'],
  },
});

test('RequestHeaderModifier: set overwrites, add appends, remove removes; the first of equivalent names wins', () => {
  const [route] = routesOf({ filters: [headerFilter('RequestHeaderModifier')] });
  assert.deepEqual(route.request_headers_to_add, [
    { header: { key: 'X-Set', value: 'one' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    { header: { key: 'X-Add', value: 'two' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
  ]);
  assert.deepEqual(route.request_headers_to_remove, ['x-gone']);
});

test('ResponseHeaderModifier becomes the response header fields of the route', () => {
  const [route] = routesOf({ filters: [headerFilter('ResponseHeaderModifier')] });
  assert.equal(route.response_headers_to_add!.length, 2);
  assert.deepEqual(route.response_headers_to_remove, ['x-gone']);
  assert.equal(route.request_headers_to_add, undefined);
});

test('per-backendRef header filters live on that backend\'s weighted cluster entry, even when it is the only one', () => {
  const [single] = routesOf({ backendRefs: [{ name: 'app', port: 8080, filters: [headerFilter('RequestHeaderModifier')] }] });
  const [entry] = single.route!.weighted_clusters!.clusters!;
  assert.equal(entry.name, 'k8s/default/app/8080');
  assert.equal(entry.request_headers_to_add!.length, 2);
  const [two] = routesOf({ backendRefs: [
    { name: 'app', port: 8080, weight: 1, filters: [headerFilter('ResponseHeaderModifier')] }, { name: 'app2', port: 9090, weight: 1 },
  ] });
  const clusters = two.route!.weighted_clusters!.clusters!;
  assert.equal(clusters[0].response_headers_to_add!.length, 2);
  assert.equal(clusters[1].response_headers_to_add, undefined);
});

test('URLRewrite ReplacePrefixMatch rewrites segment-wise: "/foo" → "/xyz", "/foo/…" → "/xyz/…", "/" strips the prefix', () => {
  const rewrite = (replacePrefixMatch: string) => routesOf({
    matches: [{ path: { type: 'PathPrefix', value: '/foo/' } }],
    filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch } } }],
  }).map((r) => [r.match!.path ?? r.match!.prefix, r.route!.prefix_rewrite]);
  assert.deepEqual(rewrite('/xyz'), [['/foo', '/xyz'], ['/foo/', '/xyz/']]);
  assert.deepEqual(rewrite('/xyz/'), [['/foo', '/xyz'], ['/foo/', '/xyz/']]);
  assert.deepEqual(rewrite('/'), [['/foo', '/'], ['/foo/', '/']]);
});

test('URLRewrite ReplaceFullPath replaces the whole path (query kept by Envoy); hostname becomes host_rewrite_literal', () => {
  const [route] = routesOf({
    matches: [{ path: { type: 'Exact', value: '/full/one' } }],
    filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example', path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }],
  });
  assert.deepEqual(route.route!.regex_rewrite, { pattern: { regex: '^/.*$' }, substitution: '/one' });
  assert.equal(route.route!.host_rewrite_literal, 'rewritten.example');
});

test('RequestMirror: every request by default, percent or fraction as a runtime fraction in millionths; the mirror cluster is in CDS', () => {
  const mirror = (extra: Record<string, unknown>) => ({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 }, ...extra } });
  const [route] = routesOf({ filters: [mirror({}), mirror({ percent: 25 }), mirror({ fraction: { numerator: 1, denominator: 3 } })] });
  assert.deepEqual(route.route!.request_mirror_policies, [
    { cluster: 'k8s/default/mirror/80' },
    { cluster: 'k8s/default/mirror/80', runtime_fraction: { default_value: { numerator: 250_000, denominator: 'MILLION' } } },
    { cluster: 'k8s/default/mirror/80', runtime_fraction: { default_value: { numerator: 333_333, denominator: 'MILLION' } } },
  ]);
  const snapshot = run([...base, httpRoute('m', { parentRefs: [{ name: 'web' }], rules: [{ filters: [mirror({})], backendRefs: [{ name: 'app', port: 8080 }] }] })], services).snapshots.get('default/web')!;
  assert.ok(snapshot.clusters.some((c) => c.name === 'k8s/default/mirror/80'));
});

test('CORS: a per-route CorsPolicy for the CORS filter, origins exact or "*"-wildcarded, non-matching preflights answered by Envoy', () => {
  const [route] = routesOf({ filters: [{ type: 'CORS', cors: {
    allowOrigins: ['https://www.foo.com', 'https://*.bar.com', '*'], allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['x-a'],
    exposeHeaders: ['x-b'], allowCredentials: true, maxAge: 3600,
  } }] });
  const policy = unpack('envoy.extensions.filters.http.cors.v3.CorsPolicy', route.typed_per_filter_config!['envoy.filters.http.cors']);
  assert.deepEqual(policy.allow_origin_string_match, [
    { exact: 'https://www.foo.com', ignore_case: true, match_pattern: 'exact' },
    { safe_regex: { regex: 'https://.*\\.bar\\.com' }, match_pattern: 'safe_regex' },
    { safe_regex: { regex: '.*' }, match_pattern: 'safe_regex' },
  ]);
  assert.equal(policy.allow_methods, 'GET, OPTIONS');
  assert.equal(policy.max_age, '3600');
  assert.deepEqual(policy.allow_credentials, { value: true });
  assert.deepEqual(policy.forward_not_matching_preflights, { value: false });
});

test('CORS without maxAge sends "Access-Control-Max-Age: 5", the spec default', () => {
  const [route] = routesOf({ filters: [{ type: 'CORS', cors: { allowOrigins: ['*'] } }] });
  assert.equal(unpack('envoy.extensions.filters.http.cors.v3.CorsPolicy', route.typed_per_filter_config!['envoy.filters.http.cors']).max_age, '5');
});

test('GRPCRoute filters: header modifiers and mirrors as for HTTPRoute', () => {
  const [route] = routesOf({
    filters: [headerFilter('RequestHeaderModifier'), { type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 } } }],
  }, 'GRPCRoute');
  assert.equal(route.request_headers_to_add!.length, 2);
  assert.deepEqual(route.route!.request_mirror_policies, [{ cluster: 'k8s/default/mirror/80' }]);
});

test('gRPC variant: no typed_per_filter_config anywhere (gRPC clients NACK filters they do not know)', () => {
  const [route] = routesOf({
    filters: [{ type: 'CORS', cors: { allowOrigins: ['*'] } }],
    backendRefs: [{ name: 'app', port: 8080, filters: [headerFilter('RequestHeaderModifier')] }],
  }, 'HTTPRoute', 'grpcRoutes');
  assert.equal(route.typed_per_filter_config, undefined);
  assert.equal(route.route!.weighted_clusters!.clusters![0].typed_per_filter_config, undefined);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
