import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEverySnapshot, gateway, gatewayClass, grpcRoute, httpListener, httpRoute, run, service } from './fixtures.ts';

const svc = service('default', 'app', [{ port: 8080 }]);
const to = [{ name: 'app', port: 8080 }];
const parent = { parentRefs: [{ name: 'web' }] };

function routeOrder(objects: unknown[]): string[] {
  const result = run([gatewayClass(), gateway('web', [httpListener('http')]), ...(objects as never[])], [svc]);
  const [config] = result.snapshots.get('default/web')!.routes;
  return config.virtual_hosts![0].routes!.map((r) => `${r.name!.split('/')[2]}:${JSON.stringify(r.match)}`);
}

test('HTTPRoute precedence: exact path > longest prefix > method > most headers > most query params', () => {
  const order = routeOrder([
    httpRoute('catch-all', { ...parent, rules: [{ backendRefs: to }] }),
    httpRoute('query', { ...parent, rules: [{ matches: [{ path: { value: '/a' }, queryParams: [{ name: 'q', value: '1' }] }], backendRefs: to }] }),
    httpRoute('headers', { ...parent, rules: [{ matches: [{ path: { value: '/a' }, headers: [{ name: 'h', value: '1' }] }], backendRefs: to }] }),
    httpRoute('method', { ...parent, rules: [{ matches: [{ path: { value: '/a' }, method: 'GET', queryParams: [] }], backendRefs: to }] }),
    httpRoute('long-prefix', { ...parent, rules: [{ matches: [{ path: { value: '/a/b' } }], backendRefs: to }] }),
    httpRoute('exact', { ...parent, rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], backendRefs: to }] }),
  ]);
  const names = [...new Set(order.map((o) => o.split(':')[0]))];
  assert.deepEqual(names, ['exact', 'long-prefix', 'method', 'headers', 'query', 'catch-all']);
});

test('ties go to the oldest route, then namespace/name alphabetical, then rule order', () => {
  const rule = { matches: [{ path: { type: 'Exact', value: '/same' } }], backendRefs: to };
  const order = routeOrder([
    httpRoute('b-new', { ...parent, rules: [rule] }, { creationTimestamp: '2024-06-01T00:00:00Z' }),
    httpRoute('z-old', { ...parent, rules: [rule] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
    httpRoute('a-new', { ...parent, rules: [rule, { matches: [{ path: { type: 'Exact', value: '/same' } }], backendRefs: to }] }, { creationTimestamp: '2024-06-01T00:00:00Z' }),
  ]);
  assert.deepEqual(order.map((o) => o.split(':')[0]), ['z-old', 'a-new', 'a-new', 'b-new']);
});

test('GRPCRoute rules come before HTTPRoute rules on a shared hostname, and only match gRPC requests', () => {
  const order = routeOrder([
    httpRoute('web', { ...parent, rules: [{ backendRefs: to }] }),
    grpcRoute('rpc', { ...parent, rules: [{ matches: [{ method: { service: 'svc.S' } }], backendRefs: to }] }),
  ]);
  assert.deepEqual(order, ['rpc:{"prefix":"/svc.S/","grpc":{}}', 'web:{"prefix":"/"}']);
});

test('every snapshot this file produced encodes against Envoy protos', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
