import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  condition, encodeEverySnapshot, encodeSnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, reportOf, routeParent, run, service, stored, unpack,
} from './fixtures.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const base = [gatewayClass(), gateway('web', [httpListener('http', 8080, { hostname: 'api.example.com' }), httpListener('any', 8080)])];
const toApp = { parentRefs: [{ name: 'web' }], rules: [{ backendRefs: [{ name: 'app', port: 80 }] }] };

test('one socket listener per port, on 0.0.0.0, with an RDS HttpConnectionManager ending in the router filter', () => {
  const snapshot = run([...base, httpRoute('r', toApp)], [service('default', 'app', [{ port: 80 }])]).snapshots.get('default/web')!;
  assert.equal(snapshot.listeners.length, 1);
  const [listener] = snapshot.listeners;
  assert.equal(listener.name, 'default/web/http-8080');
  assert.deepEqual(listener.address, { socket_address: { address: '0.0.0.0', port_value: 8080 } });
  const hcm = unpack(HCM, listener.filter_chains![0].filters![0].typed_config);
  assert.equal(hcm.rds.route_config_name, 'default/web/http-8080');
  assert.deepEqual(hcm.rds.config_source.ads, {});
  assert.equal(hcm.http_filters.at(-1).typed_config.type_url, 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router');
  assert.equal(hcm.strip_any_host_port, true);
  assert.deepEqual(snapshot.routes.map((r) => r.name), ['default/web/http-8080']);
  assert.deepEqual(snapshot.secrets, []);
});

test('API listener templates: per port, the listener hostnames ("*" for none), an unnamed Listener pointing at the gRPC variant', () => {
  const snapshot = run([...base, grpcRoute('g', toApp)], [service('default', 'app', [{ port: 80 }])]).snapshots.get('default/web')!;
  assert.equal(snapshot.apiListeners.length, 1);
  const [api] = snapshot.apiListeners;
  assert.deepEqual([api.port, api.hostnames, api.template.name], [8080, ['*', 'api.example.com'], '']);
  const hcm = unpack(HCM, api.template.api_listener!.api_listener);
  assert.equal(hcm.rds.route_config_name, 'default/web/http-8080/grpc');
  assert.deepEqual(snapshot.grpcRoutes.map((r) => r.name), ['default/web/http-8080/grpc']);
});

test('endpoints: only ready IP endpoints, grouped by member cluster and zone, every locality weighted 1', () => {
  const snapshot = run([...base, httpRoute('r', toApp)], [
    service('default', 'app', [{ port: 80, targetPort: 8080, endpoints: [
      { address: '10.0.0.2', zone: 'zone-b' }, { address: '10.0.0.1', zone: 'zone-a' }, { address: '10.0.0.3', zone: 'zone-a' },
      { address: '10.0.0.9', zone: 'zone-a', ready: false }, { address: 'not-an-ip.example', zone: 'zone-a' },
    ] }], 'east'),
    service('default', 'app', [{ port: 80, targetPort: 8080, endpoints: [{ address: 'fd00::1', zone: 'zone-a' }] }], 'west'),
  ]).snapshots.get('default/web')!;
  const cla = snapshot.endpoints.find((e) => e.cluster_name === 'k8s/default/app/80')!;
  const summary = cla.endpoints!.map((l) => ({
    locality: l.locality, weight: l.load_balancing_weight,
    addresses: l.lb_endpoints!.map((e) => `${e.endpoint!.address!.socket_address!.address}:${e.endpoint!.address!.socket_address!.port_value}`),
  }));
  assert.deepEqual(summary, [
    { locality: { region: 'east', zone: 'zone-a' }, weight: { value: 1 }, addresses: ['10.0.0.1:8080', '10.0.0.3:8080'] },
    { locality: { region: 'east', zone: 'zone-b' }, weight: { value: 1 }, addresses: ['10.0.0.2:8080'] },
    { locality: { region: 'west', zone: 'zone-a' }, weight: { value: 1 }, addresses: ['fd00::1:8080'] },
  ]);
});

test('a malformed route gets Accepted=False UnsupportedValue naming the field, and the other routes still translate', () => {
  const result = run([...base,
    httpRoute('bad', { parentRefs: [{ name: 'web' }], rules: [{ matches: [{ path: { type: 'Prefixish', value: '/x' } }] }] }),
    httpRoute('good', toApp),
  ], [service('default', 'app', [{ port: 80 }])]);
  const accepted = condition(routeParent(result, 'HTTPRoute', 'bad', 'web')!.conditions, 'Accepted')!;
  assert.deepEqual([accepted.status, accepted.reason], ['False', 'UnsupportedValue']);
  assert.match(accepted.message, /spec\.rules\[0\]\.matches\[0\]\.path\.type/);
  assert.equal(condition(routeParent(result, 'HTTPRoute', 'good', 'web')!.conditions, 'Accepted')!.status, 'True');
  const names = result.snapshots.get('default/web')!.routes[0].virtual_hosts!.flatMap((v) => v.routes!.map((r) => r.name!.split('/')[2]));
  assert.ok(names.includes('good') && !names.includes('bad'));
});

test('a malformed Gateway of our class is Accepted=False Invalid with the message, gets no snapshot, and others still translate', () => {
  const result = run([...base, gateway('broken', [{ name: 'http', port: 'eighty', protocol: 'HTTP' }])]);
  const status = reportOf(result, 'Gateway', 'broken')!.status;
  assert.equal(condition(status.conditions, 'Accepted')!.reason, 'Invalid');
  assert.match(condition(status.conditions, 'Accepted')!.message, /spec\.listeners\[0\]\.port/);
  assert.equal(result.snapshots.has('default/broken'), false);
  assert.equal(result.snapshots.has('default/web'), true);
});

test('objects that are not Kubernetes objects at all are ignored without throwing', () => {
  const result = run([...base, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: {} } as never, stored({ kind: 'Gateway' })]);
  assert.equal(result.snapshots.size, 1);
});

test('multi-cluster: on a duplicate object the cluster sorting first wins, and reports carry that cluster', () => {
  const result = run([
    stored(gatewayClass()),
    stored(gateway('web', [httpListener('from-b', 81)]), 'cluster-b'),
    stored(gateway('web', [httpListener('from-a', 80)]), 'cluster-a'),
  ]);
  const report = reportOf(result, 'Gateway', 'web')!;
  assert.equal(report.cluster, 'cluster-a');
  assert.deepEqual((report.status.listeners as Array<{ name: string }>).map((l) => l.name), ['from-a']);
});

test('determinism: the same input in another order encodes byte for byte the same, reports included', () => {
  const objects = [...base,
    httpRoute('a', { parentRefs: [{ name: 'web' }], hostnames: ['api.example.com'], rules: [{ backendRefs: [{ name: 'app', port: 80, weight: 2 }, { name: 'b', port: 81 }] }] }),
    httpRoute('b', toApp), grpcRoute('c', toApp),
  ];
  const services = [
    service('default', 'app', [{ port: 80, endpoints: [{ address: '10.0.0.2', zone: 'z2' }, { address: '10.0.0.1', zone: 'z1' }] }], 'one'),
    service('default', 'app', [{ port: 80, endpoints: [{ address: '10.0.1.1', zone: 'z1' }] }], 'two'),
    service('default', 'b', [{ port: 81 }]),
  ];
  const encodeAll = (r: ReturnType<typeof run>) =>
    Buffer.concat([...r.snapshots.values()].flatMap(encodeSnapshot).concat(Buffer.from(JSON.stringify(r.reports)))).toString('base64');
  const first = encodeAll(run(objects, services));
  const second = encodeAll(run([...objects].reverse(), [...services].reverse()));
  assert.equal(first, second);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
