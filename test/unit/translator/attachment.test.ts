import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VirtualHost } from '../../../libs/xds/types.ts';
import {
  condition, conformanceObjects, encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, grpcRoute, routeParent, run, service,
} from './fixtures.ts';

const INFRA = 'gateway-conformance-infra';
const backends = [
  service(INFRA, 'infra-backend-v1', [{ port: 8080 }]),
  service(INFRA, 'infra-backend-v2', [{ port: 8080 }]),
  service(INFRA, 'infra-backend-v3', [{ port: 8080 }]),
];

/** Route name (from the Envoy route names "<kind>/<ns>/<name>/rule/...") → virtual hosts it is in. */
function domainsByRoute(vhosts: VirtualHost[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const vh of vhosts) {
    for (const r of vh.routes ?? []) (out[r.name!.split('/')[2]] ??= new Set()).add(vh.name!);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]));
}

test('conformance HTTPRouteHostnameIntersection: routes attach only through intersecting hostnames, narrowed to the intersection', () => {
  const result = run([gatewayClass(), ...conformanceObjects('base/manifests.yaml'), ...conformanceObjects('tests/httproute-hostname-intersection.yaml')], backends);
  for (const name of ['specific-host-matches-listener-specific-host', 'specific-host-matches-listener-wildcard-host', 'wildcard-host-matches-listener-specific-host', 'wildcard-host-matches-listener-wildcard-host']) {
    assert.equal(condition(routeParent(result, 'HTTPRoute', name, 'httproute-hostname-intersection', INFRA)!.conditions, 'Accepted')!.reason, 'Accepted', name);
  }
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'no-intersecting-hosts', 'httproute-hostname-intersection', INFRA)!.conditions, 'Accepted')!.reason, 'NoMatchingListenerHostname');

  const [config] = result.snapshots.get(`${INFRA}/httproute-hostname-intersection`)!.routes;
  const byRoute = domainsByRoute(config.virtual_hosts!);
  assert.deepEqual(byRoute['specific-host-matches-listener-specific-host'], ['very.specific.com']);
  assert.deepEqual(byRoute['specific-host-matches-listener-wildcard-host'].sort(), ['bar.wildcard.io', 'foo.bar.wildcard.io', 'foo.wildcard.io']);
  assert.deepEqual(byRoute['wildcard-host-matches-listener-specific-host'], ['very.specific.com']);
  assert.deepEqual(byRoute['wildcard-host-matches-listener-wildcard-host'], ['*.anotherwildcard.io']);
  assert.equal(byRoute['no-intersecting-hosts'], undefined);
  const vh = config.virtual_hosts!.find((v) => v.name === 'very.specific.com')!;
  assert.deepEqual(vh.domains, ['very.specific.com', 'very.specific.com:80']);
});

test('a route without hostnames on a listener without hostname lands in the catch-all virtual host "*"', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), httpRoute('r', { parentRefs: [{ name: 'web' }] })]);
  const [config] = result.snapshots.get('default/web')!.routes;
  assert.deepEqual(config.virtual_hosts!.map((v) => [v.name, v.domains]), [['*', ['*']]]);
});

test('allowedRoutes from Same/All/Selector: conformance base Gateways admit routes by namespace', () => {
  const objects = [
    gatewayClass(), ...conformanceObjects('base/manifests.yaml'),
    ...['same-namespace', 'all-namespaces', 'backend-namespaces'].flatMap((gw) => [
      httpRoute(`to-${gw}`, { parentRefs: [{ name: gw, namespace: INFRA }] }, { namespace: 'gateway-conformance-web-backend' }),
      httpRoute(`to-${gw}`, { parentRefs: [{ name: gw, namespace: INFRA }] }, { namespace: 'gateway-conformance-app-backend' }),
    ]),
  ];
  const result = run(objects);
  const reason = (ns: string, gw: string) => condition(routeParent(result, 'HTTPRoute', `to-${gw}`, gw, ns)!.conditions, 'Accepted')!.reason;
  assert.equal(reason('gateway-conformance-web-backend', 'same-namespace'), 'NotAllowedByListeners');
  assert.equal(reason('gateway-conformance-web-backend', 'all-namespaces'), 'Accepted');
  // Both backend namespaces carry the label gateway-conformance=backend in the base manifests.
  assert.equal(reason('gateway-conformance-web-backend', 'backend-namespaces'), 'Accepted');
  assert.equal(reason('gateway-conformance-app-backend', 'backend-namespaces'), 'Accepted');
});

test('a namespace selector with matchExpressions is evaluated against the Namespace labels', () => {
  const result = run([
    gatewayClass(),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { tier: 'gold' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b', labels: { tier: 'bronze' } } },
    gateway('web', [httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] } } } })]),
    httpRoute('r', { parentRefs: [{ name: 'web', namespace: 'default' }] }, { namespace: 'team-a' }),
    httpRoute('r', { parentRefs: [{ name: 'web', namespace: 'default' }] }, { namespace: 'team-b' }),
  ]);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web', 'team-a')!.conditions, 'Accepted')!.status, 'True');
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'r', 'web', 'team-b')!.conditions, 'Accepted')!.reason, 'NotAllowedByListeners');
});

test('a parentRef whose sectionName or port names no listener is NoMatchingParent', () => {
  const result = run([
    gatewayClass(), gateway('web', [httpListener('http')]),
    httpRoute('by-section', { parentRefs: [{ name: 'web', sectionName: 'nope' }] }),
    httpRoute('by-port', { parentRefs: [{ name: 'web', port: 8080 }] }),
    httpRoute('good-port', { parentRefs: [{ name: 'web', port: 80 }] }),
  ]);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'by-section', 'web')!.conditions, 'Accepted')!.reason, 'NoMatchingParent');
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'by-port', 'web')!.conditions, 'Accepted')!.reason, 'NoMatchingParent');
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'good-port', 'web')!.conditions, 'Accepted')!.reason, 'Accepted');
});

test('a listener that only admits HTTPRoutes rejects a GRPCRoute with NotAllowedByListeners', () => {
  const result = run([
    gatewayClass(), gateway('web', [httpListener('http', 80, { allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] } })]),
    grpcRoute('g', { parentRefs: [{ name: 'web' }] }),
  ]);
  assert.equal(condition(routeParent(result, 'GRPCRoute', 'g', 'web')!.conditions, 'Accepted')!.reason, 'NotAllowedByListeners');
});

test('the parentRef is echoed with group, kind and namespace spelled out', () => {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), httpRoute('r', { parentRefs: [{ name: 'web', sectionName: 'http' }] })]);
  assert.deepEqual(routeParent(result, 'HTTPRoute', 'r', 'web')!.parentRef, {
    group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'web', sectionName: 'http',
  });
});

test('a route naming our Gateway and a foreign one only reports the parent that is ours', () => {
  const result = run([
    gatewayClass(), gatewayClass('other', 'example.com/other'),
    gateway('web', [httpListener('http')]), gateway('theirs', [httpListener('http')], { className: 'other' }),
    httpRoute('r', { parentRefs: [{ name: 'theirs' }, { name: 'web' }] }),
  ]);
  const parents = (result.reports.find((r) => r.name === 'r')!.status.parents as Array<{ parentRef: { name: string } }>);
  assert.deepEqual(parents.map((p) => p.parentRef.name), ['web']);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
