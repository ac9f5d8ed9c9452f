// GatewayParameters references: a Gateway's spec.infrastructure.parametersRef and a GatewayClass's
// spec.parametersRef resolve to a valid gateway.gantry.dev GatewayParameters, or the object says
// InvalidParameters with what is wrong (the reporter provisions the proxies with them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../libs/translator/api.ts';
import { condition, gateway, gatewayClass, httpListener, reportOf, run } from './fixtures.ts';

const params = (name: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject =>
  ({ apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'GatewayParameters', metadata: { name, namespace }, spec });
const ref = (name: string, more: Record<string, unknown> = {}) => ({ group: 'gateway.gantry.dev', kind: 'GatewayParameters', name, ...more });
const withParams = (parametersRef: unknown): KubeObject => {
  const gw = gateway('web', [httpListener('http')]);
  return { ...gw, spec: { ...(gw.spec as object), infrastructure: { parametersRef } } };
};
const gatewayCondition = (result: ReturnType<typeof run>, type: string) => condition(reportOf(result, 'Gateway', 'web')!.status.conditions, type)!;
const classCondition = (result: ReturnType<typeof run>) => condition(reportOf(result, 'GatewayClass', 'gantry')!.status.conditions, 'Accepted')!;

test('a Gateway naming valid GatewayParameters is Accepted and served', () => {
  const result = run([gatewayClass(), params('big', { deployment: { replicas: 3 } }), withParams(ref('big'))]);
  assert.equal(gatewayCondition(result, 'Accepted').status, 'True');
  assert.ok(result.snapshots.get('default/web'));
});

test('missing, invalid or foreign parameters: Accepted=False InvalidParameters, saying which', () => {
  const cases: Array<[unknown, KubeObject[], RegExp]> = [
    [ref('nope'), [], /GatewayParameters default\/nope not found/],
    [ref('bad'), [params('bad', { deployment: { replicas: 'three' } })], /GatewayParameters default\/bad is invalid: .*replicas/],
    [ref('elsewhere'), [params('elsewhere', {}, 'other')], /default\/elsewhere not found/],
    [{ group: '', kind: 'ConfigMap', name: 'cm' }, [], /core\/ConfigMap cm: only gateway\.gantry\.dev\/GatewayParameters is supported/],
  ];
  for (const [r, extra, message] of cases) {
    const result = run([gatewayClass(), ...extra, withParams(r)]);
    const accepted = gatewayCondition(result, 'Accepted');
    assert.deepEqual([accepted.status, accepted.reason], ['False', 'InvalidParameters'], String(message));
    assert.match(accepted.message, message);
    assert.equal(gatewayCondition(result, 'Programmed').status, 'False');
  }
});

test('a GatewayClass\'s parametersRef must name existing GatewayParameters with a namespace', () => {
  const cls = (parametersRef: unknown): KubeObject => ({ ...gatewayClass(), spec: { controllerName: 'gantry.dev/gateway-controller', parametersRef } });
  assert.equal(classCondition(run([cls(ref('defaults', { namespace: 'infra' })), params('defaults', {}, 'infra')])).status, 'True');
  const missing = classCondition(run([cls(ref('defaults', { namespace: 'infra' }))]));
  assert.deepEqual([missing.status, missing.reason], ['False', 'InvalidParameters']);
  assert.match(classCondition(run([cls(ref('defaults'))])).message, /a namespace is required/);
});
