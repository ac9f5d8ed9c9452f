// Maximum connection age: a replica sends GOAWAY to a connection older than
// GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS (± grpc-js's 10% jitter) and cuts its streams after the
// grace period, so proxies reconnect (possibly to a replica added since) and get the same versions.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adsClient, cluster, endpoints, seedSnapshot, startEnv, tapProxyEvents, TYPES } from './helpers.ts';

const GW = 'default/web';
const { CLUSTER, ENDPOINT } = TYPES;

test('a stream older than the maximum connection age is ended; the proxy reconnects and gets the same versions', async () => {
  const env = await startEnv();
  const tap = tapProxyEvents(env);
  try {
    await seedSnapshot(env, { gateway: GW, resources: [cluster('echo'), endpoints('echo', [9001])], grpcRoutes: [], apiListeners: [] });
    const replica = await env.startReplica('aging', {
      GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS: '0.6', GANTRY_XDS_MAX_CONNECTION_AGE_GRACE_SECONDS: '0.2',
    });
    const started = Date.now();
    const first = adsClient(replica.port, { id: 'envoy-1', cluster: GW });
    first.send({ type_url: CLUSTER });
    const cds = await first.next(CLUSTER);
    first.send({ type_url: CLUSTER, version_info: cds.version_info, response_nonce: cds.nonce });
    first.send({ type_url: ENDPOINT, resource_names: ['echo'] });
    const eds = await first.next(ENDPOINT);
    const status = await first.status;
    const lived = Date.now() - started;
    first.close();
    assert.equal(status.code, grpc.status.UNAVAILABLE, `ended with ${status.code}: ${status.details}`);
    // 0.6 s ± 10%, plus the 0.2 s grace; generous upper bound for a loaded machine.
    assert.ok(lived >= 540 && lived < 3000, `the stream lived ${lived} ms`);
    await tap.waitFor((e) => e.event === 'disconnected' && e.node === 'envoy-1' && e.replica === 'aging');

    // The proxy reconnects (a new connection) and is given the versions it had: nothing changes for it.
    const again = adsClient(replica.port, { id: 'envoy-1', cluster: GW });
    try {
      again.send({ type_url: CLUSTER });
      again.send({ type_url: ENDPOINT, resource_names: ['echo'] });
      assert.equal((await again.next(CLUSTER)).version_info, cds.version_info);
      assert.equal((await again.next(ENDPOINT)).version_info, eds.version_info);
    } finally {
      again.close();
    }

    // A replica without the setting (age 0) keeps its connections.
    const forever = await env.startReplica('forever', { GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS: '0' });
    const kept = adsClient(forever.port, { id: 'envoy-2', cluster: GW });
    try {
      kept.send({ type_url: CLUSTER });
      await kept.next(CLUSTER);
      const ended = await Promise.race([kept.status.then(() => true), new Promise((r) => setTimeout(() => r(false), 1200))]);
      assert.equal(ended, false);
    } finally {
      kept.close();
    }
  } finally {
    tap.stop();
    await env.stop();
  }
});
