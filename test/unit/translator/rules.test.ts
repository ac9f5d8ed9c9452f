// Rule-level behaviour beyond matching: timeouts, retries, rule names, and rules the translator
// cannot honour (left out, with the spec's reasons on the route's status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../libs/xds/types.ts';
import { condition, encodeEverySnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, routeParent, run, service } from './fixtures.ts';

const base = [gatewayClass(), gateway('web', [httpListener('http')])];
const app = service('default', 'app', [{ port: 8080 }]);
const toApp = { backendRefs: [{ name: 'app', port: 8080 }] };

function translateRules(rules: unknown[], kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute') {
  const build = kind === 'HTTPRoute' ? httpRoute : grpcRoute;
  const result = run([...base, build('r', { parentRefs: [{ name: 'web' }], rules }, { generation: 3 })], [app]);
  const routes: Route[] = result.snapshots.get('default/web')!.routes[0].virtual_hosts?.[0]?.routes ?? [];
  const parent = routeParent(result, kind, 'r', 'web')!;
  return { result, routes, parent, cond: (type: string) => condition(parent.conditions, type) };
}

test('timeouts.request → the route timeout ("0s" disables it); backendRequest → the per-try timeout', () => {
  const { routes } = translateRules([{ ...toApp, timeouts: { request: '1m', backendRequest: '1s500ms' } }]);
  assert.deepEqual(routes[0].route!.timeout, { seconds: 60 });
  assert.deepEqual(routes[0].route!.retry_policy, { per_try_timeout: { seconds: 1, nanos: 500_000_000 } });
  assert.deepEqual(translateRules([{ ...toApp, timeouts: { request: '0s' } }]).routes[0].route!.timeout, { seconds: 0 });
});

test('a backendRequest timeout longer than the request timeout: the rule is left out, Accepted=False UnsupportedValue', () => {
  const { routes, cond } = translateRules([{ ...toApp, timeouts: { request: '1s', backendRequest: '2s' } }]);
  assert.deepEqual(routes, []);
  assert.equal(cond('Accepted')!.status, 'False');
  assert.equal(cond('Accepted')!.reason, 'UnsupportedValue');
  assert.match(cond('Accepted')!.message, /backendRequest \(2s\) must not be longer than timeouts.request \(1s\)/);
  assert.equal(cond('Accepted')!.observedGeneration, 3);
});

test('retry: retriable status codes, attempts and backoff become the retry policy', () => {
  const { routes } = translateRules([{ ...toApp, retry: { codes: [503, 500], attempts: 3, backoff: '100ms' } }]);
  assert.deepEqual(routes[0].route!.retry_policy, {
    retry_on: 'retriable-status-codes,connect-failure,refused-stream,reset',
    retriable_status_codes: [500, 503],
    num_retries: { value: 3 },
    retry_back_off: { base_interval: { seconds: 0, nanos: 100_000_000 } },
  });
});

test('a named rule is named by its name in Envoy route names', () => {
  const { routes } = translateRules([{ name: 'checkout', ...toApp }, toApp]);
  assert.deepEqual(routes.map((r) => r.name).sort(), ['HTTPRoute/default/r/rule/1/match/0', 'HTTPRoute/default/r/rule/checkout/match/0']);
});

test('one bad rule among good ones: it alone is left out, Accepted=True and PartiallyInvalid=True naming it', () => {
  const { routes, cond } = translateRules([
    { matches: [{ path: { type: 'PathPrefix', value: '/good' } }], ...toApp },
    { matches: [{ path: { type: 'Exact', value: '/bad' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' } } }], ...toApp },
  ]);
  assert.deepEqual(routes.map((r) => r.match!.path ?? r.match!.prefix), ['/good', '/good/']);
  assert.equal(cond('Accepted')!.status, 'True');
  assert.equal(cond('PartiallyInvalid')!.status, 'True');
  assert.equal(cond('PartiallyInvalid')!.reason, 'UnsupportedValue');
  assert.match(cond('PartiallyInvalid')!.message, /rule 1: .*ReplacePrefixMatch only works with PathPrefix matches/);
});

test('values the API may add later (scheme, status code, filter type) are UnsupportedValue, never a crash', () => {
  const redirect = (requestRedirect: unknown) => translateRules([{ filters: [{ type: 'RequestRedirect', requestRedirect }] }]).cond('Accepted')!;
  assert.match(redirect({ scheme: 'ftp' }).message, /scheme: "ftp" is not supported; use http or https/);
  assert.match(redirect({ statusCode: 399 }).message, /statusCode: 399 is not supported/);
  const filter = translateRules([{ ...toApp, filters: [{ type: 'ExternalAuth', externalAuth: {} }] }]).cond('Accepted')!;
  assert.deepEqual([filter.status, filter.reason], ['False', 'UnsupportedValue']);
  const grpc = translateRules([{ ...toApp, filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'x' } }] }], 'GRPCRoute').cond('Accepted')!;
  assert.match(grpc.message, /GRPCRoute filter type "URLRewrite" is not supported/);
});

test('RequestRedirect with URLRewrite, or a filter twice, is IncompatibleFilters', () => {
  const both = translateRules([{ filters: [
    { type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: { hostname: 'x' } },
  ] }]).cond('Accepted')!;
  assert.deepEqual([both.status, both.reason], ['False', 'IncompatibleFilters']);
  const twice = translateRules([{ ...toApp, filters: [
    { type: 'RequestHeaderModifier', requestHeaderModifier: {} }, { type: 'RequestHeaderModifier', requestHeaderModifier: {} },
  ] }]).cond('Accepted')!;
  assert.equal(twice.reason, 'IncompatibleFilters');
});

test('an ExtensionRef filter Gantry cannot resolve: ResolvedRefs=False InvalidKind, and the rule answers 500', () => {
  const { routes, cond } = translateRules([{ ...toApp, filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Magic', name: 'm' } }] }]);
  assert.deepEqual(routes[0].direct_response, { status: 500 });
  assert.equal(cond('Accepted')!.status, 'True');
  assert.deepEqual([cond('ResolvedRefs')!.status, cond('ResolvedRefs')!.reason], ['False', 'InvalidKind']);
});

test('a mirror to a Service that does not exist: ResolvedRefs=False BackendNotFound, traffic still forwarded, no mirror', () => {
  const { routes, cond } = translateRules([{ ...toApp, filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'ghost', port: 80 } } }] }]);
  assert.deepEqual(routes[0].route!.cluster, 'k8s/default/app/8080');
  assert.equal(routes[0].route!.request_mirror_policies, undefined);
  assert.deepEqual([cond('ResolvedRefs')!.status, cond('ResolvedRefs')!.reason], ['False', 'BackendNotFound']);
});

test('a 500 share for unresolved backends: the gRPC variant sends that share to the unavailable cluster', () => {
  const { result } = translateRules([{ backendRefs: [{ name: 'app', port: 8080, weight: 3 }, { name: 'ghost', port: 80, weight: 1 }] }], 'GRPCRoute');
  const [failed, forward] = result.snapshots.get('default/web')!.grpcRoutes[0].virtual_hosts![0].routes!;
  assert.deepEqual(failed.match!.runtime_fraction, { default_value: { numerator: 250_000, denominator: 'MILLION' } });
  assert.deepEqual(failed.route, { cluster: 'gantry/unavailable' });
  assert.equal(forward.route!.cluster, 'k8s/default/app/8080');
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
