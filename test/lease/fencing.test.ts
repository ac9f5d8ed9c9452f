// Fencing tokens checked by the stores, against a real redis-server and nats-server: once a newer
// lease term has claimed Redis, an older term's writer can neither move nor remove a head nor
// collect a blob; once it has claimed REPORTS, an older term's publish is refused, on any subject.
// A recreated lease bucket (revisions restarting) still orders after the old one by its epoch.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  decodeEnvelope, REPORT_SCHEMA, ReportEventSchema, STREAMS, subjects, TermEventSchema, type FencingToken,
} from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, followStream, type EventLog } from '../../libs/eventlog/index.ts';
import { FencedStream } from '../../libs/lease/fenced-stream.ts';
import { FencedOut, type Term } from '../../libs/lease/index.ts';
import { buildManifest } from '../../libs/snapshots/manifest.ts';
import { keys, readHead, SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { quietLog } from '../edge/edge-support.ts';
import { startNats, startRedis, type RunningServer } from '../support/servers.ts';
import { cluster } from '../xds-server/helpers.ts';

let nats: RunningServer;
let redisServer: RunningServer;
let redis: Redis;
let events: EventLog;

before(async () => {
  [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  redis = new Redis(redisServer.url);
  events = await connectEventLog(nats.url, 'fencing-test', quietLog);
  await ensureStreams(events.jsm);
});
after(async () => {
  redis.disconnect();
  await events.close();
  await Promise.all([nats.stop(), redisServer.stop()]);
});

const snap = (gw: string, names: string[]) => buildManifest({ gateway: gw, resources: names.map(cluster), grpcRoutes: [], apiListeners: [] }, {});
const refusedBy = (fence: FencingToken, resource: string) => (err: unknown) =>
  err instanceof FencedOut && err.resource === resource && err.message.includes(`${fence.revision}@${fence.epoch}`);

test('Redis: an older term can neither move nor remove a head nor collect blobs once a newer one has written; a recreated bucket\'s terms are newer', async () => {
  const gw = 'default/fenced';
  const older = new SnapshotWriter(redis, { epoch: 1000, revision: 7 });
  const newerFence = { epoch: 1000, revision: 9 };
  const newer = new SnapshotWriter(redis, newerFence);
  const [m1, m2, m3] = [snap(gw, ['a']), snap(gw, ['b']), snap(gw, ['c'])];
  assert.equal(await older.write(m1.manifest, m1.blobs), true);
  await newer.claim();
  assert.deepEqual(await redis.hgetall(keys.fence), { epoch: '1000', revision: '9' });

  await assert.rejects(older.write(m2.manifest, m2.blobs), refusedBy(newerFence, `gateway ${gw}`));
  await assert.rejects(older.remove(gw), refusedBy(newerFence, `gateway ${gw}`));
  await assert.rejects(older.claim(), refusedBy(newerFence, 'snapshots'));
  assert.equal(await readHead(redis, gw), m1.manifest.version, 'the head is where the newer term left it');
  assert.deepEqual(await redis.smembers(keys.gateways), [gw]);

  // The newer term moves on; m1 expires, so `a` is garbage: only the newer term may collect it.
  assert.equal(await newer.write(m3.manifest, m3.blobs), true);
  await redis.del(keys.manifest(gw, m1.manifest.version));
  await assert.rejects(older.collectGarbage(gw), refusedBy(newerFence, `gateway ${gw}`));
  const aBlob = keys.blob(gw, [...m1.blobs.keys()][0]!);
  assert.equal(await redis.exists(aBlob), 1);
  assert.equal((await newer.collectGarbage(gw)).collected, 2, 'a, and b (written by the refused older term)');
  assert.equal(await redis.exists(aBlob), 0);

  // The lease bucket recreated: revisions start again at 1, its later creation time orders them after.
  const reborn = new SnapshotWriter(redis, { epoch: 2000, revision: 1 });
  assert.equal(await reborn.write(m2.manifest, m2.blobs), true);
  await assert.rejects(newer.write(m1.manifest, m1.blobs), refusedBy({ epoch: 2000, revision: 1 }, `gateway ${gw}`));
  assert.equal(await readHead(redis, gw), m2.manifest.version);
});

test('Redis: a snapshot of more resources than one Lua call can unpack is written whole', async () => {
  const gw = 'default/large';
  const writer = new SnapshotWriter(redis, { epoch: 3000, revision: 1 });
  const big = snap(gw, Array.from({ length: 9000 }, (_, i) => `c${i}`));
  await writer.write(big.manifest, big.blobs);
  assert.equal(await redis.scard(keys.refs(gw, big.manifest.version)), 9000);
  assert.equal(await readHead(redis, gw), big.manifest.version);
});

const termOf = (revision: number): Term => ({
  signal: new AbortController().signal, fence: { epoch: 1, revision }, lease: 'translator.test', holder: `holder-${revision}`, lost: () => undefined,
});
const ref = (name: string) => ({ cluster: 'test', kind: 'HTTPRoute', namespace: 'default', name });
const report = (name: string, message: string) => ({
  schema: REPORT_SCHEMA, ...ref(name), apiVersion: 'gateway.networking.k8s.io/v1', generation: 1, op: 'upsert' as const,
  status: { parents: [{ conditions: [{ type: 'Accepted', status: 'True', message }] }] }, emittedAt: new Date().toISOString(),
});
const lastOn = async (subject: string) => {
  const m = await events.jsm.streams.getMessage(STREAMS.REPORTS.name, { last_by_subj: subject }).catch(() => undefined);
  return m && { seq: m.seq, data: JSON.parse(Buffer.from(m.data).toString('utf8')) };
};

test('REPORTS: once a newer term has claimed the stream, an older term\'s publish is refused on any subject; consumers never see the marker', async () => {
  const older = new FencedStream(events, STREAMS.REPORTS, termOf(3));
  await older.claim();
  const [r1, r2] = [subjects.report(ref('r1')), subjects.report(ref('r2'))];
  await older.publish(ReportEventSchema, r1, report('r1', 'older'), `${r1}@older`);
  const newer = new FencedStream(events, STREAMS.REPORTS, termOf(5));
  await newer.claim();

  // r2 is a subject the newer term has not written: refused all the same.
  await assert.rejects(older.publish(ReportEventSchema, r2, report('r2', 'late'), `${r2}@late`), (err) => err instanceof FencedOut && err.resource === r2);
  await assert.rejects(older.publish(ReportEventSchema, r1, report('r1', 'late'), `${r1}@late`), FencedOut);
  assert.equal(await lastOn(r2), undefined);
  assert.equal((await lastOn(r1))?.data.status.parents[0].conditions[0].message, 'older');
  const marker = await lastOn(subjects.term(STREAMS.REPORTS));
  assert.ok(marker);
  const decoded = decodeEnvelope(TermEventSchema, Buffer.from(JSON.stringify(marker.data)));
  assert.ok(decoded.ok && decoded.value.holder === 'holder-5' && decoded.value.fence.revision === 5);

  // A revert to an earlier content within the duplicate window is published (its id names its position).
  for (const message of ['x', 'y', 'x']) await newer.publish(ReportEventSchema, r1, report('r1', message), `${r1}@${message}`);
  assert.equal((await lastOn(r1))?.data.status.parents[0].conditions[0].message, 'x');
  const { state } = await events.jsm.streams.info(STREAMS.REPORTS.name);
  assert.equal((await lastOn(r1))?.seq, state.last_seq, 'the revert is the stream\'s last message');

  // What the reporter (its cluster's reports) and the translator (every report) follow: reports only.
  for (const filter of [subjects.reportsOfCluster('test'), subjects.allReports]) {
    const seen: string[] = [];
    const f = await followStream(events, { stream: STREAMS.REPORTS, filter, schema: ReportEventSchema, log: quietLog, onEvent: (_e, m) => { seen.push(m.subject); } });
    await f.caughtUp;
    await f.stop();
    assert.deepEqual(seen.sort(), [r1], filter);
  }
});
