// A real proxyless client (@grpc/grpc-js-xds, in a child process) routed by the xds-server to gRPC
// echo backends: its LDS request for `host:port` gets an API listener, then RDS, CDS and EDS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import { startEchoBackend, type EchoBackend } from '../support/echo-backend.ts';
import { spawnXdsGrpcClient } from '../support/xds-grpc-client.ts';
import { apiListenerTemplate, cluster, endpoints, routeConfig, seedSnapshot, startEnv, tapProxyEvents } from './helpers.ts';

const GW = 'apps/grpc-gw';
const ECHO = '/gantry.test.Echo/Call';

function snapshot(backends: Record<string, EchoBackend>, echoTo: string): EncodedSnapshot {
  const names = Object.keys(backends);
  return {
    gateway: GW,
    resources: names.flatMap((n) => [cluster(`svc-${n}`), endpoints(`svc-${n}`, [backends[n].port])]),
    grpcRoutes: [routeConfig('grpc-8080', [
      { domains: ['echo.test:8080', 'echo.test'], cluster: `svc-${echoTo}`, header: { name: 'x-backend', value: 'b', cluster: 'svc-b' } },
      { domains: ['*.other.test:8080'], cluster: 'svc-b' },
    ])],
    apiListeners: [{ port: 8080, hostnames: ['echo.test', '*.other.test'], template: apiListenerTemplate('grpc-8080') }],
  };
}

test('grpc-js-xds clients reach the backend the snapshot routes to, and follow a changed snapshot', async () => {
  const env = await startEnv();
  const backends = { a: await startEchoBackend('a'), b: await startEchoBackend('b') };
  const tap = tapProxyEvents(env);
  await seedSnapshot(env, snapshot(backends, 'a'));
  const client = await spawnXdsGrpcClient({ xdsPort: env.xds.port, nodeId: 'grpc-client-1', gateway: GW });
  try {
    const first = await client.run({ target: 'xds:///echo.test:8080', method: ECHO, count: 5 });
    assert.deepEqual(first, { id: first.id, backends: { a: 5 }, errors: {} });

    const byHeader = await client.run({ target: 'xds:///echo.test:8080', method: ECHO, metadata: { 'x-backend': 'b' }, count: 3 });
    assert.deepEqual(byHeader.backends, { b: 3 });
    const wildcardHost = await client.run({ target: 'xds:///api.other.test:8080', method: ECHO, count: 2 });
    assert.deepEqual(wildcardHost.backends, { b: 2 });

    // The client accepted what it got: every type is ACKed, nothing NACKed.
    for (const type of ['Listener', 'RouteConfiguration', 'Cluster', 'ClusterLoadAssignment']) {
      await tap.waitFor((e) => e.event === 'ack' && e.node === 'grpc-client-1' && (e.typeUrl ?? '').endsWith(type));
    }
    assert.equal(tap.events.filter((e) => e.event === 'nack').length, 0, JSON.stringify(tap.events.filter((e) => e.event === 'nack')));

    // A new snapshot moves echo.test to b.
    await seedSnapshot(env, snapshot(backends, 'b'));
    const moved = await client.runUntil({ target: 'xds:///echo.test:8080', method: ECHO, count: 4 }, (r) => r.backends.b === 4);
    assert.deepEqual(moved.errors, {});
  } finally {
    await client.stop();
    tap.stop();
    await Promise.all(Object.values(backends).map((b) => b.stop()));
    await env.stop();
  }
});
