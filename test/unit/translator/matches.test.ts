import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route, RouteConfiguration } from '../../../libs/xds/types.ts';
import { encodeEverySnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, run, service } from './fixtures.ts';

const svc = service('default', 'app', [{ port: 8080 }]);

function envoyRoutes(rules: unknown[], kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute'): Route[] {
  const make = kind === 'HTTPRoute' ? httpRoute : grpcRoute;
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), make('r', { parentRefs: [{ name: 'web' }], rules })], [svc]);
  const [config] = result.snapshots.get('default/web')!.routes;
  return config.virtual_hosts![0].routes!;
}

const to = [{ name: 'app', port: 8080 }];

test('PathPrefix "/foo/" becomes the exact path "/foo" plus the prefix "/foo/", never path_separated_prefix', () => {
  const routes = envoyRoutes([{ matches: [{ path: { type: 'PathPrefix', value: '/foo/' } }], backendRefs: to }]);
  assert.deepEqual(routes.map((r) => r.match), [{ path: '/foo' }, { prefix: '/foo/' }]);
  assert.equal(JSON.stringify(routes).includes('path_separated_prefix'), false);
});

test('PathPrefix "/" and a rule without matches are the single prefix "/"', () => {
  assert.deepEqual(envoyRoutes([{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to }]).map((r) => r.match), [{ prefix: '/' }]);
  assert.deepEqual(envoyRoutes([{ backendRefs: to }]).map((r) => r.match), [{ prefix: '/' }]);
});

test('an Exact path is an Envoy exact path, a RegularExpression path a safe_regex', () => {
  assert.deepEqual(envoyRoutes([{ matches: [{ path: { type: 'Exact', value: '/exact' } }], backendRefs: to }])[0].match, { path: '/exact' });
  assert.deepEqual(envoyRoutes([{ matches: [{ path: { type: 'RegularExpression', value: '/v[0-9]+/.*' } }], backendRefs: to }])[0].match, { safe_regex: { regex: '/v[0-9]+/.*' } });
});

test('header, method and query parameter matches become Envoy header and query_parameters matchers', () => {
  const [route] = envoyRoutes([{
    matches: [{
      path: { type: 'Exact', value: '/x' },
      headers: [{ name: 'version', value: 'two' }, { type: 'RegularExpression', name: 'color', value: 'red|blue' }],
      queryParams: [{ name: 'animal', value: 'whale' }],
      method: 'POST',
    }],
    backendRefs: to,
  }]);
  assert.deepEqual(route.match, {
    path: '/x',
    headers: [
      { name: 'version', string_match: { exact: 'two' } },
      { name: 'color', string_match: { safe_regex: { regex: 'red|blue' } } },
      { name: ':method', string_match: { exact: 'POST' } },
    ],
    query_parameters: [{ name: 'animal', string_match: { exact: 'whale' } }],
  });
});

test('GRPCRoute method matches: service+method exact path, service-only prefix, method-only regex, all gRPC-only, longest service first', () => {
  const routes = envoyRoutes([{
    matches: [
      { method: { service: 'echo.Echo', method: 'Ping' } },
      { method: { service: 'echo.Echo' } },
      { method: { method: 'Ping' } },
      { method: { type: 'RegularExpression', service: 'echo\\..*' }, headers: [{ name: 'x-tenant', value: 'a' }] },
    ],
    backendRefs: to,
  }], 'GRPCRoute');
  assert.deepEqual(routes.map((r) => r.match), [
    { path: '/echo.Echo/Ping', grpc: {} },
    { prefix: '/echo.Echo/', grpc: {} },
    { safe_regex: { regex: '/echo\\..*/[^/]+' }, headers: [{ name: 'x-tenant', string_match: { exact: 'a' } }], grpc: {} },
    { safe_regex: { regex: '/[^/]+/Ping' }, grpc: {} },
  ]);
});

test('a GRPCRoute rule without matches matches every gRPC call, with no route timeout for long-lived streams', () => {
  const [route] = envoyRoutes([{ backendRefs: to }], 'GRPCRoute');
  assert.deepEqual(route.match, { prefix: '/', grpc: {} });
  assert.deepEqual(route.route, { cluster: 'k8s/default/app/8080', timeout: { seconds: 0 } });
});

test('the gRPC variant drops the gRPC-only content-type match, which proxyless clients do not need', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), grpcRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: to }] })], [svc]);
  const variant: RouteConfiguration = result.snapshots.get('default/web')!.grpcRoutes[0];
  assert.equal(variant.name, 'default/web/http-80/grpc');
  assert.deepEqual(variant.virtual_hosts![0].routes![0].match, { prefix: '/' });
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
