// Listener isolation: a request is answered only by routes of the most specific listener whose
// hostname matches its Host (plaintext), and, behind TLS, only when its SNI chose that same listener
// (421 Misdirected Request otherwise). Requests are judged by the conformance route evaluator on the
// encoded snapshot, i.e. on what Envoy would be sent.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { GatewaySnapshot, KubeObject } from '../../../libs/translator/api.ts';
import { encodeGatewaySnapshot, snapshotToJson } from '../../../libs/snapshots/encode.ts';
import { evaluate, type EnvoyConfig, type HttpRequest } from '../../conformance/route-evaluator.ts';
import { makePki, tlsSecret } from './certs.ts';
import { CONFORMANCE, conformanceObjects, encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, run, service } from './fixtures.ts';

const INFRA = 'gateway-conformance-infra';
const infra = ['v1', 'v2', 'v3'].map((v) => service(INFRA, `infra-backend-${v}`, [{ port: 8080 }]));

function envoy(snapshot: GatewaySnapshot): EnvoyConfig {
  return snapshotToJson(encodeGatewaySnapshot(snapshot)) as unknown as EnvoyConfig;
}

function ask(config: EnvoyConfig, r: Partial<HttpRequest> & { host: string; path: string }): { status: number; route?: string } {
  const outcome = evaluate(config, { port: 80, scheme: 'http', ...r });
  return { status: outcome.status, route: outcome.route };
}

interface CaseRequest { gateway: { namespace: string; name: string }; host: string; path: string; expectedStatusCode?: number; subtest: string }

test('conformance GatewayHTTPListenerIsolation: every request of the case gets the expected status (both Gateways)', () => {
  const cases = JSON.parse(readFileSync(`${CONFORMANCE}-cases.json`, 'utf8')) as Array<{ name: string; manifests: string[]; requests: CaseRequest[] }>;
  const isolation = cases.find((c) => c.name === 'GatewayHTTPListenerIsolation')!;
  const result = run([gatewayClass(), ...isolation.manifests.flatMap(conformanceObjects)], infra);
  assert.ok(isolation.requests.length >= 30);
  for (const r of isolation.requests) {
    const config = envoy(result.snapshots.get(`${r.gateway.namespace}/${r.gateway.name}`)!);
    assert.equal(ask(config, { host: r.host, path: r.path }).status, r.expectedStatusCode ?? 200, `${r.gateway.name}: ${r.subtest}`);
  }
  assert.ok(encodeEverySnapshot() > 0);
});

test('a route hostname reached through a less specific listener is shadowed; a listener without routes still owns its hosts', () => {
  const result = run([
    gatewayClass(),
    gateway('gw', [httpListener('any'), httpListener('wild', 80, { hostname: '*.example.com' }), httpListener('empty', 80, { hostname: '*.empty.example.com' })]),
    httpRoute('on-any', { parentRefs: [{ name: 'gw', sectionName: 'any' }], hostnames: ['a.example.com', 'other.org'], rules: [{ backendRefs: [{ name: 'a', port: 80 }] }] }),
    httpRoute('on-wild', { parentRefs: [{ name: 'gw', sectionName: 'wild' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/wild' } }], backendRefs: [{ name: 'a', port: 80 }] }] }),
  ], [service('default', 'a', [{ port: 80 }])]);
  const snap = result.snapshots.get('default/gw')!;
  const vhosts = snap.routes[0].virtual_hosts!.map((v) => [v.name, [...new Set((v.routes ?? []).map((r) => r.name!.split('/')[2]))]]);
  // "a.example.com" of on-any is owned by the "*.example.com" listener: left out.
  assert.deepEqual(vhosts, [['*', []], ['*.empty.example.com', []], ['*.example.com', ['on-wild']], ['other.org', ['on-any']]]);
  const config = envoy(snap);
  assert.equal(ask(config, { host: 'a.example.com', path: '/' }).status, 404);
  assert.equal(ask(config, { host: 'a.example.com', path: '/wild' }).status, 200);
  assert.equal(ask(config, { host: 'x.empty.example.com', path: '/wild' }).status, 404);
  assert.equal(ask(config, { host: 'other.org:80', path: '/' }).status, 200);
  // The proxyless gRPC variant has the same virtual hosts, with "host:port" domains for authorities.
  assert.deepEqual(snap.grpcRoutes[0].virtual_hosts!.map((v) => [v.name, v.domains]), snap.routes[0].virtual_hosts!.map((v) => [v.name, v.domains]));
  assert.deepEqual(snap.routes[0].virtual_hosts!.find((v) => v.name === '*.example.com')!.domains, ['*.example.com', '*.example.com:80']);
});

test('inside one listener, a host also gets the routes of its less specific hostnames, after its own', () => {
  const backendRefs = [{ name: 'a', port: 80 }];
  const result = run([
    gatewayClass(), gateway('gw', [httpListener('http')]),
    httpRoute('exact', { parentRefs: [{ name: 'gw' }], hostnames: ['a.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs }] }),
    httpRoute('wild', { parentRefs: [{ name: 'gw' }], hostnames: ['*.example.com'], rules: [{ matches: [{ path: { type: 'Exact', value: '/wild' } }], backendRefs }] }),
    httpRoute('any', { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'Exact', value: '/any' } }], backendRefs }] }),
  ], [service('default', 'a', [{ port: 80 }])]);
  const snap = result.snapshots.get('default/gw')!;
  const byHost = Object.fromEntries(snap.routes[0].virtual_hosts!.map((v) => [v.name, [...new Set((v.routes ?? []).map((r) => r.name!.split('/')[2]))]]));
  // The exact hostname's "/" comes first although "/wild" (Exact) would win on match precedence alone.
  assert.deepEqual(byHost, { '*': ['any'], '*.example.com': ['wild', 'any'], 'a.example.com': ['exact', 'wild', 'any'] });
  const config = envoy(snap);
  assert.equal(ask(config, { host: 'a.example.com', path: '/wild' }).route, 'HTTPRoute/default/exact/rule/0/match/0');
  assert.equal(ask(config, { host: 'b.example.com', path: '/wild' }).route, 'HTTPRoute/default/wild/rule/0/match/0');
  assert.equal(ask(config, { host: 'b.example.com', path: '/any' }).route, 'HTTPRoute/default/any/rule/0/match/0');
});

test('HTTPS: each filter chain has its own route configuration; a Host of another listener than the SNI gets 421', () => {
  const pki = makePki();
  const https = (name: string, hostname?: string) => ({
    name, port: 443, protocol: 'HTTPS', ...(hostname ? { hostname } : {}), tls: { certificateRefs: [{ kind: 'Secret', group: '', name: 'cert' }] },
  });
  const to = (name: string, section: string): KubeObject => httpRoute(name, { parentRefs: [{ name: 'gw', sectionName: section }], rules: [{ backendRefs: [{ name: 'a', port: 80 }] }] });
  const result = run([
    gatewayClass(), tlsSecret('cert', pki.leaf(['*.example.com', 'a.example.org'])),
    gateway('gw', [https('any'), https('wild', '*.example.com'), https('a', 'a.example.org')]),
    to('r-any', 'any'), to('r-wild', 'wild'), to('r-a', 'a'),
  ], [service('default', 'a', [{ port: 80 }])]);
  const snap = result.snapshots.get('default/gw')!;
  assert.deepEqual(snap.routes.map((r) => r.name), ['default/gw/https-443/a', 'default/gw/https-443/any', 'default/gw/https-443/wild']);
  const wild = snap.routes.find((r) => r.name === 'default/gw/https-443/wild')!;
  assert.deepEqual(wild.virtual_hosts!.map((v) => v.name), ['*.example.com', 'misdirected/*', 'misdirected/a.example.org']);
  const config = envoy(snap);
  const get = (sni: string | undefined, host: string) => ask(config, { port: 443, scheme: 'https', sni, host, path: '/' });
  assert.equal(get('x.example.com', 'x.example.com').route, 'HTTPRoute/default/r-wild/rule/0/match/0');
  assert.equal(get('x.example.com', 'y.example.com:443').route, 'HTTPRoute/default/r-wild/rule/0/match/0'); // same listener
  assert.equal(get('x.example.com', 'a.example.org').status, 421);
  assert.equal(get('x.example.com', 'other.net').status, 421);
  assert.equal(get('a.example.org', 'a.example.org').route, 'HTTPRoute/default/r-a/rule/0/match/0');
  assert.equal(get('a.example.org', 'x.example.com').status, 421);
  assert.equal(get('other.net', 'other.net').route, 'HTTPRoute/default/r-any/rule/0/match/0');
  assert.equal(get(undefined, 'other.net').route, 'HTTPRoute/default/r-any/rule/0/match/0');
  assert.equal(get('other.net', 'x.example.com').status, 421);
  assert.ok(encodeEverySnapshot() > 0);
});
