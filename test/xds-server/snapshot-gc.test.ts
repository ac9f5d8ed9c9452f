// Garbage collection of snapshot blobs in Redis (libs/snapshots/redis-store.ts), against a real
// redis-server: a blob goes once no manifest still present (the head, or a superseded one within
// its TTL, which a replica may still be loading) refers to it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildManifest, type EncodedResource } from '../../libs/snapshots/manifest.ts';
import { keys, NO_LEASE, OLD_MANIFEST_TTL_S, readBlobs, SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { startRedis, type RunningServer } from '../support/servers.ts';
import { cluster } from './helpers.ts';

let server: RunningServer;
let redis: Redis;
before(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const snap = (gw: string, names: string[]) => buildManifest({ gateway: gw, resources: names.map(cluster), grpcRoutes: [], apiListeners: [] }, {});
const hashOf = (r: EncodedResource) => buildManifest({ gateway: 'x', resources: [r], grpcRoutes: [], apiListeners: [] }, {}).blobs.keys().next().value!;
const blobExists = async (gw: string, name: string) => (await redis.exists(keys.blob(gw, hashOf(cluster(name))))) === 1;

test('a blob is collected once neither the head nor any manifest still present refers to it', async () => {
  const gw = 'default/gc';
  const writer = new SnapshotWriter(redis, NO_LEASE);
  const m1 = snap(gw, ['a', 'b']);
  const m2 = snap(gw, ['b', 'c']);
  const m3 = snap(gw, ['c', 'd']);
  await writer.write(m1.manifest, m1.blobs);
  assert.deepEqual(await writer.collectGarbage(gw), { collected: 0, liveManifests: 1 });
  await writer.write(m2.manifest, m2.blobs);
  // m1 is superseded but still present for OLD_MANIFEST_TTL_S: a replica may be loading it.
  const ttl = await redis.ttl(keys.manifest(gw, m1.manifest.version));
  assert.ok(ttl > 0 && ttl <= OLD_MANIFEST_TTL_S);
  assert.equal(await redis.ttl(keys.refs(gw, m1.manifest.version)), ttl, 'its refs expire with it');
  assert.deepEqual(await writer.collectGarbage(gw), { collected: 0, liveManifests: 2 });
  assert.ok(await blobExists(gw, 'a'));

  // m1 expires; the head moves on to m3: only `a` (m1's alone) goes; `b` stays for m2, now superseded.
  await redis.del(keys.manifest(gw, m1.manifest.version));
  await writer.write(m3.manifest, m3.blobs);
  assert.deepEqual(await writer.collectGarbage(gw), { collected: 1, liveManifests: 2 });
  assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd'].map((n) => blobExists(gw, n))), [false, true, true, true]);
  assert.deepEqual(await redis.smembers(keys.versions(gw)).then((v) => v.sort()), [m2.manifest.version, m3.manifest.version].sort());
  assert.equal(await redis.exists(keys.refs(gw, m1.manifest.version)), 0);
  // The head's manifest still loads completely.
  assert.equal((await readBlobs(redis, gw, [...m3.blobs.keys()])).size, 2);

  // Back to m1's content (a new manifest version would be the same): `a` is written again, not assumed.
  await redis.del(keys.manifest(gw, m2.manifest.version));
  await writer.write(m1.manifest, m1.blobs);
  await writer.collectGarbage(gw);
  assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd'].map((n) => blobExists(gw, n))), [true, true, true, true]);
});

test('a manifest written without a refs set (an older translator) keeps its blobs: its refs are derived from it', async () => {
  const gw = 'default/legacy';
  const old = snap(gw, ['x', 'y']);
  for (const [h, bytes] of old.blobs) await redis.set(keys.blob(gw, h), bytes);
  await redis.set(keys.manifest(gw, old.manifest.version), JSON.stringify(old.manifest));
  await redis.set(keys.head(gw), old.manifest.version);
  const writer = new SnapshotWriter(redis, NO_LEASE);
  const next = snap(gw, ['y', 'z']);
  await writer.write(next.manifest, next.blobs);
  assert.deepEqual(await writer.collectGarbage(gw), { collected: 0, liveManifests: 2 });
  assert.ok(await blobExists(gw, 'x'));
  assert.ok((await redis.ttl(keys.refs(gw, old.manifest.version))) > 0, 'derived refs expire with the manifest');
});

test('a removed Gateway\'s blobs expire with its last manifest, and come back persistent if it returns first', async () => {
  const gw = 'default/removed';
  const writer = new SnapshotWriter(redis, NO_LEASE);
  const m = snap(gw, ['p', 'q']);
  await writer.write(m.manifest, m.blobs);
  await writer.remove(gw);
  for (const h of m.blobs.keys()) assert.ok((await redis.ttl(keys.blob(gw, h))) > 0);
  assert.ok((await redis.ttl(keys.blobIndex(gw))) > 0);
  const back = snap(gw, ['q', 'r']);
  await writer.write(back.manifest, back.blobs);
  for (const h of back.blobs.keys()) assert.equal(await redis.ttl(keys.blob(gw, h)), -1, 'a blob in use never expires');
  assert.equal(await redis.ttl(keys.blobIndex(gw)), -1);
  assert.equal(await redis.ttl(keys.versions(gw)), -1);
});

test('collection is per Gateway: another Gateway\'s identical blob is its own key and stays', async () => {
  const writer = new SnapshotWriter(redis, NO_LEASE);
  const a1 = snap('default/one', ['shared']);
  const b1 = snap('default/two', ['shared']);
  await writer.write(a1.manifest, a1.blobs);
  await writer.write(b1.manifest, b1.blobs);
  const a2 = snap('default/one', ['other']);
  await writer.write(a2.manifest, a2.blobs);
  await redis.del(keys.manifest('default/one', a1.manifest.version));
  assert.equal((await writer.collectGarbage('default/one')).collected, 1);
  assert.equal(await blobExists('default/one', 'shared'), false);
  assert.equal(await blobExists('default/two', 'shared'), true);
});
