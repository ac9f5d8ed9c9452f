// The conformance route evaluator on hand-built Envoy configurations (config-dump JSON), one
// Envoy matching rule per test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backendResponseHeaders, evaluate, headerValue, redirectLocation, selectVirtualHost, type EnvoyConfig, type HttpRequest, type J } from '../conformance/route-evaluator.ts';

const RC = 'ns/gw/http-80';

function config(virtualHosts: J[], extra: Partial<EnvoyConfig> = {}): EnvoyConfig {
  const clusters = ['a', 'b', 'c'].map((n) => ({ name: `k8s/ns/${n}/8080`, type: 'EDS', edsClusterConfig: { serviceName: `k8s/ns/${n}/8080` } }));
  const endpoints = ['a', 'b', 'c'].map((n, i) => ({
    clusterName: `k8s/ns/${n}/8080`,
    endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: `127.0.0.${i + 2}`, portValue: 3000 } } } }] }],
  }));
  return {
    listeners: [{
      name: RC, address: { socketAddress: { address: '0.0.0.0', portValue: 80 } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { stripAnyHostPort: true, rds: { routeConfigName: RC } } }] }],
    }],
    routes: [{ name: RC, virtualHosts }],
    clusters, endpoints, ...extra,
  };
}

const req = (r: Partial<HttpRequest>): HttpRequest => ({ port: 80, scheme: 'http', host: 'example.com', path: '/', ...r });
const to = (svc: string) => ({ route: { cluster: `k8s/ns/${svc}/8080` } });

test('virtual host: exact domain beats the longest suffix wildcard, which beats prefix wildcards and *', () => {
  const rc = { virtualHosts: [
    { name: 'any', domains: ['*'] },
    { name: 'suffix-short', domains: ['*.com'] },
    { name: 'suffix-long', domains: ['*.example.com'] },
    { name: 'prefix', domains: ['api.*'] },
    { name: 'exact', domains: ['www.example.com', 'www.example.com:80'] },
  ] };
  assert.equal(selectVirtualHost(rc, 'www.example.com').name, 'exact');
  assert.equal(selectVirtualHost(rc, 'WWW.Example.com').name, 'exact');
  assert.equal(selectVirtualHost(rc, 'foo.example.com').name, 'suffix-long');
  assert.equal(selectVirtualHost(rc, 'foo.other.com').name, 'suffix-short');
  assert.equal(selectVirtualHost(rc, 'api.test').name, 'prefix');
  assert.equal(selectVirtualHost(rc, 'other.test').name, 'any');
  // A wildcard matches at least one character: "*.example.com" does not match "example.com".
  assert.equal(selectVirtualHost({ virtualHosts: [{ name: 'w', domains: ['*.example.com'] }] }, 'example.com'), undefined);
});

test('strip_any_host_port removes the port before virtual host matching', () => {
  const c = config([{ name: 'exact', domains: ['example.com'], routes: [{ name: 'r', match: { prefix: '/' }, ...to('a') }] }]);
  assert.equal(evaluate(c, req({ host: 'example.com:80' })).virtualHost, 'exact');
  c.listeners[0].filterChains[0].filters[0].typedConfig.stripAnyHostPort = false;
  assert.equal(evaluate(c, req({ host: 'example.com:80' })).status, 404);
});

test('routes are tried in order: the first match wins even when a later one is more specific', () => {
  const c = config([{ name: 'vh', domains: ['*'], routes: [
    { name: 'prefix', match: { prefix: '/' }, ...to('a') },
    { name: 'exact', match: { path: '/foo' }, ...to('b') },
  ] }]);
  const o = evaluate(c, req({ path: '/foo' }));
  assert.equal(o.route, 'prefix');
  assert.deepEqual(o.backends.map((b) => b.service?.name), ['a']);
});

test('prefix is a string prefix, path is exact, both ignore the query; headers and query parameters must all match', () => {
  const c = config([{ name: 'vh', domains: ['*'], routes: [
    { name: 'exact', match: { path: '/foo' }, ...to('a') },
    { name: 'hdr', match: { prefix: '/h', headers: [{ name: 'x-v', stringMatch: { exact: 'one' } }], queryParameters: [{ name: 'q', stringMatch: { exact: '1' } }] }, ...to('b') },
    { name: 'regex', match: { safeRegex: { regex: '/r/[0-9]+' } }, ...to('c') },
    { name: 'prefix', match: { prefix: '/foo' }, ...to('c') },
  ] }]);
  assert.equal(evaluate(c, req({ path: '/foo?x=1' })).route, 'exact');
  assert.equal(evaluate(c, req({ path: '/foobar' })).route, 'prefix');
  assert.equal(evaluate(c, req({ path: '/h?q=1', headers: { 'X-V': 'one' } })).route, 'hdr');
  assert.equal(evaluate(c, req({ path: '/h?q=2', headers: { 'X-V': 'one' } })).status, 404);
  assert.equal(evaluate(c, req({ path: '/h?q=1' })).status, 404);
  assert.equal(evaluate(c, req({ path: '/r/12' })).route, 'regex');
  assert.equal(evaluate(c, req({ path: '/r/x' })).status, 404);
});

test('redirects: scheme, host, port, path and status as Envoy builds the Location', () => {
  const c = config([{ name: 'vh', domains: ['*'], routes: [
    { name: 'https', match: { prefix: '/s' }, redirect: { schemeRedirect: 'https', responseCode: 'FOUND' } },
    { name: 'port', match: { prefix: '/p' }, redirect: { portRedirect: 8443, hostRedirect: 'other.test' } },
    { name: 'path', match: { prefix: '/old' }, redirect: { prefixRewrite: '/new', responseCode: 'PERMANENT_REDIRECT' } },
  ] }]);
  const s = evaluate(c, req({ host: 'example.com:80', path: '/s/x?y=1' }));
  assert.equal(s.status, 302);
  assert.equal(s.location, 'https://example.com/s/x?y=1'); // :80 dropped when the scheme changes
  assert.equal(evaluate(c, req({ path: '/p' })).location, 'http://other.test:8443/p');
  const p = evaluate(c, req({ path: '/old/a' }));
  assert.equal(p.status, 308);
  assert.equal(p.location, 'http://example.com/new/a');
  assert.equal(redirectLocation({ pathRedirect: '/fixed' }, { scheme: 'http', host: 'h:8080', path: '/x', query: 'q=1' }, 2), 'http://h:8080/fixed?q=1');
});

test('rewrites: prefix, regex and host; header changes at route, virtual host and weighted-cluster level', () => {
  const c = config([{
    name: 'vh', domains: ['*'], requestHeadersToAdd: [{ header: { key: 'x-vh', value: 'v' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
    routes: [
      { name: 'prefix', match: { prefix: '/prefix/' }, route: { cluster: 'k8s/ns/a/8080', prefixRewrite: '/', hostRewriteLiteral: 'new.test' },
        requestHeadersToAdd: [{ header: { key: 'x-add', value: 'b' } }, { header: { key: 'x-set', value: 's' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
        requestHeadersToRemove: ['x-remove'], responseHeadersToAdd: [{ header: { key: 'x-resp', value: 'r' } }] },
      { name: 'regex', match: { prefix: '/full/' }, route: { cluster: 'k8s/ns/a/8080', regexRewrite: { pattern: { regex: '^/full/(.*)$' }, substitution: '/\\1/x' } } },
    ],
  }]);
  const o = evaluate(c, req({ path: '/prefix/one?q=1', headers: { 'x-add': 'a', 'x-set': 'old', 'x-remove': 'gone' } }));
  const b = o.backends[0];
  assert.equal(b.request.path, '/one?q=1');
  assert.equal(b.request.host, 'new.test');
  assert.equal(headerValue(b.request.headers, 'x-add'), 'a,b');
  assert.equal(headerValue(b.request.headers, 'x-set'), 's');
  assert.equal(headerValue(b.request.headers, 'x-vh'), 'v');
  assert.equal(b.request.headers.has('x-remove'), false);
  assert.equal(evaluate(c, req({ path: '/full/a/b' })).backends[0].request.path, '/a/b/x');
});

test('weighted clusters give each backend its share; a cluster without endpoints answers 503', () => {
  const c = config([{ name: 'vh', domains: ['*'], routes: [
    { name: 'w', match: { prefix: '/w' }, route: { weightedClusters: { clusters: [
      { name: 'k8s/ns/a/8080', weight: 70, requestHeadersToAdd: [{ header: { key: 'x-which', value: 'a' } }] },
      { name: 'k8s/ns/b/8080', weight: 30 },
      { name: 'k8s/ns/c/8080', weight: 0 },
    ] } } },
    { name: 'none', match: { prefix: '/none' }, route: { cluster: 'k8s/ns/missing/8080' } },
    { name: 'direct', match: { prefix: '/d' }, directResponse: { status: 500 } },
  ] }]);
  const o = evaluate(c, req({ path: '/w' }));
  assert.deepEqual(o.backends.map((b) => [b.service?.name, b.share]), [['a', 0.7], ['b', 0.3], ['c', 0]]);
  assert.equal(headerValue(o.backends[0].request.headers, 'x-which'), 'a');
  assert.equal(o.backends[1].request.headers.has('x-which'), false);
  assert.equal(evaluate(c, req({ path: '/none' })).status, 503);
  assert.equal(evaluate(c, req({ path: '/d' })).status, 500);
});

test('no listener on the port, or plain HTTP on a TLS-only chain, is a connection failure (status 0)', () => {
  const c = config([{ name: 'vh', domains: ['*'], routes: [] }]);
  assert.equal(evaluate(c, req({ port: 8080 })).status, 0);
  c.listeners[0].filterChains[0].filterChainMatch = { serverNames: ['secure.test'] };
  c.listeners[0].filterChains[0].transportSocket = { name: 'envoy.transport_sockets.tls' };
  assert.equal(evaluate(c, req({ scheme: 'https', sni: 'other.test' })).status, 0);
  assert.equal(evaluate(c, req({ scheme: 'https', sni: 'secure.test' })).status, 404);
});

const CORS_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

function corsConfig(policy: J, withFilter = true): EnvoyConfig {
  const c = config([{ name: 'vh', domains: ['*'], routes: [
    { name: 'cors', match: { prefix: '/c' }, ...to('a'), responseHeadersToAdd: [{ header: { key: 'access-control-allow-origin', value: 'from-route' } }],
      typedPerFilterConfig: { 'envoy.filters.http.cors': { '@type': CORS_TYPE, ...policy } } },
  ] }]);
  if (withFilter) c.listeners[0].filterChains[0].filters[0].typedConfig.httpFilters = [{ name: 'envoy.filters.http.cors' }, { name: 'envoy.filters.http.router' }];
  return c;
}

const preflight = (origin: string, extra: Record<string, string> = {}) =>
  req({ path: '/c', method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', ...extra } });

test('CORS preflight: answered by the filter with the request origin, methods, headers, max age and credentials', () => {
  const c = corsConfig({
    allowOriginStringMatch: [{ exact: 'https://a.test', ignoreCase: true }, { safeRegex: { regex: 'https://.*\\.b\\.test' } }],
    allowMethods: 'GET, PUT', allowHeaders: 'x-1', exposeHeaders: 'x-3', maxAge: '60', allowCredentials: true, forwardNotMatchingPreflights: false,
  });
  const o = evaluate(c, preflight('https://A.test'));
  assert.equal(o.kind, 'direct');
  assert.equal(o.status, 200);
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-origin'), 'https://A.test');
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-methods'), 'GET, PUT');
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-headers'), 'x-1');
  assert.equal(headerValue(o.responseHeaders, 'access-control-max-age'), '60');
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-credentials'), 'true');
  assert.equal(o.responseHeaders.has('access-control-expose-headers'), false); // only on actual responses
  assert.equal(headerValue(evaluate(c, preflight('https://x.y.b.test')).responseHeaders, 'access-control-allow-origin'), 'https://x.y.b.test');
  // Not allowed, not forwarded: still answered by the filter, without Allow-Origin (credentials stay).
  const denied = evaluate(c, preflight('https://evil.test'));
  assert.equal(denied.kind, 'direct');
  assert.equal(denied.responseHeaders.has('access-control-allow-origin'), false);
  assert.equal(headerValue(denied.responseHeaders, 'access-control-allow-credentials'), 'true');
  // forward_not_matching_preflights unset (true): the preflight reaches the backend.
  const fwd = corsConfig({ allowOriginStringMatch: [{ exact: 'https://a.test' }] });
  assert.equal(evaluate(fwd, preflight('https://evil.test')).kind, 'route');
  // Without an Access-Control-Request-Method, OPTIONS is an ordinary request.
  assert.equal(evaluate(c, req({ path: '/c', method: 'OPTIONS', headers: { Origin: 'https://a.test' } })).kind, 'route');
});

test('CORS preflight: "*" methods and headers echo what the request asked for; "*" origin allows any origin', () => {
  const c = corsConfig({ allowOriginStringMatch: [{ safeRegex: { regex: '.*' } }], allowMethods: '*', allowHeaders: '*', forwardNotMatchingPreflights: false });
  const o = evaluate(c, preflight('https://any.test', { 'Access-Control-Request-Headers': 'x-a, x-b' }));
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-origin'), 'https://any.test');
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-methods'), 'PUT');
  assert.equal(headerValue(o.responseHeaders, 'access-control-allow-headers'), 'x-a, x-b');
  assert.equal(o.responseHeaders.has('access-control-allow-credentials'), false);
  assert.equal(headerValue(evaluate(corsConfig({ allowOriginStringMatch: [{ exact: '*' }] }), preflight('https://z.test')).responseHeaders, 'access-control-allow-origin'), 'https://z.test');
});

test('CORS actual request: the backend response gets Allow-Origin, credentials and expose headers; other origins nothing', () => {
  const c = corsConfig({ allowOriginStringMatch: [{ prefix: 'https://a.' }], exposeHeaders: 'x-3', allowCredentials: true });
  const o = evaluate(c, req({ path: '/c', headers: { Origin: 'https://a.test' } }));
  assert.equal(o.kind, 'route');
  assert.equal(headerValue(o.backends[0].request.headers, 'origin'), 'https://a.test');
  const h = backendResponseHeaders(c, o, o.backends[0], new Map());
  assert.equal(headerValue(h, 'access-control-allow-origin'), 'https://a.test'); // overwrites the route's value
  assert.equal(headerValue(h, 'access-control-allow-credentials'), 'true');
  assert.equal(headerValue(h, 'access-control-expose-headers'), 'x-3');
  const other = evaluate(c, req({ path: '/c', headers: { Origin: 'https://b.test' } }));
  const h2 = backendResponseHeaders(c, other, other.backends[0], new Map());
  assert.equal(headerValue(h2, 'access-control-allow-origin'), 'from-route');
  assert.equal(h2.has('access-control-allow-credentials'), false);
  // Without the filter in the connection manager, the policy does nothing.
  const off = corsConfig({ allowOriginStringMatch: [{ prefix: 'https://a.' }], allowMethods: 'GET', forwardNotMatchingPreflights: false }, false);
  assert.equal(evaluate(off, preflight('https://a.test')).kind, 'route');
});
