import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEnvelope, decodeToken, encodeEnvelope, encodeToken, ResourceEventSchema, RESOURCE_SCHEMA, subjects,
} from '../../libs/contracts/index.ts';

const v1 = {
  schema: 'gantry.resource/v1', cluster: 'east', kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1',
  namespace: 'default', name: 'r', uid: 'u', generation: 3, resourceVersion: '7', op: 'upsert',
  object: { kind: 'HTTPRoute' }, emittedAt: '2026-01-01T00:00:00Z',
};

test('a version N-1 resource event is accepted and upgraded to the current version', () => {
  const d = decodeEnvelope(ResourceEventSchema, encodeEnvelope(v1));
  assert.ok(d.ok, d.ok ? '' : d.error);
  assert.equal(d.value.schema, RESOURCE_SCHEMA);
  assert.equal(d.value.generation, 3);
  assert.equal(d.value.source, undefined);
});

test('version N-1 (v2, with its file source) is accepted and upgraded; unknown fields are ignored', () => {
  const d = decodeEnvelope(ResourceEventSchema, encodeEnvelope({
    ...v1, schema: 'gantry.resource/v2', source: { type: 'file', path: 'a.yaml', document: 2 }, futureField: 1,
  }));
  assert.ok(d.ok);
  assert.equal(d.value.schema, RESOURCE_SCHEMA);
  assert.deepEqual(d.value.source, { type: 'file', path: 'a.yaml', document: 2 });
});

test('the current version marks discovered objects with their Service; v2 never had that source', () => {
  const source = { type: 'discovered', service: { namespace: 'shop', name: 'web' } };
  const d = decodeEnvelope(ResourceEventSchema, encodeEnvelope({ ...v1, schema: RESOURCE_SCHEMA, kind: 'Upstream', source }));
  assert.ok(d.ok, d.ok ? '' : d.error);
  assert.deepEqual(d.value.source, source);
  assert.equal(decodeEnvelope(ResourceEventSchema, encodeEnvelope({ ...v1, schema: 'gantry.resource/v2', source })).ok, false);
  assert.equal(decodeEnvelope(ResourceEventSchema, encodeEnvelope({ ...v1, schema: RESOURCE_SCHEMA, source: { type: 'discovered' } })).ok, false);
});

test('an unknown schema version or a malformed message is an error value, not an exception', () => {
  const future = decodeEnvelope(ResourceEventSchema, encodeEnvelope({ ...v1, schema: 'gantry.resource/v9' }));
  assert.equal(future.ok, false);
  const garbage = decodeEnvelope(ResourceEventSchema, Buffer.from('{not json'));
  assert.equal(garbage.ok, false);
  const missing = decodeEnvelope(ResourceEventSchema, encodeEnvelope({ ...v1, name: undefined }));
  assert.ok(!missing.ok && missing.error.includes('name'));
});

test('subject tokens survive dots, wildcards and empty namespaces', () => {
  for (const v of ['a.b.c', '*', '>', '', 'plain', 'x%y']) assert.equal(decodeToken(encodeToken(v)), v);
  const s = subjects.resource({ cluster: 'c', kind: 'GatewayClass', namespace: '', name: 'gantry.dev' });
  assert.equal(s, 'gantry.res.c.GatewayClass._.gantry%2Edev');
  assert.equal(s.split('.').length, 6);
});
