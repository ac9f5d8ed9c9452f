// The health port every service serves (libs/service/health.ts): /healthz, /readyz moving with the
// service's state, /metrics in Prometheus text with the numbers the pipeline counts. Real
// processes and servers: a watcher and a translator as spawned by the supervisor, an xds-server
// replica with a raw ADS client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { startHealth, serveHealth } from '../../libs/service/health.ts';
import { stopChild } from '../../libs/service/local-servers.ts';
import { freePort, startNats, startRedis } from '../support/servers.ts';
import { httpGet as get, sample, spawnService, until } from '../support/service-process.ts';
import { adsClient, cluster, seedSnapshot, startEnv, TYPES } from '../xds-server/helpers.ts';

const log = pino({ level: 'silent' });

test('the health server: liveness, readiness by named checks, Prometheus text, off when unset', async () => {
  const off = await startHealth('t', { GANTRY_HEALTH_ADDRESS: '127.0.0.1' }, log);
  assert.equal(off.port, undefined, 'no port configured: no server');

  const health = await serveHealth('t', { GANTRY_HEALTH_PORT: 0, GANTRY_HEALTH_ADDRESS: '127.0.0.1' }, log, { waitFor: ['caught up'] });
  try {
    const port = health.port!;
    assert.equal((await get(port, '/healthz')).status, 200);
    let r = await get(port, '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { ready: false, checks: { 'caught up': 'not yet' } });
    health.ready('caught up');
    let flaky = true;
    health.check('redis', () => flaky || 'Redis reconnecting');
    assert.equal((await get(port, '/readyz')).status, 200);
    flaky = false;
    r = await get(port, '/readyz');
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).checks.redis, 'Redis reconnecting');
    const m = await get(port, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /^# HELP process_cpu_user_seconds_total/m, 'default process metrics');
    assert.match(m.body, /^# TYPE gantry_translation_duration_seconds histogram/m);
    assert.match(m.body, /^# TYPE gantry_stream_lag_events gauge/m);
    assert.equal((await get(port, '/nope')).status, 404);
  } finally {
    await health.close();
  }
});

test('watcher and translator processes: ready once caught up, metrics follow the pipeline, Redis loss shows in /readyz', async () => {
  const [nats, redis, watcherPort, translatorPort] = await Promise.all([startNats(), startRedis(), freePort(), freePort()]);
  const statusDir = mkdtempSync(join(tmpdir(), 'gantry-health-'));
  const common = { GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redis.url };
  const watcher = spawnService('watcher', { ...common, GANTRY_MANIFESTS: 'examples', GANTRY_HEALTH_PORT: String(watcherPort) });
  const translator = spawnService('translator', { ...common, GANTRY_HEALTH_PORT: String(translatorPort) });
  try {
    await until('watcher ready', async () => (await get(watcherPort, '/readyz')).status === 200);
    const w = (await get(watcherPort, '/metrics')).body;
    assert.ok(sample(w, 'gantry_events_published_total', { stream: 'RESOURCES' })! > 0, 'the watcher published the examples');
    assert.match(w, /service="watcher"/);
    assert.equal(sample(w, 'gantry_leader', { service: 'watcher' }), 1, 'the only watcher holds its lease');

    await until('translator ready', async () => (await get(translatorPort, '/readyz')).status === 200);
    // A cycle publishes the snapshot first, then the reports computed with it: wait for both. The
    // first event on REPORTS is the lease term's marker (libs/lease/fenced-stream.ts).
    const t = await until('a snapshot of the example Gateway and its reports', async () => {
      const body = (await get(translatorPort, '/metrics')).body;
      return (sample(body, 'gantry_snapshot_bytes', { gateway: 'default/example-gateway' }) ?? 0) > 0
        && (sample(body, 'gantry_events_published_total', { stream: 'REPORTS' }) ?? 0) > 1 && body;
    });
    assert.ok(sample(t, 'gantry_events_consumed_total', { stream: 'RESOURCES' })! > 0);
    assert.equal(sample(t, 'gantry_stream_lag_events', { stream: 'RESOURCES' }), 0, 'caught up with the head');
    assert.ok(sample(t, 'gantry_translation_duration_seconds_count')! >= 1);
    assert.ok(sample(t, 'gantry_events_published_total', { stream: 'REPORTS' })! > 1, 'reports published');
    assert.ok(sample(t, 'gantry_snapshots_published_total')! >= 1);
    assert.equal(sample(t, 'gantry_leader', { service: 'translator' }), 1, 'the only translator holds its lease');

    await redis.stop();
    const r = await until('translator not ready without Redis', async () => {
      const x = await get(translatorPort, '/readyz');
      return x.status === 503 && JSON.parse(x.body);
    });
    assert.notEqual(r.checks.redis, true);
    assert.equal(r.checks['caught up'], true);
    assert.equal((await get(translatorPort, '/healthz')).status, 200, 'alive all the same: restarting would not bring Redis back');
  } finally {
    await Promise.all([stopChild(watcher), stopChild(translator)]);
    await Promise.all([nats.stop(), redis.stop()]);
    rmSync(statusDir, { recursive: true, force: true });
  }
});

test('xds-server: ready once listening with Redis reached; connected proxies and NACKs counted', async () => {
  const env = await startEnv();
  const health = await serveHealth('xds-server', { GANTRY_HEALTH_PORT: 0, GANTRY_HEALTH_ADDRESS: '127.0.0.1' }, log, { checks: env.xds.checks });
  const port = health.port!;
  const metric = async (name: string, labels: Record<string, string> = {}) => sample((await get(port, '/metrics')).body, name, labels) ?? 0;
  try {
    await until('xds-server ready', async () => (await get(port, '/readyz')).status === 200);
    const nacksBefore = await metric('gantry_xds_nacks_total', { type: 'Cluster' });
    const acksBefore = await metric('gantry_xds_acks_total', { type: 'Cluster' });
    await seedSnapshot(env, { gateway: 'default/gw', resources: [cluster('c1')], grpcRoutes: [], apiListeners: [] });
    const client = adsClient(env.xds.port, { id: 'envoy-1', cluster: 'default/gw' });
    client.send({ type_url: TYPES.CLUSTER });
    const good = await client.next(TYPES.CLUSTER);
    await until('one connected proxy', async () => (await metric('gantry_xds_connected_proxies', { protocol: 'sotw' })) === 1);
    client.send({ type_url: TYPES.CLUSTER, version_info: good.version_info, response_nonce: good.nonce });
    await until('the ACK counted', async () => (await metric('gantry_xds_acks_total', { type: 'Cluster' })) === acksBefore + 1);
    await seedSnapshot(env, { gateway: 'default/gw', resources: [cluster('c2')], grpcRoutes: [], apiListeners: [] });
    const bad = await client.next(TYPES.CLUSTER);
    client.send({ type_url: TYPES.CLUSTER, version_info: good.version_info, response_nonce: bad.nonce, error_detail: { code: 3, message: 'bad cluster' } });
    await until('the NACK counted', async () => (await metric('gantry_xds_nacks_total', { type: 'Cluster' })) === nacksBefore + 1);
    client.close();
    await until('the proxy gone', async () => (await metric('gantry_xds_connected_proxies', { protocol: 'sotw' })) === 0);
  } finally {
    await health.close();
    await env.stop();
  }
});
