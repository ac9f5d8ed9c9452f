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
