import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceEvent } from '../../libs/contracts/index.ts';
import { carryTransitionTimes, diffReports, statusDigest } from '../../libs/reports/reports.ts';
import { World } from '../../libs/world/world.ts';

const event = (name: string, op: 'upsert' | 'delete', spec: unknown = {}): ResourceEvent => ({
  schema: 'gantry.resource/v3', cluster: 'local', kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1',
  namespace: 'default', name, uid: '', generation: 1, resourceVersion: '', op,
  object: op === 'delete' ? null : { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec },
  emittedAt: '2026-01-01T00:00:00Z',
});

test('the world applies events in sequence order and skips replays of older ones', () => {
  const w = new World();
  assert.equal(w.applyResource(event('a', 'upsert', { v: 1 }), 5), true);
  assert.equal(w.applyResource(event('a', 'upsert', { v: 0 }), 3), false, 'older sequence ignored');
  assert.equal(w.applyResource(event('a', 'upsert', { v: 1 }), 5), false, 'same sequence is a replay');
  assert.deepEqual(w.index.httpRoutes.get('default/a')?.object.spec, { v: 1 });
  assert.deepEqual([...w.index.drainChanges().objects], ['HTTPRoute/default/a']);
  assert.equal(w.applyResource(event('a', 'delete'), 9), true);
  assert.equal(w.index.httpRoutes.size, 0);
  assert.equal(w.streams.RESOURCES, 9);
});

test('an unchanged condition keeps its lastTransitionTime; a changed one takes the new time', () => {
  const before = { conditions: [{ type: 'Accepted', status: 'True', lastTransitionTime: 'T0' }, { type: 'Programmed', status: 'False', lastTransitionTime: 'T0' }] };
  const next = { conditions: [{ type: 'Accepted', status: 'True', lastTransitionTime: 'T1' }, { type: 'Programmed', status: 'True', lastTransitionTime: 'T1' }] };
  const merged = carryTransitionTimes(before, next) as typeof next;
  assert.equal(merged.conditions[0].lastTransitionTime, 'T0');
  assert.equal(merged.conditions[1].lastTransitionTime, 'T1');
});

test('route parents are matched by parentRef, not position, when carrying times', () => {
  const p = (name: string, t: string) => ({ parentRef: { name }, conditions: [{ type: 'Accepted', status: 'True', lastTransitionTime: t }] });
  const merged = carryTransitionTimes({ parents: [p('a', 'Ta'), p('b', 'Tb')] }, { parents: [p('b', 'new'), p('a', 'new')] }) as { parents: ReturnType<typeof p>[] };
  assert.equal(merged.parents[0].conditions[0].lastTransitionTime, 'Tb');
  assert.equal(merged.parents[1].conditions[0].lastTransitionTime, 'Ta');
});

test('only changed reports are published and vanished objects get a delete', () => {
  const status = { conditions: [{ type: 'Accepted', status: 'True', lastTransitionTime: 'T0' }] };
  const published = new Map([
    ['local/HTTPRoute/default/same', { digest: statusDigest({ status, generation: 1 }), status, generation: 1, apiVersion: 'v1' }],
    ['local/HTTPRoute/default/gone', { digest: 'x', status, generation: 1, apiVersion: 'v1' }],
  ]);
  const report = (name: string, generation: number) => ({
    cluster: 'local', apiVersion: 'v1', kind: 'HTTPRoute', namespace: 'default', name, generation, gateways: [],
    status: { conditions: [{ type: 'Accepted', status: 'True', lastTransitionTime: 'T9' }] },
  });
  const diff = diffReports(published, [report('same', 1), report('new', 1)]);
  assert.deepEqual(diff.upserts.map((u) => u.name), ['new']);
  assert.deepEqual(diff.deletes.map((d) => d.name), ['gone']);
  const bumped = diffReports(published, [report('same', 2)]);
  assert.deepEqual(bumped.upserts.map((u) => u.name), ['same'], 'a new generation is a new status');
});
