// Gantry reads Envoy's v3 protos from the deps/ folder of the exactly pinned @grpc/grpc-js-xds.
// If an upgrade moves or drops them, these tests fail loudly instead of the services at run time.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { envoyIncludeDirs, envoyRoot, protoSpec } from '../../libs/xds/protos.ts';

test('@grpc/grpc-js-xds is pinned to an exact version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.match(pkg.dependencies['@grpc/grpc-js-xds'], /^\d+\.\d+\.\d+$/);
});

test('every Envoy proto Gantry uses is where protos/envoy-protos.json says', () => {
  const dirs = envoyIncludeDirs();
  for (const file of protoSpec().files) {
    assert.ok(dirs.some((d) => existsSync(join(d, file))), `${file} not found under ${dirs.join(', ')}`);
  }
});

test('the xDS resource types and the ADS service resolve from the loaded descriptors', () => {
  const root = envoyRoot();
  for (const name of [
    'envoy.config.listener.v3.Listener', 'envoy.config.route.v3.RouteConfiguration',
    'envoy.config.cluster.v3.Cluster', 'envoy.config.endpoint.v3.ClusterLoadAssignment',
    'envoy.extensions.transport_sockets.tls.v3.Secret',
    'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ]) {
    assert.ok(root.lookupType(name), name);
  }
  assert.ok(root.lookupService('envoy.service.discovery.v3.AggregatedDiscoveryService'));
});

test('generated TypeScript types exist for the resource types (npm install runs the generator)', () => {
  const require = createRequire(import.meta.url);
  const top = join(require.resolve('../../package.json'), '..');
  for (const file of ['envoy/config/listener/v3/Listener.ts', 'envoy/config/route/v3/RouteConfiguration.ts']) {
    assert.ok(existsSync(join(top, 'protos/generated', file)), `protos/generated/${file} missing: run npm install`);
  }
});
