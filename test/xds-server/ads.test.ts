// The ADS server (state of the world) driven by a raw gRPC client, against real NATS and Redis.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildManifest, type EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import { decode } from '../../libs/xds/encode.ts';
import {
  adsClient, apiListenerTemplate, cluster, endpoints, namesOf, routeConfig, seedSnapshot, socketListener, startEnv,
  tapProxyEvents, TYPES, type Env,
} from './helpers.ts';

const GW = 'default/web';
const { CLUSTER, ENDPOINT, LISTENER, ROUTE } = TYPES;

function snapshot(overrides: Partial<{ backendPort: number; extraCluster: boolean; routeCluster: string }> = {}): EncodedSnapshot {
  const port = overrides.backendPort ?? 9001;
  return {
    gateway: GW,
    resources: [
      cluster('echo'), endpoints('echo', [port]),
      ...(overrides.extraCluster ? [cluster('extra'), endpoints('extra', [9100])] : []),
      socketListener('http-80', 80, 'http-80'),
      socketListener('http-8080', 8080, 'http-8080'),
      routeConfig('http-80', [{ domains: ['*'], cluster: overrides.routeCluster ?? 'echo' }]),
      routeConfig('http-8080', [{ domains: ['*'], cluster: 'echo' }]),
    ],
    grpcRoutes: [routeConfig('grpc-8080', [{ domains: ['echo.test:8080'], cluster: 'echo' }])],
    apiListeners: [
      { port: 8080, hostnames: ['echo.test', '*.apps.test'], template: apiListenerTemplate('grpc-8080') },
      { port: 9090, hostnames: ['*'], template: apiListenerTemplate('grpc-8080') },
    ],
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

test('wildcard CDS and LDS get every cluster and socket listener; named RDS and EDS get what they name', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot({ extraCluster: true }));
  const c = adsClient(env.xds.port, { id: 'envoy-1', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    const cds = await c.next(CLUSTER);
    assert.deepEqual(namesOf(cds), ['echo', 'extra']);
    assert.ok(cds.version_info && cds.nonce);
    assert.equal(cds.resources[0].type_url, CLUSTER);

    c.send({ type_url: ENDPOINT, resource_names: ['echo', 'missing'] });
    const eds = await c.next(ENDPOINT);
    assert.deepEqual(namesOf(eds), ['echo'], 'a name that does not exist is left out');

    c.send({ type_url: LISTENER, resource_names: ['*'] });
    const lds = await c.next(LISTENER);
    assert.deepEqual(namesOf(lds), ['http-80', 'http-8080'], 'wildcard LDS gives socket listeners only');

    c.send({ type_url: ROUTE, resource_names: ['http-80', 'grpc-8080'] });
    const rds = await c.next(ROUTE);
    assert.deepEqual(namesOf(rds), ['grpc-8080', 'http-80'], 'RDS names are looked up in routes, then gRPC routes');
  } finally {
    c.close();
  }
}));

test('ACKs are reported once per version and a request with a stale nonce is ignored', () => withEnv(async (env) => {
  const tap = tapProxyEvents(env);
  await seedSnapshot(env, snapshot());
  const c = adsClient(env.xds.port, { id: 'envoy-1', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    const first = await c.next(CLUSTER);
    await tap.waitFor((e) => e.event === 'connected' && e.node === 'envoy-1' && e.gateway === GW);
    // The same ACK twice (the nonce is still the latest): the version is reported once.
    c.send({ type_url: CLUSTER, version_info: first.version_info, response_nonce: first.nonce });
    c.send({ type_url: CLUSTER, version_info: first.version_info, response_nonce: first.nonce });
    await tap.waitFor((e) => e.event === 'ack' && e.typeUrl === CLUSTER && e.version === first.version_info);
    await c.nothingWithin(200);
    assert.equal(tap.events.filter((e) => e.event === 'ack').length, 1);

    // A new snapshot pushes a new CDS version; an ACK of the old nonce is stale and ignored, even
    // though it names different resources (a real subscription change would be answered).
    await seedSnapshot(env, snapshot({ extraCluster: true }));
    const second = await c.next(CLUSTER);
    assert.notEqual(second.version_info, first.version_info);
    c.send({ type_url: CLUSTER, version_info: first.version_info, response_nonce: first.nonce, resource_names: ['echo'] });
    await c.nothingWithin(300);
    c.send({ type_url: CLUSTER, version_info: second.version_info, response_nonce: second.nonce });
    const ack2 = await tap.waitFor((e) => e.event === 'ack' && e.version === second.version_info);
    assert.equal(ack2.resourceNames?.length, 2);
    assert.equal(ack2.replica, 'replica-1');
    assert.ok(ack2.snapshot);
  } finally {
    c.close();
    tap.stop();
  }
}));

test('a NACK keeps the last good version and is reported with Envoy\'s error detail', () => withEnv(async (env) => {
  const tap = tapProxyEvents(env);
  const first = await seedSnapshot(env, snapshot());
  const c = adsClient(env.xds.port, { id: 'envoy-2', cluster: GW });
  try {
    c.send({ type_url: LISTENER });
    const good = await c.next(LISTENER);
    c.send({ type_url: LISTENER, version_info: good.version_info, response_nonce: good.nonce });
    await tap.waitFor((e) => e.event === 'ack' && e.typeUrl === LISTENER);

    // The new snapshot changes the listeners: the proxy rejects it.
    const next = snapshot();
    next.resources = next.resources.filter((r) => r.name !== 'http-8080');
    const second = await seedSnapshot(env, next);
    const bad = await c.next(LISTENER);
    assert.notEqual(bad.version_info, good.version_info);
    c.send({
      type_url: LISTENER, version_info: good.version_info, response_nonce: bad.nonce,
      error_detail: { code: 3, message: 'Error adding/updating listener(s) http-80: bad filter' },
    });
    const nack = await tap.waitFor((e) => e.event === 'nack');
    assert.equal(nack.typeUrl, LISTENER);
    assert.equal(nack.version, bad.version_info, 'the rejected version');
    assert.equal(nack.snapshot, second.version);
    assert.notEqual(nack.snapshot, first.version);
    assert.deepEqual(nack.errorDetail, { code: 3, message: 'Error adding/updating listener(s) http-80: bad filter' });
    // The rejected content is not re-sent.
    await c.nothingWithin(300);
  } finally {
    c.close();
  }
  const gone = await tap.waitFor((e) => e.event === 'disconnected' && e.node === 'envoy-2');
  assert.equal(gone.gateway, GW);
  tap.stop();
}));

test('a subscription change is answered even when the version does not change', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const c = adsClient(env.xds.port, { id: 'envoy-3', cluster: GW });
  try {
    c.send({ type_url: ENDPOINT, resource_names: ['echo', 'not-yet'] });
    const one = await c.next(ENDPOINT);
    assert.deepEqual(namesOf(one), ['echo']);
    // Dropping a name that does not exist leaves the content, so the version, unchanged.
    c.send({ type_url: ENDPOINT, resource_names: ['echo'], version_info: one.version_info, response_nonce: one.nonce });
    const two = await c.next(ENDPOINT);
    assert.equal(two.version_info, one.version_info);
    assert.notEqual(two.nonce, one.nonce);
    // An ACK with the same subscription gets no response.
    c.send({ type_url: ENDPOINT, resource_names: ['echo'], version_info: two.version_info, response_nonce: two.nonce });
    await c.nothingWithin(300);
  } finally {
    c.close();
  }
}));

for (const [what, clusterField] of [['missing', undefined], ['without a slash', 'web'], ['with an empty name', 'default/'], ['with too many parts', 'a/b/c']] as const) {
  test(`a node.cluster ${what} ends the stream with INVALID_ARGUMENT`, { concurrency: false }, async () => {
    // These need no NATS or Redis traffic, but the server does: share one environment per case.
    await withEnv(async (env) => {
      const c = adsClient(env.xds.port, { id: 'bad', ...(clusterField === undefined ? {} : { cluster: clusterField }) });
      c.send({ type_url: CLUSTER });
      const status = await c.status;
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /<namespace>\/<gateway-name>/);
      c.close();
    });
  });
}

test('a stream for a Gateway with no snapshot yet is answered once its snapshot is written', () => withEnv(async (env) => {
  const c = adsClient(env.xds.port, { id: 'early', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    c.send({ type_url: ENDPOINT, resource_names: ['echo'] });
    await c.nothingWithin(300);
    await seedSnapshot(env, snapshot());
    const cds = await c.next();
    assert.equal(cds.type_url, CLUSTER, 'clusters first');
    assert.deepEqual(namesOf(cds), ['echo']);
    const eds = await c.next();
    assert.equal(eds.type_url, ENDPOINT);
  } finally {
    c.close();
  }
}));

test('a new snapshot pushes only the types whose content changed, in push order', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const c = adsClient(env.xds.port, { id: 'envoy-4', cluster: GW });
  try {
    const acked: Record<string, string> = {};
    for (const [type, names] of [[CLUSTER, []], [ENDPOINT, ['echo']], [LISTENER, []], [ROUTE, ['http-80', 'http-8080']]] as const) {
      c.send({ type_url: type, resource_names: [...names] });
      const r = await c.next(type);
      c.send({ type_url: type, resource_names: [...names], version_info: r.version_info, response_nonce: r.nonce });
      acked[type] = r.version_info;
    }
    await c.nothingWithin(200);
    // Only the endpoints change.
    await seedSnapshot(env, snapshot({ backendPort: 9002 }));
    const eds = await c.next();
    assert.equal(eds.type_url, ENDPOINT);
    assert.notEqual(eds.version_info, acked[ENDPOINT]);
    await c.nothingWithin(300);
    // A new cluster and a route pointing at it: clusters, endpoints before routes.
    c.send({ type_url: ENDPOINT, resource_names: ['echo', 'extra'], version_info: eds.version_info, response_nonce: eds.nonce });
    const eds2 = await c.next(ENDPOINT); // subscription change answered
    await seedSnapshot(env, snapshot({ backendPort: 9002, extraCluster: true, routeCluster: 'extra' }));
    const order = [await c.next(), await c.next(), await c.next()].map((r) => r.type_url);
    assert.deepEqual(order, [CLUSTER, ENDPOINT, ROUTE]);
    assert.ok(eds2);
    await c.nothingWithin(200);
  } finally {
    c.close();
  }
}));

test('a proxyless client\'s named LDS request gets an API listener for its host and port', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const c = adsClient(env.xds.port, { id: 'grpc-client', cluster: GW });
  try {
    c.send({ type_url: LISTENER, resource_names: ['echo.test:8080', 'x.apps.test:8080', 'echo.test', 'other.test:9090', 'other.test:8080', 'http-80'] });
    const lds = await c.next(LISTENER);
    assert.deepEqual(namesOf(lds), ['echo.test', 'echo.test:8080', 'http-80', 'other.test:9090', 'x.apps.test:8080'],
      'exact, wildcard and catch-all hostnames; no entry accepts other.test on 8080');
    const built = lds.resources.find((r) => namesOf({ ...lds, resources: [r] })[0] === 'echo.test:8080')!;
    const listener = decode('envoy.config.listener.v3.Listener', built.value) as { name: string; api_listener?: { api_listener?: { type_url: string } } };
    assert.equal(listener.name, 'echo.test:8080');
    assert.match(listener.api_listener?.api_listener?.type_url ?? '', /HttpConnectionManager$/);
  } finally {
    c.close();
  }
}));

test('a replica keeps serving the snapshots it holds while Redis is down', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const a = adsClient(env.xds.port, { id: 'p1', cluster: GW });
  a.send({ type_url: CLUSTER });
  const before = await a.next(CLUSTER);
  await env.redisServer.stop();
  const b = adsClient(env.xds.port, { id: 'p2', cluster: GW });
  try {
    b.send({ type_url: CLUSTER });
    const during = await b.next(CLUSTER);
    assert.equal(during.version_info, before.version_info);
  } finally {
    a.close();
    b.close();
  }
}));

test('a snapshot written without an event is picked up by the periodic resync', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const replica = await env.startReplica('resync', { GANTRY_XDS_RESYNC_SECONDS: '0.3' });
  const c = adsClient(replica.port, { id: 'p', cluster: GW });
  try {
    c.send({ type_url: CLUSTER });
    const before = await c.next(CLUSTER);
    c.send({ type_url: CLUSTER, version_info: before.version_info, response_nonce: before.nonce });
    const { manifest, blobs } = buildManifest(snapshot({ extraCluster: true }), {});
    await env.writer.write(manifest, blobs); // no NATS event
    const after = await c.next(CLUSTER, 3000);
    assert.deepEqual(namesOf(after), ['echo', 'extra']);
  } finally {
    c.close();
  }
}));

test('two replicas give the same versions for the same snapshot', () => withEnv(async (env) => {
  await seedSnapshot(env, snapshot());
  const other = await env.startReplica('replica-2');
  const a = adsClient(env.xds.port, { id: 'p', cluster: GW });
  const b = adsClient(other.port, { id: 'p', cluster: GW });
  try {
    for (const c of [a, b]) c.send({ type_url: LISTENER, resource_names: ['*', 'echo.test:8080'] });
    const [ra, rb] = [await a.next(LISTENER), await b.next(LISTENER)];
    assert.equal(ra.version_info, rb.version_info);
    assert.deepEqual(ra.resources.map((r) => r.value), rb.resources.map((r) => r.value));
  } finally {
    a.close();
    b.close();
  }
}));
