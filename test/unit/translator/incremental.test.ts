// Incremental translation must equal a fresh translation of the same state, after every kind of
// change, while re-translating only the Gateways a change can affect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { route, world } from '../../support/synthetic-world.ts';
import type { ServiceEndpoints, StoredObject } from '../../../libs/translator/api.ts';
import { translate, Translator } from '../../../libs/translator/index.ts';
import { StateIndex } from '../../../libs/translator/index-state.ts';
import { compareReports } from '../../../libs/translator/status.ts';
import { encodeGatewaySnapshot } from '../../../libs/snapshots/encode.ts';

const NOW = '2026-01-01T00:00:00.000Z';
const OPTS = { controllerName: 'gantry.dev/gateway-controller', defaultAddress: '127.0.0.1', now: NOW };

/** The same state two ways: an index updated in place and a plain list for a fresh translation. */
class Mirror {
  readonly index: StateIndex;
  private readonly objects = new Map<string, StoredObject>();
  private readonly services = new Map<string, ServiceEndpoints>();

  constructor(objects: StoredObject[], services: ServiceEndpoints[]) {
    for (const o of objects) this.objects.set(this.key(o), o);
    for (const s of services) this.services.set(`${s.namespace}/${s.name}`, s);
    this.index = StateIndex.of({ objects, services });
  }

  private key(o: StoredObject): string {
    return `${o.object.kind}/${o.object.metadata.namespace ?? ''}/${o.object.metadata.name}`;
  }

  upsert(object: StoredObject['object']): void {
    const stored = { object, origin: { cluster: 'local' } };
    this.objects.set(this.key(stored), stored);
    this.index.upsert(stored);
  }

  remove(kind: string, namespace: string, name: string): void {
    this.objects.delete(`${kind}/${namespace}/${name}`);
    this.index.remove('local', kind, namespace, name);
  }

  upsertService(s: ServiceEndpoints): void {
    this.services.set(`${s.namespace}/${s.name}`, s);
    this.index.upsertService(s);
  }

  fresh() {
    return translate({ objects: [...this.objects.values()], services: [...this.services.values()] }, OPTS);
  }
}

function assertSame(inc: ReturnType<Translator['translateIndex']>, fresh: ReturnType<typeof translate>, step: string): void {
  assert.deepEqual([...inc.snapshots.keys()].sort(), [...fresh.snapshots.keys()].sort(), `${step}: gateways`);
  for (const [gw, snap] of fresh.snapshots) {
    const a = encodeGatewaySnapshot(inc.snapshots.get(gw)!);
    const b = encodeGatewaySnapshot(snap);
    assert.deepEqual(a.resources.map((r) => [r.name, r.bytes.toString('base64')]), b.resources.map((r) => [r.name, r.bytes.toString('base64')]), `${step}: ${gw}`);
  }
  assert.deepEqual([...inc.reports].sort(compareReports), fresh.reports, `${step}: reports`);
}

function upstream(namespace: string, name: string, spec: Record<string, unknown>, generation = 1): StoredObject['object'] {
  return { apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'Upstream', metadata: { name, namespace, generation }, spec };
}

function upstreamRoute(namespace: string, upstreamName: string): StoredObject['object'] {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: `to-${upstreamName}`, namespace },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: ['upstream.example.com'], rules: [{ backendRefs: [{ group: 'gateway.gantry.dev', kind: 'Upstream', name: upstreamName }] }] },
  };
}

function endpointsOf(namespace: string, name: string, address: string): ServiceEndpoints {
  return {
    cluster: 'local', namespace, name, serviceType: 'ClusterIP',
    ports: [{ name: 'http', port: 80, protocol: 'TCP', endpoints: [{ address, port: 8080, ready: true, serving: true, terminating: false }] }],
  };
}

test('every kind of change gives what a fresh translation gives, and only affected Gateways change', () => {
  const input = world(300);
  const m = new Mirror(input.objects, input.services);
  const t = new Translator(OPTS);
  const first = t.translateIndex(m.index);
  assert.equal(first.changed.size, 100, 'the first translation produces every Gateway');
  assertSame(first, m.fresh(), 'initial');

  const steps: Array<[string, () => void, string[] | undefined]> = [
    ['edit a route', () => m.upsert(route(7, 1)), ['team-7/gw']],
    ['delete a route', () => m.remove('HTTPRoute', 'team-8', 'route-8'), ['team-8/gw']],
    ['move a route to another Gateway', () => {
      const r = route(9, 2);
      (r.spec as { parentRefs: unknown[] }).parentRefs = [{ name: 'gw', namespace: 'team-10' }];
      m.upsert(r);
    }, ['team-9/gw', 'team-10/gw']],
    ['change a Service\'s endpoints', () => m.upsertService({
      cluster: 'local', namespace: 'team-3', name: 'svc-0', serviceType: 'ClusterIP',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', endpoints: [{ address: '10.9.9.9', port: 8080, ready: true, serving: true, terminating: false }] }],
    }), ['team-3/gw']],
    ['change a Gateway', () => m.upsert({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'team-4', generation: 2 },
      spec: { gatewayClassName: 'gantry', listeners: [{ name: 'http', protocol: 'HTTP', port: 9090 }] },
    }), ['team-4/gw']],
    ['add a ReferenceGrant (shared: everything is re-checked)', () => m.upsert({
      apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'team-1' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'team-10' }], to: [{ group: '', kind: 'Service' }] },
    }), undefined],
    ['delete a Gateway', () => m.remove('Gateway', 'team-5', 'gw'), ['team-5/gw']],
    ['restore it', () => m.upsert(input.objects[6].object), ['team-5/gw']],
    ['add a Service no route names', () => m.upsertService(endpointsOf('team-11', 'backend', '10.11.9.1')), []],
    ['add a Kube Upstream of it and a route to the Upstream', () => {
      m.upsert(upstream('team-11', 'up', { type: 'Kube', kube: { serviceName: 'backend', servicePort: 80 } }));
      m.upsert(upstreamRoute('team-11', 'up'));
    }, ['team-11/gw']],
    ['change the endpoints of the Service only the Upstream names', () => m.upsertService(endpointsOf('team-11', 'backend', '10.11.9.2')), ['team-11/gw']],
    ['change the Upstream (protocol, timeout)', () => m.upsert(upstream('team-11', 'up', { type: 'Kube', kube: { serviceName: 'backend', servicePort: 80 }, protocol: 'H2C', connectTimeout: '2s' }, 2)), ['team-11/gw']],
    ['make it Static', () => m.upsert(upstream('team-11', 'up', { type: 'Static', static: { hosts: [{ address: '192.0.2.1', port: 80 }] } }, 3)), ['team-11/gw']],
    ['its old Service changes: nothing to re-translate', () => m.upsertService(endpointsOf('team-11', 'backend', '10.11.9.3')), []],
    ['an Upstream no route uses (only its report)', () => m.upsert(upstream('team-12', 'idle', { type: 'Static' })), []],
    ['an Upstream waiting for its CA ConfigMap, then the ConfigMap (shared)', () => {
      m.upsert(upstream('team-11', 'up', { type: 'Static', static: { hosts: [{ address: '192.0.2.1', port: 443 }] }, tls: { caCertificateRef: { name: 'ca' } } }, 4));
    }, ['team-11/gw']],
    ['the ConfigMap appears', () => m.upsert({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: 'team-11' }, data: { 'ca.crt': 'not a certificate' } }), undefined],
    ['delete the Upstream', () => m.remove('Upstream', 'team-11', 'up'), ['team-11/gw']],
    ['a Gateway names GatewayParameters that do not exist (InvalidParameters: no snapshot)', () => m.upsert({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'team-6', generation: 2 },
      spec: { gatewayClassName: 'gantry', infrastructure: { parametersRef: { group: 'gateway.gantry.dev', kind: 'GatewayParameters', name: 'p' } }, listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    }), ['team-6/gw']],
    ['the GatewayParameters appear (shared)', () => m.upsert({
      apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name: 'p', namespace: 'team-6' }, spec: { deployment: { replicas: 2 } },
    }), undefined],
  ];
  for (const [step, apply, expectChanged] of steps) {
    apply();
    const inc = t.translateIndex(m.index);
    assertSame(inc, m.fresh(), step);
    if (expectChanged) assert.deepEqual([...inc.changed].sort(), expectChanged.sort(), `${step}: changed`);
  }
});

test('a translation with nothing changed reuses every snapshot', () => {
  const input = world(50);
  const index = StateIndex.of(input);
  const t = new Translator(OPTS);
  const a = t.translateIndex(index);
  const b = t.translateIndex(index);
  assert.equal(b.changed.size, 0);
  for (const [gw, snap] of a.snapshots) assert.equal(b.snapshots.get(gw), snap, gw);
});

/** A route of team-1's Gateway with the given hostnames and path matches (all to svc-0). */
function teamRoute(name: string, hostnames: string[], paths: Array<{ type: string; value: string }>, generation = 1): StoredObject['object'] {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
    metadata: { name, namespace: 'team-1', generation, creationTimestamp: `2026-01-0${generation}T00:00:00Z` },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames,
      rules: paths.map((path) => ({ matches: [{ path }], backendRefs: [{ name: 'svc-0', port: 80 }] })),
    },
  };
}

const virtualHostsOf = (r: ReturnType<Translator['translateIndex']>, gw: string) =>
  new Map((r.snapshots.get(gw)!.routes[0].virtual_hosts ?? []).map((vh) => [vh.name!, vh]));

test('inside one Gateway, a route change rebuilds only the virtual hosts it reaches, in precedence order', () => {
  // 1,000 routes: 10 per Gateway, plus routes sharing hostnames (and a wildcard) on team-1's.
  const input = world(1000);
  const m = new Mirror(input.objects, input.services);
  m.upsert(teamRoute('shared-a', ['shared.example.com'], [{ type: 'PathPrefix', value: '/a' }]));
  m.upsert(teamRoute('shared-b', ['shared.example.com'], [{ type: 'PathPrefix', value: '/a/b' }, { type: 'Exact', value: '/x' }]));
  m.upsert(teamRoute('wild', ['*.example.com'], [{ type: 'PathPrefix', value: '/' }]));
  const t = new Translator(OPTS);
  let last = t.translateIndex(m.index);
  assertSame(last, m.fresh(), 'initial');
  const gw = 'team-1/gw';

  // undefined: only the result is checked, not which virtual hosts were rebuilt.
  const steps: Array<[string, () => void, string[] | undefined]> = [
    // Every exact hostname of the Gateway also serves the wildcard route's "/".
    ['edit the wildcard route', () => m.upsert(teamRoute('wild', ['*.example.com'], [{ type: 'PathPrefix', value: '/w' }], 2)), ['every exact hostname']],
    ['edit one route among many', () => m.upsert(route(101, 1)), ['r101.example.com']],
    ['outrank a route sharing the hostname', () => m.upsert(teamRoute('shared-a', ['shared.example.com'], [{ type: 'PathPrefix', value: '/a/b/c' }], 2)), ['shared.example.com']],
    ['move a route to another hostname', () => m.upsert(teamRoute('shared-b', ['r201.example.com'], [{ type: 'Exact', value: '/y' }], 2)), ['shared.example.com', 'r201.example.com']],
    ['move it back', () => m.upsert(teamRoute('shared-b', ['shared.example.com'], [{ type: 'Exact', value: '/y' }], 3)), ['shared.example.com', 'r201.example.com']],
    ['delete a route', () => m.remove('HTTPRoute', 'team-1', 'route-301'), ['r301.example.com']],
    ['a route with a hostname of its own', () => m.upsert(teamRoute('fresh', ['new.example.com'], [{ type: 'Exact', value: '/' }])), ['new.example.com']],
    ['a GRPCRoute on a shared hostname (before its HTTPRoutes)', () => m.upsert({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'rpc', namespace: 'team-1', generation: 1 },
      spec: { parentRefs: [{ name: 'gw' }], hostnames: ['shared.example.com'], rules: [{ matches: [{ method: { service: 'echo.Echo' } }], backendRefs: [{ name: 'svc-1', port: 80 }] }] },
    }), ['shared.example.com']],
    ['change the endpoints of a Service the routes use', () => m.upsertService({
      cluster: 'local', namespace: 'team-1', name: 'svc-0', serviceType: 'ClusterIP',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', endpoints: [{ address: '10.9.9.9', port: 8080, ready: true, serving: true, terminating: false }] }],
    }), undefined],
    ['a Service the routes split traffic to loses their port', () => m.upsertService({
      cluster: 'local', namespace: 'team-1', name: 'svc-1', serviceType: 'ClusterIP',
      ports: [{ name: 'http', port: 81, protocol: 'TCP', endpoints: [{ address: '10.9.9.8', port: 8080, ready: true, serving: true, terminating: false }] }],
    }), undefined],
    ['edit one route after that', () => m.upsert(route(501, 1)), ['r501.example.com']],
  ];
  for (const [step, apply, rebuilt] of steps) {
    apply();
    const next = t.translateIndex(m.index);
    assertSame(next, m.fresh(), step);
    assert.deepEqual([...next.changed], [gw], `${step}: changed`);
    if (!rebuilt) {
      last = next;
      continue;
    }
    const before = virtualHostsOf(last, gw);
    const after = virtualHostsOf(next, gw);
    for (const [name, vh] of after) {
      const reused = before.get(name) === vh;
      const expected: boolean = rebuilt[0] === 'every exact hostname' ? name === '*' : !rebuilt.includes(name);
      assert.equal(reused, expected, `${step}: virtual host ${name} ${reused ? 'reused' : 'rebuilt'}`);
    }
    last = next;
  }
  const order = virtualHostsOf(last, gw).get('shared.example.com')!.routes!.map((r) => r.name);
  assert.deepEqual(order, [
    'GRPCRoute/team-1/rpc/rule/0/match/0',
    'HTTPRoute/team-1/shared-b/rule/0/match/0', 'HTTPRoute/team-1/shared-a/rule/0/match/0', 'HTTPRoute/team-1/shared-a/rule/0/match/0',
    'HTTPRoute/team-1/wild/rule/0/match/0', 'HTTPRoute/team-1/wild/rule/0/match/0',
  ], 'exact before the longer prefix, the hostname\'s own routes before the wildcard\'s');
});

test('a change at a later time re-stamps the changed route only, and reuses the other virtual hosts', () => {
  const index = StateIndex.of(world(1000));
  const t = new Translator(OPTS);
  const first = t.translateIndex(index);
  const later = '2026-01-02T00:00:00.000Z';
  index.upsert({ object: route(101, 1), origin: { cluster: 'local' } });
  const next = t.translateIndex(index, later);
  const times = (name: string) => {
    const r = next.reports.find((x) => x.kind === 'HTTPRoute' && x.name === name)!;
    return (r.status.parents as Array<{ conditions: Array<{ lastTransitionTime: string }> }>)[0].conditions.map((c) => c.lastTransitionTime);
  };
  assert.deepEqual(times('route-101'), [later, later]);
  assert.deepEqual(times('route-201'), [NOW, NOW], 'unchanged conditions keep their time (the reporter would keep it too)');
  const before = virtualHostsOf(first, 'team-1/gw');
  for (const [name, vh] of virtualHostsOf(next, 'team-1/gw')) assert.equal(before.get(name) === vh, name !== 'r101.example.com', name);
});

test('adding, changing and deleting an option re-translates exactly the Gateways it reaches, and only what it changes inside', () => {
  const input = world(300);
  const m = new Mirror(input.objects, input.services);
  const t = new Translator(OPTS);
  let last = t.translateIndex(m.index);
  assertSame(last, m.fresh(), 'initial');
  const option = (kind: string, ns: string, name: string, spec: Record<string, unknown>, generation = 1): StoredObject['object'] => ({
    apiVersion: 'gateway.gantry.dev/v1alpha1', kind, metadata: { name, namespace: ns, generation, creationTimestamp: '2026-01-01T00:00:00Z' }, spec,
  });
  const toRoute = (name: string, more: Record<string, unknown> = {}) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name, ...more });
  const toGateway = (more: Record<string, unknown> = {}) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', ...more });
  const withExtensionRef = (r: number, option: string) => {
    const obj = route(r, 1);
    (obj.spec as { rules: Array<Record<string, unknown>> }).rules[1].filters = [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.gantry.dev', kind: 'RouteOption', name: option } }];
    return obj;
  };
  const hosts = (r: ReturnType<Translator['translateIndex']>, gw: string) => r.snapshots.get(gw)!.routes[0].virtual_hosts!;

  const steps: Array<[string, () => void, string[]]> = [
    ['a RouteOption targeting a route', () => m.upsert(option('RouteOption', 'team-7', 'ro', { targetRefs: [toRoute('route-7')], options: { timeouts: { request: '3s' } } })), ['team-7/gw']],
    ['change it', () => m.upsert(option('RouteOption', 'team-7', 'ro', { targetRefs: [toRoute('route-7')], options: { timeouts: { request: '4s' } } }, 2)), ['team-7/gw']],
    ['retarget it to one rule of another route', () => m.upsert(option('RouteOption', 'team-7', 'ro', { targetRefs: [toRoute('route-107', { sectionName: 'none-yet' })], options: { timeouts: { request: '4s' } } }, 3)), ['team-7/gw']],
    ['a rule names a RouteOption that does not exist (500)', () => m.upsert(withExtensionRef(8, 'ext')), ['team-8/gw']],
    ['the RouteOption appears', () => m.upsert(option('RouteOption', 'team-8', 'ext', { options: { retries: { retryOn: ['5xx'] } } })), ['team-8/gw']],
    ['change it', () => m.upsert(option('RouteOption', 'team-8', 'ext', { options: { retries: { retryOn: ['reset'] } } }, 2)), ['team-8/gw']],
    ['make it invalid (500 again)', () => m.upsert(option('RouteOption', 'team-8', 'ext', { options: { retries: { retryOn: [] } } }, 3)), ['team-8/gw']],
    ['delete it (still 500, another ResolvedRefs message)', () => m.remove('RouteOption', 'team-8', 'ext'), ['team-8/gw']],
    ['a RouteOption reaching into another namespace (nothing)', () => m.upsert(option('RouteOption', 'team-11', 'far', { targetRefs: [toRoute('route-12', { namespace: 'team-12' })], options: { timeouts: { request: '1s' } } })), []],
    ['a VirtualHostOption on a Gateway', () => m.upsert(option('VirtualHostOption', 'team-9', 'vho', { targetRefs: [toGateway()], options: { includeRequestAttemptCount: true } })), ['team-9/gw']],
    ['change it', () => m.upsert(option('VirtualHostOption', 'team-9', 'vho', { targetRefs: [toGateway()], options: { includeRequestAttemptCount: false } }, 2)), ['team-9/gw']],
    ['a ListenerOption on its listener', () => m.upsert(option('ListenerOption', 'team-9', 'lo', { targetRefs: [toGateway({ sectionName: 'http' })], options: { perConnectionBufferLimitBytes: 65536 } })), ['team-9/gw']],
    ['change it', () => m.upsert(option('ListenerOption', 'team-9', 'lo', { targetRefs: [toGateway({ sectionName: 'http' })], options: { accessLog: { stdout: true } } }, 2)), ['team-9/gw']],
    ['delete the VirtualHostOption', () => m.remove('VirtualHostOption', 'team-9', 'vho'), ['team-9/gw']],
    ['delete the ListenerOption', () => m.remove('ListenerOption', 'team-9', 'lo'), ['team-9/gw']],
    ['delete the RouteOption (its target rule does not exist: nothing to undo)', () => m.remove('RouteOption', 'team-7', 'ro'), []],
  ];
  for (const [step, apply, expectChanged] of steps) {
    apply();
    const next = t.translateIndex(m.index);
    assertSame(next, m.fresh(), step);
    assert.deepEqual([...next.changed].sort(), expectChanged, `${step}: changed`);
    // A ListenerOption changes listeners only: every virtual host is reused as it was.
    if (step.includes('ListenerOption')) assert.ok(hosts(next, 'team-9/gw').every((vh, i) => vh === hosts(last, 'team-9/gw')[i]), `${step}: virtual hosts reused`);
    // A RouteOption changes its route only: the virtual hosts of the Gateway's other routes are reused.
    if (step === 'a RouteOption targeting a route') {
      const before = hosts(last, 'team-7/gw');
      assert.deepEqual(hosts(next, 'team-7/gw').filter((vh, i) => vh !== before[i]).map((vh) => vh.name), ['r7.example.com'], `${step}: virtual hosts rebuilt`);
    }
    last = next;
  }
});
