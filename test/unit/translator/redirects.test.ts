// RequestRedirect: the Location Envoy builds follows the spec's scheme and port rules, per listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../../../libs/xds/types.ts';
import { redirectFor } from '../../../libs/translator/filters.ts';
import { encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, run, service } from './fixtures.ts';

const http80 = { port: 80, protocol: 'HTTP' };
const http8080 = { port: 8080, protocol: 'HTTP' };
const https443 = { port: 443, protocol: 'HTTPS' };

test('no scheme, no port: the listener port, left out when it is the well-known one of the request scheme', () => {
  assert.equal(redirectFor({ statusCode: 302 }, http80).port, undefined);
  assert.equal(redirectFor({ statusCode: 302 }, http8080).port, 8080);
  assert.equal(redirectFor({ statusCode: 302 }, https443).port, undefined);
});

test('a scheme without a port goes to that scheme\'s well-known port, which Location leaves out', () => {
  assert.deepEqual(redirectFor({ scheme: 'https', statusCode: 302 }, http8080), { scheme: 'https', statusCode: 302 });
  assert.deepEqual(redirectFor({ scheme: 'http', statusCode: 302 }, https443), { scheme: 'http', statusCode: 302 });
});

test('an explicit port is written unless it is the well-known port of the resulting scheme', () => {
  assert.equal(redirectFor({ port: 80, statusCode: 302 }, http8080).port, undefined);
  assert.equal(redirectFor({ port: 8080, statusCode: 302 }, http80).port, 8080);
  assert.equal(redirectFor({ scheme: 'https', port: 443, statusCode: 302 }, http80).port, undefined);
  assert.equal(redirectFor({ scheme: 'https', port: 8443, statusCode: 302 }, http80).port, 8443);
  assert.equal(redirectFor({ port: 443, statusCode: 302 }, https443).port, undefined);
  assert.equal(redirectFor({ port: 443, statusCode: 302 }, http80).port, 443);
});

function redirectRoutes(filter: Record<string, unknown>, listenerPort = 80, matches: unknown[] = [{ path: { type: 'PathPrefix', value: '/old' } }]): Route[] {
  const result = run([gatewayClass(), gateway('web', [httpListener('http', listenerPort)]),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ matches, filters: [{ type: 'RequestRedirect', requestRedirect: filter }] }] })]);
  return result.snapshots.get('default/web')!.routes[0].virtual_hosts![0].routes!;
}

test('Envoy RedirectAction: scheme, host, port and code; 302 by default', () => {
  const [route] = redirectRoutes({ scheme: 'https', hostname: 'example.org', port: 8443, statusCode: 301 });
  assert.deepEqual(route.redirect, { response_code: 'MOVED_PERMANENTLY', scheme_redirect: 'https', host_redirect: 'example.org', port_redirect: 8443 });
  assert.deepEqual(redirectRoutes({ hostname: 'example.org' })[0].redirect, { response_code: 'FOUND', host_redirect: 'example.org' });
  assert.equal(redirectRoutes({}, 8080)[0].redirect!.port_redirect, 8080);
  for (const [code, name] of [[303, 'SEE_OTHER'], [307, 'TEMPORARY_REDIRECT'], [308, 'PERMANENT_REDIRECT']] as const) {
    assert.equal(redirectRoutes({ statusCode: code })[0].redirect!.response_code, name);
  }
});

test('redirect paths: ReplaceFullPath → path_redirect; ReplacePrefixMatch → prefix_rewrite per Envoy route of the PathPrefix', () => {
  assert.equal(redirectRoutes({ path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } })[0].redirect!.path_redirect, '/new');
  const routes = redirectRoutes({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } });
  assert.deepEqual(routes.map((r) => [r.match!.path ?? r.match!.prefix, r.redirect!.prefix_rewrite]), [
    ['/old', '/replacement-prefix'], ['/old/', '/replacement-prefix/'],
  ]);
});

test('a redirecting rule needs no backend: no cluster is added and ResolvedRefs stays True', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }] })],
  [service('default', 'app', [{ port: 80 }])]);
  assert.deepEqual(result.snapshots.get('default/web')!.clusters.map((c) => c.name), ['gantry/unavailable']);
});

test('the gRPC variant turns a redirect into a route to the unavailable cluster', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]),
    httpRoute('r', { parentRefs: [{ name: 'web' }], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }] })]);
  const [route] = result.snapshots.get('default/web')!.grpcRoutes[0].virtual_hosts![0].routes!;
  assert.equal(route.redirect, undefined);
  assert.deepEqual(route.route, { cluster: 'gantry/unavailable' });
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
