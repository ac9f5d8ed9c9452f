import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode, encodeRouteConfiguration, encodeUnchecked, pack, ProtoShapeError } from '../../libs/xds/encode.ts';
import { anyToJson } from '../../libs/xds/json.ts';
import { LISTENER, ROUTE, SECRET } from '../../libs/xds/type-urls.ts';

test('a misspelled field is rejected, not silently dropped', () => {
  assert.throws(
    () => encodeUnchecked('envoy.config.listener.v3.Listener', { name: 'l', adress: {} }),
    (err: unknown) => err instanceof ProtoShapeError && /unknown field "adress"/.test(err.message),
  );
  assert.throws(
    () => encodeUnchecked('envoy.config.cluster.v3.Cluster', { name: 'c', load_assignment: { endpoints: [{ lb_endpoint: [] }] } }),
    /load_assignment\.endpoints\[0\]\.lb_endpoint/,
  );
});

test('an Any must carry an encoded message', () => {
  assert.throws(() => encodeUnchecked('envoy.config.listener.v3.Listener', {
    name: 'l', filter_chains: [{ filters: [{ name: 'f', typed_config: { '@type': 'x' } }] }],
  }), /Any must be built with pack/);
});

test('config-dump JSON: @type, camelCase, durations, nested Any, defaults left out', () => {
  const hcm = pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
    stat_prefix: 'http', stream_idle_timeout: { seconds: 5 }, request_timeout: { seconds: 1, nanos: 500_000_000 },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
  });
  const bytes = encode('envoy.config.listener.v3.Listener', {
    name: 'l', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
    filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }] }],
  });
  const json = anyToJson(LISTENER, bytes) as Record<string, any>;
  assert.equal(json['@type'], LISTENER);
  assert.deepEqual(json.address, { socketAddress: { address: '0.0.0.0', portValue: 8080 } });
  const cfg = json.filterChains[0].filters[0].typedConfig;
  assert.equal(cfg['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  assert.equal(cfg.streamIdleTimeout, '5s');
  assert.equal(cfg.requestTimeout, '1.500s');
  assert.equal(cfg.codecType, undefined, 'enum default AUTO is left out');
  assert.deepEqual(cfg.httpFilters[0].typedConfig, { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' });
});

test('private keys are redacted in the JSON, certificates are not', () => {
  const bytes = encode('envoy.extensions.transport_sockets.tls.v3.Secret', {
    name: 's', tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_string: 'KEY' } },
  });
  const json = anyToJson(SECRET, bytes) as Record<string, any>;
  assert.equal(json.tlsCertificate.certificateChain.inlineString, 'CERT');
  assert.equal(json.tlsCertificate.privateKey.inlineString, '[redacted]');
  assert.ok(!JSON.stringify(json).includes('KEY'));
});

test('wrappers are unwrapped and 64-bit integers are strings', () => {
  const bytes = encode('envoy.config.cluster.v3.Cluster', {
    name: 'c', per_connection_buffer_limit_bytes: { value: 1024 }, max_requests_per_connection: { value: 7 },
    connect_timeout: { seconds: 2 },
  });
  const json = anyToJson('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes) as Record<string, any>;
  assert.equal(json.perConnectionBufferLimitBytes, 1024);
  assert.equal(json.connectTimeout, '2s');
});

test('an enum value is given by name (or number); an unknown name is rejected, not dropped', () => {
  const bytes = encode('envoy.config.cluster.v3.Cluster', { name: 'c', type: 'EDS', lb_policy: 'LEAST_REQUEST' });
  const json = anyToJson('type.googleapis.com/envoy.config.cluster.v3.Cluster', bytes) as Record<string, any>;
  assert.equal(json.type, 'EDS');
  assert.equal(json.lbPolicy, 'LEAST_REQUEST');
  assert.deepEqual(encode('envoy.config.cluster.v3.Cluster', { name: 'c', type: 3 }), encode('envoy.config.cluster.v3.Cluster', { name: 'c', type: 'EDS' }));
  assert.throws(() => encodeUnchecked('envoy.config.cluster.v3.Cluster', { name: 'c', lb_policy: 'LEAST_REQUESTS' }), /lb_policy: expected an enum value/);
});

test('a scalar of the wrong JS type is rejected, not coerced', () => {
  assert.throws(
    () => encodeUnchecked('envoy.config.listener.v3.Listener', { name: 'l', address: { socket_address: { address: '0.0.0.0', port_value: '8080' } } }),
    /port_value: expected uint32, got string/,
  );
  assert.throws(() => encodeUnchecked('envoy.config.cluster.v3.Cluster', { name: 7 }), /name: expected string/);
});

test('a RouteConfiguration encoded virtual host by virtual host decodes to the same message', () => {
  const rc = {
    name: 'r', validate_clusters: { value: false },
    virtual_hosts: [1, 2, 3].map((i) => ({ name: `vh${i}`, domains: [`h${i}`], routes: [{ match: { prefix: '/' }, route: { cluster: `c${i}` } }] })),
  };
  const whole = encode('envoy.config.route.v3.RouteConfiguration', rc);
  const pieces = encodeRouteConfiguration(rc);
  assert.deepEqual(anyToJson(ROUTE, pieces), anyToJson(ROUTE, whole));
  assert.deepEqual(encodeRouteConfiguration(rc), pieces, 'deterministic');
  assert.throws(() => encodeRouteConfiguration({ name: 'r', virtual_hosts: [{ name: 'v', domainz: [] } as never] }), /unknown field "domainz"/);
});
