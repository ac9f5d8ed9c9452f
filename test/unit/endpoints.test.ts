import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planEndpoints, serviceEndpoints, slicesOf } from '../../libs/endpoints/index.ts';
import { parseManifestText } from '../../libs/manifests/index.ts';
import type { KubeObject } from '../../libs/translator/api.ts';

const svc = (ports: unknown[], extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'app' }, spec: { ports, ...extra } });
const slice = (name: string, ports: unknown[], endpoints: unknown[], service = 'web'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
  metadata: { name, namespace: 'app', labels: { 'kubernetes.io/service-name': service } }, ports, endpoints,
});

test('serviceEndpoints: the unnamed single port matches slice ports with an empty name, on the target port', () => {
  const s = svc([{ port: 80, targetPort: 8080 }]);
  const out = serviceEndpoints(s, [slice('w-1', [{ port: 8080, protocol: 'TCP' }], [{ addresses: ['10.0.0.2', '10.0.0.1'], zone: 'z1', nodeName: 'n1' }])]);
  assert.deepEqual(out, [{
    name: '', port: 80, protocol: 'TCP', endpoints: [
      { address: '10.0.0.1', port: 8080, ready: true, serving: true, terminating: false, zone: 'z1', node: 'n1' },
      { address: '10.0.0.2', port: 8080, ready: true, serving: true, terminating: false, zone: 'z1', node: 'n1' },
    ],
  }]);
});

test('serviceEndpoints: named ports take only the slice port of the same name', () => {
  const s = svc([{ name: 'http', port: 80 }, { name: 'grpc', port: 9000, appProtocol: 'kubernetes.io/h2c' }]);
  const out = serviceEndpoints(s, [slice('w-1', [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }, { name: 'admin', port: 9901 }], [{ addresses: ['10.0.0.1'] }])]);
  assert.deepEqual(out.map((p) => [p.name, p.port, p.appProtocol, p.endpoints.map((e) => e.port)]), [
    ['http', 80, undefined, [8080]], ['grpc', 9000, 'kubernetes.io/h2c', [9090]],
  ]);
});

test('serviceEndpoints: ready nil counts as ready; not ready, serving and terminating are kept as said', () => {
  const out = serviceEndpoints(svc([{ port: 80 }]), [slice('w-1', [{ port: 80 }], [
    { addresses: ['10.0.0.1'] },
    { addresses: ['10.0.0.2'], conditions: { ready: false } },
    { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true }, hostname: 'pod-3' },
  ])]);
  assert.deepEqual(out[0].endpoints.map((e) => [e.address, e.ready, e.serving, e.terminating, e.hostname]), [
    ['10.0.0.1', true, true, false, undefined], ['10.0.0.2', false, false, false, undefined], ['10.0.0.3', false, true, true, 'pod-3'],
  ]);
});

test('serviceEndpoints: endpoints of several slices are merged; the same endpoint twice keeps its ready copy', () => {
  const slices = [
    slice('w-1', [{ port: 80 }], [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.3'], conditions: { ready: false } }]),
    slice('w-2', [{ port: 80 }], [{ addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.3'], conditions: { ready: true } }]),
    slice('other', [{ port: 80 }], [{ addresses: ['10.9.9.9'] }], 'other'),
  ];
  const s = svc([{ port: 80 }]);
  const out = serviceEndpoints(s, slicesOf(s, slices));
  assert.deepEqual(out[0].endpoints.map((e) => [e.address, e.ready]), [['10.0.0.1', true], ['10.0.0.2', true], ['10.0.0.3', true]]);
});

test('serviceEndpoints: a Service without slices has its ports with no endpoints; UDP does not take TCP slice ports', () => {
  const s = svc([{ name: 'dns', port: 53, protocol: 'UDP' }]);
  assert.deepEqual(serviceEndpoints(s, []), [{ name: 'dns', port: 53, protocol: 'UDP', endpoints: [] }]);
  assert.deepEqual(serviceEndpoints(s, [slice('w', [{ name: 'dns', port: 53 }], [{ addresses: ['10.0.0.1'] }])])[0].endpoints, []);
});

test('planEndpoints: one event per Service from the manifests, resourceVersion the content digest', () => {
  const { objects } = parseManifestText(`apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, ports: [{port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{port: 8080}]
endpoints: [{addresses: [10.1.1.1]}]
`, 'svc.yaml');
  const plan = planEndpoints('local', objects, 'now');
  const e = plan.get('gantry.ep.local.default.web')!;
  assert.equal(e.event.serviceType, 'NodePort');
  assert.equal(e.event.ports[0].endpoints[0].address, '10.1.1.1');
  assert.equal(e.event.resourceVersion, e.digest);
  assert.equal(planEndpoints('local', objects, 'later').get('gantry.ep.local.default.web')!.digest, e.digest);
});
