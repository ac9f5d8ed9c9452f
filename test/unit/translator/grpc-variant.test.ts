// The gRPC variant of a route configuration: what proxyless clients accept, failing calls the way
// Envoy's answers would reach a gRPC client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpcVariant } from '../../../libs/translator/envoy/grpc-variant.ts';
import { UNAVAILABLE_CLUSTER } from '../../../libs/translator/names.ts';
import { decode, encode } from '../../../libs/xds/encode.ts';
import type { Route } from '../../../libs/xds/types.ts';

const abortStatus = (r: Route) => {
  const any = r.typed_per_filter_config?.['envoy.filters.http.fault'] as { value: Buffer } | undefined;
  return any ? (decode('envoy.extensions.filters.http.fault.v3.HTTPFault', any.value).abort as { http_status: number }).http_status : undefined;
};

test('redirects and direct responses abort with the status Envoy answers; unmatched calls get 404 (UNIMPLEMENTED)', () => {
  const variant = grpcVariant({
    name: 'r',
    virtual_hosts: [{
      name: 'a', domains: ['a.test', 'a.test:80'],
      routes: [
        { name: 'redirect', match: { prefix: '/old/' }, redirect: { host_redirect: 'b.test', response_code: 'FOUND' } },
        { name: 'broken', match: { path: '/x' }, direct_response: { status: 500 } },
        { name: 'ok', match: { prefix: '/svc/', grpc: {} }, route: { cluster: 'k8s/ns/svc/80' } },
      ],
    }],
  }, 'r/grpc');
  encode('envoy.config.route.v3.RouteConfiguration', variant);
  const [a, star] = variant.virtual_hosts!;
  const routes = a.routes!;
  assert.deepEqual(routes.map((r) => r.name), ['redirect', 'broken', 'ok', 'gantry/no-route']);
  assert.equal(abortStatus(routes[0]), 302);
  assert.equal(abortStatus(routes[1]), 500);
  assert.equal(routes[0].redirect, undefined);
  assert.equal(routes[1].route?.cluster, UNAVAILABLE_CLUSTER);
  assert.deepEqual(routes[2].match, { prefix: '/svc/' }, 'the grpc match is dropped: every call is gRPC');
  assert.equal(abortStatus(routes[3]), 404);
  assert.deepEqual(star.domains, ['*'], 'hosts no virtual host matches still get an answer');
  assert.equal(abortStatus(star.routes![0]), 404);
});
