// Gateway provisioning's pure parts: parameters, the objects, and the status they imply.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { gatewayInfrastructure, labelValue, proxyObjectName, servicePorts, SPEC_HASH_ANNOTATION } from '../../libs/provisioning/infrastructure.ts';
import { parseParameters, resolveParameters } from '../../libs/provisioning/parameters.ts';
import { applyInfrastructure, infrastructureVerdict, serviceAddresses, type InfrastructureState } from '../../libs/provisioning/status.ts';

const defaults = { envoyImage: 'envoy:1' };
const xds = { address: 'xds.example', port: 18000 };
const input = (over: Partial<Parameters<typeof gatewayInfrastructure>[0]> = {}) => ({
  namespace: 'apps', name: 'web', uid: 'u-1', className: 'gantry',
  listeners: [{ port: 443, protocol: 'HTTPS' }, { port: 80, protocol: 'HTTP' }, { port: 443, protocol: 'TLS' }],
  parameters: resolveParameters([], defaults), ...over,
});

test('class parameters are the defaults, the Gateway\'s override them field by field; maps merge, lists replace', () => {
  const p = resolveParameters([
    { service: { type: 'NodePort', annotations: { a: '1', b: '1' }, loadBalancerSourceRanges: ['10.0.0.0/8'] }, deployment: { replicas: 2, tolerations: [{ key: 'x' }] } },
    { service: { annotations: { b: '2' }, loadBalancerSourceRanges: ['192.168.0.0/16'] }, envoy: { logLevel: 'debug' } },
  ], defaults);
  assert.equal(p.service.type, 'NodePort');
  assert.deepEqual(p.service.annotations, { a: '1', b: '2' });
  assert.deepEqual(p.service.loadBalancerSourceRanges, ['192.168.0.0/16']);
  assert.equal(p.deployment.replicas, 2);
  assert.deepEqual(p.deployment.tolerations, [{ key: 'x' }]);
  assert.equal(p.envoy.logLevel, 'debug');
  assert.equal(p.envoy.image, 'envoy:1');
  assert.deepEqual(resolveParameters([], defaults).service.type, 'LoadBalancer');
});

test('invalid parameters are refused with the field named', () => {
  const bad = parseParameters({ spec: { deployment: { replicas: -1 }, service: { type: 'Internal' } } });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /spec\.deployment\.replicas/);
  assert.match(!bad.ok ? bad.message : '', /spec\.service\.type/);
  assert.equal(parseParameters({ spec: { unknownField: 1 } }).ok, false, 'a typo is an error, not ignored');
  assert.equal(parseParameters({}).ok, true);
});

test('names: <gateway>-gantry, a DNS-1035 label of at most 63 characters; label values fit too', () => {
  assert.equal(proxyObjectName('web'), 'web-gantry');
  const long = proxyObjectName('a'.repeat(100));
  assert.ok(long.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  assert.notEqual(proxyObjectName('a'.repeat(100)), proxyObjectName(`${'a'.repeat(99)}b`), 'distinct long names stay distinct');
  const dotted = proxyObjectName('1.web.example');
  assert.match(dotted, /^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  assert.ok(labelValue('x'.repeat(80)).length <= 63);
  assert.equal(labelValue('web'), 'web');
});

test('one Service port per distinct port and transport', () => {
  assert.deepEqual(servicePorts(input().listeners).map((p) => `${p.protocol}/${p.port}`), ['TCP/80', 'TCP/443']);
  assert.deepEqual(servicePorts([{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]).map((p) => p.name), ['tcp-53', 'udp-53']);
});

test('the objects: owned by the Gateway, hashed, the bootstrap naming the Gateway and the xds-server', () => {
  const objects = gatewayInfrastructure(input(), xds);
  assert.deepEqual(objects.map((o) => o.kind), ['ServiceAccount', 'ConfigMap', 'Deployment', 'Service']);
  for (const o of objects) {
    assert.equal(o.metadata.name, 'web-gantry');
    assert.equal(o.metadata.ownerReferences[0].uid, 'u-1');
    assert.match(o.metadata.annotations[SPEC_HASH_ANNOTATION], /^[0-9a-f]{16}$/);
  }
  const bootstrap = parse(objects[1].data['envoy.yaml']);
  assert.equal(bootstrap.node.cluster, 'apps/web');
  assert.equal(bootstrap.dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name, 'gantry-xds');
  assert.equal(bootstrap.admin.address.socket_address.address, '127.0.0.1', 'admin only on loopback');
  const again = gatewayInfrastructure(input(), xds);
  assert.deepEqual(again, objects, 'deterministic: the same input, the same objects and hashes');
  const moved = gatewayInfrastructure(input(), { ...xds, port: 18001 });
  assert.notEqual(moved[2].spec.template.metadata.annotations['gateway.gantry.dev/bootstrap-hash'], objects[2].spec.template.metadata.annotations['gateway.gantry.dev/bootstrap-hash'], 'a new bootstrap rolls the pods');
  assert.equal(moved[3].metadata.annotations[SPEC_HASH_ANNOTATION], objects[3].metadata.annotations[SPEC_HASH_ANNOTATION], 'the Service did not change');
});

const state = (over: Partial<InfrastructureState> = {}): InfrastructureState => ({
  objects: 'apps/web-gantry', serviceType: 'LoadBalancer', addresses: [{ type: 'IPAddress', value: '203.0.113.1' }],
  replicas: 2, readyReplicas: 1, connectedProxies: 1, programmedProxies: 1, ...over,
});

test('Programmed waits for an address, a ready replica and an acknowledging proxy, in that order', () => {
  assert.equal(infrastructureVerdict(state()), undefined);
  assert.equal(infrastructureVerdict(state({ addresses: [], readyReplicas: 0 }))?.reason, 'AddressNotAssigned');
  assert.match(infrastructureVerdict(state({ readyReplicas: 0 }))!.message, /0 of 2 replicas ready/);
  assert.match(infrastructureVerdict(state({ programmedProxies: 0, connectedProxies: 3 }))!.message, /3 connected/);
  assert.equal(infrastructureVerdict(state({ problem: 'x' }))?.reason, 'Invalid');
});

test('the status: addresses from the Service; Programmed withheld but never granted; transition times kept', () => {
  const programmed = { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'm', lastTransitionTime: 't0' };
  const status = { addresses: [{ type: 'IPAddress', value: '127.0.0.1' }], conditions: [programmed], listeners: [{ name: 'l', conditions: [programmed] }] };
  const waiting = applyInfrastructure(status, state({ readyReplicas: 0 }), undefined, 't1');
  assert.deepEqual(waiting.addresses, [{ type: 'IPAddress', value: '203.0.113.1' }]);
  assert.deepEqual([waiting.conditions[0].status, waiting.conditions[0].reason, waiting.conditions[0].lastTransitionTime], ['False', 'Pending', 't1']);
  assert.equal(waiting.listeners[0].conditions[0].reason, 'Pending');
  const later = applyInfrastructure(status, state({ readyReplicas: 0 }), waiting, 't2');
  assert.equal(later.conditions[0].lastTransitionTime, 't1', 'still Pending: the time it became so');
  const rejected = { ...status, conditions: [{ ...programmed, status: 'False', reason: 'Invalid', message: 'rejected by proxy' }] };
  assert.equal(applyInfrastructure(rejected, state(), undefined, 't1').conditions[0].reason, 'Invalid', 'a rejection stands');
  assert.equal(applyInfrastructure(status, state(), undefined, 't1').conditions[0].status, 'True');
});

test('Service addresses: load balancer ingress (IP or hostname), else cluster IPs', () => {
  assert.deepEqual(serviceAddresses({ spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'lb.example' }] } } }),
    [{ type: 'IPAddress', value: '1.2.3.4' }, { type: 'Hostname', value: 'lb.example' }]);
  assert.deepEqual(serviceAddresses({ spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1' } }), [], 'a load balancer without ingress has no address yet');
  assert.deepEqual(serviceAddresses({ spec: { type: 'ClusterIP', clusterIPs: ['10.0.0.1', 'fd00::1'] } }), [{ type: 'IPAddress', value: '10.0.0.1' }, { type: 'IPAddress', value: 'fd00::1' }]);
  assert.deepEqual(serviceAddresses({ spec: { type: 'ClusterIP', clusterIP: 'None' } }), []);
});
