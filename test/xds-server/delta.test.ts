// Incremental (delta) xDS and the per-type services, driven by raw gRPC clients against a real
// xds-server, NATS and Redis; plus the server's limits.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import { decode } from '../../libs/xds/encode.ts';
import type { DeltaDiscoveryResponse__Output } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryResponse';
import {
  adsClient, apiListenerTemplate, cluster, deltaClient, endpoints, namesOf, routeConfig, seedSnapshot, socketListener, startEnv,
  tapProxyEvents, TYPES, type DeltaClient, type Env,
} from './helpers.ts';

const GW = 'default/web';
const { CLUSTER, ENDPOINT, LISTENER, ROUTE } = TYPES;
const CDS = { service: 'envoy.service.cluster.v3.ClusterDiscoveryService', sotw: 'StreamClusters', delta: 'DeltaClusters' };

function snapshot(o: { clusters?: string[]; backendPort?: number; routeCluster?: string } = {}): EncodedSnapshot {
  const clusters = o.clusters ?? ['echo'];
  return {
    gateway: GW,
    resources: [
      ...clusters.flatMap((c) => [cluster(c), endpoints(c, [o.backendPort ?? 9001])]),
      socketListener('http-80', 80, 'http-80'),
      routeConfig('http-80', [{ domains: ['*'], cluster: o.routeCluster ?? clusters[0] }]),
    ],
    grpcRoutes: [routeConfig('grpc-8080', [{ domains: ['echo.test:8080'], cluster: clusters[0] }])],
    apiListeners: [{ port: 8080, hostnames: ['echo.test'], template: apiListenerTemplate('grpc-8080') }],
  };
}

async function withEnv(fn: (env: Env) => Promise<void>): Promise<void> {
  const env = await startEnv();
  try {
    await fn(env);
  } finally {
    await env.stop();
  }
}

const names = (r: DeltaDiscoveryResponse__Output) => r.resources.map((x) => x.name).sort();
const versions = (r: DeltaDiscoveryResponse__Output) => Object.fromEntries(r.resources.map((x) => [x.name, x.version]));
const ack = (c: DeltaClient, r: DeltaDiscoveryResponse__Output) => c.send({ type_url: r.type_url, response_nonce: r.nonce });

test('delta: wildcard CDS and LDS, named EDS and RDS, each resource with its version', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['echo', 'extra'] }));
  const c = deltaClient(env.xds.port, { id: 'envoy-d1', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    const cds = await c.next(CLUSTER);
    assert.deepEqual(names(cds), ['echo', 'extra']);
    assert.ok(cds.nonce && cds.system_version_info);
    assert.equal(cds.resources[0].resource?.type_url, CLUSTER);
    assert.match(cds.resources[0].version, /^[0-9a-f]{16}$/);
    ack(c, cds);

    c.send({ type_url: ENDPOINT, resource_names_subscribe: ['echo', 'missing'] });
    const eds = await c.next(ENDPOINT);
    assert.deepEqual([names(eds), eds.removed_resources], [['echo'], []], 'a missing name is neither sent nor removed');
    ack(c, eds);

    c.send({ type_url: LISTENER, resource_names_subscribe: ['*'] });
    assert.deepEqual(names(await c.next(LISTENER)), ['http-80'], 'wildcard LDS: socket listeners only');
    c.send({ type_url: ROUTE, resource_names_subscribe: ['http-80', 'grpc-8080'] });
    assert.deepEqual(names(await c.next(ROUTE)), ['grpc-8080', 'http-80']);
    await c.nothingWithin(200);
  } finally {
    c.close();
  }
}));

test('delta: a new snapshot sends only changed resources, clusters and endpoints before routes, and removes deleted ones after the routes are ACKed', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['echo', 'old'] }));
  const c = deltaClient(env.xds.port, { id: 'envoy-d2', cluster: GW });
  try {
    const subs: Array<[string, string[]]> = [[CLUSTER, []], [ENDPOINT, ['echo', 'old', 'new']], [LISTENER, []], [ROUTE, ['http-80']]];
    for (const [type_url, resource_names_subscribe] of subs) {
      c.send({ type_url, resource_names_subscribe });
      ack(c, await c.next(type_url));
    }
    await c.nothingWithin(200);

    await seedSnapshot(env, snapshot({ clusters: ['echo', 'new'], routeCluster: 'new' }));
    const pushed = [await c.next(), await c.next(), await c.next()];
    assert.deepEqual(pushed.map((r) => [r.type_url, names(r), r.removed_resources]), [
      [CLUSTER, ['new'], []], [ENDPOINT, ['new'], []], [ROUTE, ['http-80'], []],
    ], 'echo is unchanged; old is still served while the old routes may use it');
    for (const r of pushed) ack(c, r);
    const removals = [await c.next(), await c.next()];
    assert.deepEqual(removals.map((r) => [r.type_url, names(r), r.removed_resources]), [
      [CLUSTER, [], ['old']], [ENDPOINT, [], ['old']],
    ]);
    await c.nothingWithin(200);
  } finally {
    c.close();
  }
}));

test('delta: subscribe and unsubscribe mid-stream; only subscribed deletions are removals', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['a', 'b'] }));
  const c = deltaClient(env.xds.port, { id: 'envoy-d3', cluster: GW });
  try {
    c.send({ type_url: ENDPOINT, resource_names_subscribe: ['a'] });
    const one = await c.next(ENDPOINT);
    assert.deepEqual(names(one), ['a']);
    // An ACK carrying a subscription change: b is added, a dropped (silently).
    c.send({ type_url: ENDPOINT, response_nonce: one.nonce, resource_names_subscribe: ['b'], resource_names_unsubscribe: ['a'] });
    const two = await c.next(ENDPOINT);
    assert.deepEqual([names(two), two.removed_resources], [['b'], []]);
    ack(c, two);
    await seedSnapshot(env, snapshot({ clusters: ['c'] }));
    const removal = await c.next(ENDPOINT);
    assert.deepEqual([names(removal), removal.removed_resources], [[], ['b']], 'b was deleted; a was not subscribed any more');
  } finally {
    c.close();
  }
}));

test('delta reconnect: initial_resource_versions get nothing already held, only what changed or went away', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['a', 'b', 'c'] }));
  const first = deltaClient(env.xds.port, { id: 'envoy-d4', cluster: GW });
  let held: Record<string, string>;
  try {
    first.send({ type_url: CLUSTER });
    held = versions(await first.next(CLUSTER));
  } finally {
    first.close();
  }
  const same = deltaClient(env.xds.port, { id: 'envoy-d4', cluster: GW });
  try {
    same.send({ type_url: CLUSTER, initial_resource_versions: held });
    const r = await same.next(CLUSTER);
    assert.deepEqual([r.resources, r.removed_resources], [[], []], 'answered, with nothing it does not have');
  } finally {
    same.close();
  }
  await seedSnapshot(env, snapshot({ clusters: ['a', 'c', 'd'] }));
  const other = await env.startReplica('replica-2');
  const again = deltaClient(other.port, { id: 'envoy-d4', cluster: GW });
  try {
    again.send({ type_url: CLUSTER, initial_resource_versions: { ...held, c: 'stale-version' } });
    const r = await again.next(CLUSTER);
    assert.deepEqual([names(r), r.removed_resources], [['c', 'd'], ['b']], 'versions are content hashes, the same on every replica');
  } finally {
    again.close();
  }
}));

test('delta NACK: reported to PROXIES with the error detail; the rejected resources are not re-sent', () => withEnv(async (env) => {
  const tap = tapProxyEvents(env);
  await seedSnapshot(env, snapshot({ clusters: ['a'] }));
  const c = deltaClient(env.xds.port, { id: 'envoy-d5', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    const good = await c.next(CLUSTER);
    ack(c, good);
    const acked = await tap.waitFor((e) => e.event === 'ack' && e.node === 'envoy-d5' && e.typeUrl === CLUSTER);
    assert.equal(acked.version, good.system_version_info);

    const second = await seedSnapshot(env, snapshot({ clusters: ['a', 'b'] }));
    const bad = await c.next(CLUSTER);
    assert.deepEqual(names(bad), ['b']);
    c.send({ type_url: CLUSTER, response_nonce: bad.nonce, error_detail: { code: 3, message: 'cluster b: bad lb policy' } });
    const nack = await tap.waitFor((e) => e.event === 'nack' && e.node === 'envoy-d5');
    assert.deepEqual([nack.typeUrl, nack.version, nack.snapshot, nack.resourceNames, nack.errorDetail],
      [CLUSTER, bad.system_version_info, second.version, ['b'], { code: 3, message: 'cluster b: bad lb policy' }]);
    await c.nothingWithin(300);
  } finally {
    c.close();
    tap.stop();
  }
}));

test('delta: a proxyless client\'s named LDS request gets an API listener built for that name', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const c = deltaClient(env.xds.port, { id: 'grpc-d', cluster: GW });
  try {
    c.send({ type_url: LISTENER, resource_names_subscribe: ['echo.test:8080', 'nowhere.test:8080'] });
    const lds = await c.next(LISTENER);
    assert.deepEqual(names(lds), ['echo.test:8080']);
    const listener = decode('envoy.config.listener.v3.Listener', lds.resources[0].resource!.value as Buffer) as { name: string; api_listener?: unknown };
    assert.equal(listener.name, 'echo.test:8080');
    assert.ok(listener.api_listener);
  } finally {
    c.close();
  }
}));

test('per-type CDS service: StreamClusters and DeltaClusters serve clusters; another type ends the stream', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['a', 'b'] }));
  const sotw = adsClient(env.xds.port, { id: 'cds-sotw', cluster: GW }, { service: CDS.service, method: CDS.sotw });
  const delta = deltaClient(env.xds.port, { id: 'cds-delta', cluster: GW }, { service: CDS.service, method: CDS.delta });
  const wrong = deltaClient(env.xds.port, { id: 'cds-wrong', cluster: GW }, { service: CDS.service, method: CDS.delta });
  try {
    sotw.send({}); // the service implies the type
    const s = await sotw.next();
    assert.deepEqual([s.type_url, namesOf(s)], [CLUSTER, ['a', 'b']]);
    delta.send({ type_url: CLUSTER });
    assert.deepEqual(names(await delta.next(CLUSTER)), ['a', 'b']);
    wrong.send({ type_url: ROUTE, resource_names_subscribe: ['http-80'] });
    const status = await wrong.status;
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /serves .*Cluster only/);
  } finally {
    sotw.close();
    delta.close();
    wrong.close();
  }
}));

test('limits: too many subscribed names, a request too large and a response too large end the stream with RESOURCE_EXHAUSTED', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ clusters: ['a', 'b', 'c'] }));
  const small = await env.startReplica('small', { GANTRY_XDS_MAX_NAMES: '3', GANTRY_XDS_MAX_RECEIVE_BYTES: '2048' });
  const names4 = ['a', 'b', 'c', 'd'];

  const many = deltaClient(small.port, { id: 'many', cluster: GW });
  many.send({ type_url: ENDPOINT, resource_names_subscribe: names4.slice(0, 3) });
  await many.next(ENDPOINT);
  many.send({ type_url: ROUTE, resource_names_subscribe: ['http-80'] });
  const s1 = await many.status;
  assert.equal(s1.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(s1.details, /4 resource names; at most 3/);

  const sotwMany = adsClient(small.port, { id: 'many-sotw', cluster: GW });
  sotwMany.send({ type_url: ENDPOINT, resource_names: names4 });
  assert.equal((await sotwMany.status).code, grpc.status.RESOURCE_EXHAUSTED);

  const big = adsClient(small.port, { id: 'big', cluster: GW });
  big.send({ type_url: ENDPOINT, resource_names: ['x'.repeat(4096)] });
  assert.equal((await big.status).code, grpc.status.RESOURCE_EXHAUSTED);

  const tiny = await env.startReplica('tiny-send', { GANTRY_XDS_MAX_SEND_BYTES: '64' });
  const out = adsClient(tiny.port, { id: 'out', cluster: GW });
  out.send({ type_url: CLUSTER });
  const s4 = await out.status;
  assert.equal(s4.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(s4.details, /Cluster response needs at least \d+ bytes, .*GANTRY_XDS_MAX_SEND_BYTES/);
  for (const c of [many, sotwMany, big, out]) c.close();
}));
