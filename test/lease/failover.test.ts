// Several translators and reporters against one NATS (and Redis), as real processes: only the
// lease holder writes; when it dies (SIGKILL: its lease expires) or stops (SIGTERM: it releases
// its lease) another takes over, and a translator taking over serves the same snapshot version
// without writing anything (content-addressed versions, reports compared by content).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { REPORT_SCHEMA, ReportEventSchema, subjects } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent, type EventLog } from '../../libs/eventlog/index.ts';
import { stopChild } from '../../libs/service/local-servers.ts';
import { readHead } from '../../libs/snapshots/redis-store.ts';
import { startWatcher, type RunningWatcher } from '../../services/watcher/watcher.ts';
import { quietLog } from '../edge/edge-support.ts';
import { GATEWAY_MANIFEST } from '../support/pipeline.ts';
import { freePort, startNats, startRedis, type RunningServer } from '../support/servers.ts';
import { httpGet, sample, spawnService, until } from '../support/service-process.ts';

const TTL = 1500;
/** A dead holder's lease expires TTL after its last renewal; a standby tries every TTL/4. Plus scrape and start-up slack. */
const TAKEOVER_MS = TTL + TTL / 4 + 1000;

let nats: RunningServer;
let redisServer: RunningServer;
let redis: Redis;
let eventLog: EventLog;
let dir: string;
const children: ChildProcess[] = [];
const monitors: Redis[] = [];

before(async () => {
  [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  redis = new Redis(redisServer.url);
  eventLog = await connectEventLog(nats.url, 'failover-test', quietLog);
  await ensureStreams(eventLog.jsm);
  dir = mkdtempSync(join(tmpdir(), 'gantry-failover-'));
});
// Every test starts its own replicas: one left leading would make the next test's replicas standbys.
afterEach(async () => { await Promise.all(children.splice(0).map((c) => stopChild(c, 2000))); });
after(async () => {
  await eventLog.close();
  for (const r of [redis, ...monitors]) r.disconnect();
  await Promise.all([nats.stop(), redisServer.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Replica { name: string; child: ChildProcess; port: number; logs: Array<Record<string, any>> }

async function replica(service: 'translator' | 'reporter', name: string, env: Record<string, string> = {}): Promise<Replica> {
  const port = await freePort();
  const logs: Replica['logs'] = [];
  const child = spawnService(service, {
    GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redisServer.url, GANTRY_HEALTH_PORT: String(port),
    GANTRY_LEASE_TTL_MS: String(TTL), GANTRY_LOG_LEVEL: 'info', ...env,
  }, (line) => { try { logs.push(JSON.parse(line)); } catch { logs.push({ msg: line }); } });
  children.push(child);
  return { name, child, port, logs };
}

const metrics = async (r: Replica) => (await httpGet(r.port, '/metrics')).body;
const leading = async (r: Replica, service: string) => sample(await metrics(r), 'gantry_leader', { service });
/** The one replica whose gauge says it leads, once every one of them answers (1 or 0). */
async function leaderOf(service: string, ...rs: Replica[]): Promise<Replica | undefined> {
  const states = await Promise.all(rs.map((r) => leading(r, service)));
  if (states.some((s) => s === undefined) || states.filter((s) => s === 1).length !== 1) return undefined;
  return rs[states.indexOf(1)];
}
const holderOf = (r: Replica) => r.logs.find((l) => l.msg === 'lease acquired: leading')?.holder as string | undefined;
/** The Redis connections translators write on (one per lease term, named after its holder): name → address. */
const writerClients = async () => new Map((await redis.client('LIST') as string).split('\n')
  .map((l) => [/name=(\S*)/.exec(l)?.[1] ?? '', /addr=(\S*)/.exec(l)?.[1] ?? ''] as const).filter(([n]) => n.startsWith('gantry-translator:')));
const writerConnections = async () => [...(await writerClients()).keys()];

const route = (path: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: ${path}}}], backendRefs: [{name: echo-a, port: 9000}]}]
`;

test('translators: one writes, a standby takes over from a killed one with the same snapshot, and from a stopped one at once', { timeout: 120_000 }, async () => {
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'gateway.yaml'), GATEWAY_MANIFEST);
  writeFileSync(join(manifests, 'route.yaml'), route('/a'));
  const watcher: RunningWatcher = await startWatcher({ eventLog, cluster: 'local', manifests, debounceMs: 50, log: quietLog, watch: false });
  try {
    const a = await replica('translator', 'a');
    const b = await replica('translator', 'b');
    const leader = await until('one leading translator', () => leaderOf('translator', a, b), 60_000);
    const standby = leader === a ? b : a;
    const version = await until('a snapshot of default/gw', () => readHead(redis, 'default/gw').then((v) => v ?? undefined));
    await until('both ready', async () => (await httpGet(a.port, '/readyz')).status === 200 && (await httpGet(b.port, '/readyz')).status === 200);

    // Only the leader writes: the standby published nothing and has no Redis connection at all.
    const s = await metrics(standby);
    assert.equal(sample(s, 'gantry_snapshots_published_total') ?? 0, 0);
    assert.equal(sample(s, 'gantry_events_published_total', { stream: 'SNAPSHOTS' }) ?? 0, 0);
    assert.equal(sample(s, 'gantry_events_published_total', { stream: 'REPORTS' }) ?? 0, 0);
    assert.ok(sample(await metrics(leader), 'gantry_snapshots_published_total')! >= 1);
    assert.deepEqual(await writerConnections(), [`gantry-translator:${holderOf(leader)}`]);
    assert.ok(standby.logs.some((l) => l.msg === 'standing by: the lease is held by another process' && l.holder === holderOf(leader)));

    // The leader dies without a word: the standby leads once the lease expires.
    const killed = Date.now();
    leader.child.kill('SIGKILL');
    await until('the standby leads', async () => (await leading(standby, 'translator')) === 1, TAKEOVER_MS * 2, 50);
    const took = Date.now() - killed;
    assert.ok(took <= TAKEOVER_MS, `took over ${took} ms after the kill`);
    assert.ok(took >= (TTL * 3) / 4 - 100, `took over ${took} ms after the kill: before the dead holder's lease could expire`);
    await until('the new leader in step', async () => (await httpGet(standby.port, '/readyz')).status === 200);
    // Same state, same content: the same version is served and nothing was written or published.
    assert.equal(await readHead(redis, 'default/gw'), version);
    const t = await metrics(standby);
    assert.equal(sample(t, 'gantry_snapshots_published_total') ?? 0, 0, 'no new snapshot');
    assert.equal(sample(t, 'gantry_events_published_total', { stream: 'REPORTS' }) ?? 0, 0, 'no report republished');
    await until('only the new leader connected to Redis', async () => (await writerConnections()).join() === `gantry-translator:${holderOf(standby)}`);

    // It writes what changes next.
    writeFileSync(join(manifests, 'route.yaml'), route('/b'));
    await watcher.pass();
    const changed = await until('a new snapshot', async () => { const v = await readHead(redis, 'default/gw'); return v !== version && v; });

    // A stopped leader releases its lease: a standby started meanwhile takes over well within the TTL.
    const c = await replica('translator', 'c');
    await until('c stands by', async () => (await leading(c, 'translator')) === 0 && (await httpGet(c.port, '/readyz')).status === 200, 60_000);
    const stopping = Date.now();
    await stopChild(standby.child);
    await until('c leads', async () => (await leading(c, 'translator')) === 1, TTL * 2, 50);
    assert.ok(Date.now() - stopping < TTL, `took over ${Date.now() - stopping} ms after the stop`);
    assert.ok(standby.logs.some((l) => l.msg === 'lease released'));
    assert.equal(await readHead(redis, 'default/gw'), changed);
    assert.equal(sample(await metrics(c), 'gantry_snapshots_published_total') ?? 0, 0);
  } finally {
    await watcher.stop();
  }
});

test('a translator paused past its lease (a stall, a partition) writes nothing when it resumes', { timeout: 120_000 }, async () => {
  const manifests = join(dir, 'paused');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'gateway.yaml'), GATEWAY_MANIFEST.replaceAll('name: gw', 'name: gw2'));
  writeFileSync(join(manifests, 'route.yaml'), route('/a').replace('name: gw', 'name: gw2'));
  const watcher = await startWatcher({ eventLog, cluster: 'local', manifests, debounceMs: 50, log: quietLog, watch: false });
  const head = () => readHead(redis, 'default/gw2');
  const change = async (path: string) => {
    const before = await head();
    writeFileSync(join(manifests, 'route.yaml'), route(path).replace('name: gw', 'name: gw2'));
    await watcher.pass();
    return until(`a snapshot for ${path}`, async () => { const v = await head(); return v !== before && v; });
  };
  try {
    const a = await replica('translator', 'pa');
    const b = await replica('translator', 'pb');
    const paused = await until('one leading translator', () => leaderOf('translator', a, b), 60_000);
    const other = paused === a ? b : a;
    await until('a snapshot of default/gw2', () => head().then((v) => v ?? undefined));
    const published = sample(await metrics(paused), 'gantry_snapshots_published_total');
    // Every command its Redis connection sends from the pause on.
    const address = (await writerClients()).get(`gantry-translator:${holderOf(paused)}`);
    assert.ok(address, 'the leader\'s connection');
    const monitor = await redis.monitor(); // a connection of its own
    monitors.push(monitor);
    const sent: Array<[source: string, command: string]> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => { sent.push([source, args[0]!.toUpperCase()]); });

    paused.child.kill('SIGSTOP');
    await until('the other leads', async () => (await leading(other, 'translator')) === 1, TAKEOVER_MS * 2, 50);
    const v2 = await change('/b');
    paused.child.kill('SIGCONT');
    // On waking its step-down deadline has long passed: it stands down before anything else runs.
    await until('the resumed one stands down', async () => (await leading(paused, 'translator')) === 0, 5000);
    assert.ok(paused.logs.some((l) => l.msg === 'lease lost: standing down'));
    assert.equal(await head(), v2);
    const v3 = await change('/c');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await head(), v3, 'the resumed translator did not write its older state');
    assert.equal(sample(await metrics(paused), 'gantry_snapshots_published_total'), published, 'nothing published since the pause');
    await until('only the leader connected to Redis', async () => (await writerConnections()).join() === `gantry-translator:${holderOf(other)}`);
    // Woken with the route changes of its pause pending, it did not so much as read a head, while
    // the monitor saw the new leader write.
    assert.deepEqual(sent.filter(([source]) => source === address), []);
    const leaderAddress = (await writerClients()).get(`gantry-translator:${holderOf(other)}`);
    assert.ok(sent.some(([source, command]) => source === leaderAddress && command === 'SET'));
  } finally {
    await watcher.stop();
  }
});

test('reporters (file mode): only the leader writes status files; a standby takes over from a killed one', { timeout: 120_000 }, async () => {
  const ref = { cluster: 'local', kind: 'Gateway', namespace: 'default', name: 'gw' };
  let n = 0;
  const report = (message: string) => publishEvent(eventLog.js, ReportEventSchema, subjects.report(ref), {
    schema: REPORT_SCHEMA, ...ref, apiVersion: 'gateway.networking.k8s.io/v1', generation: 1, op: 'upsert',
    status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message, observedGeneration: 1, lastTransitionTime: '2024-01-01T00:00:00Z' }] },
    emittedAt: new Date().toISOString(),
  }, `failover-report-${++n}`);
  await report('first');
  // Each replica its own status directory, so what each writes can be told apart.
  const dirs = { a: join(dir, 'status-a'), b: join(dir, 'status-b') };
  const a = await replica('reporter', 'a', { GANTRY_STATUS_DIR: dirs.a });
  const b = await replica('reporter', 'b', { GANTRY_STATUS_DIR: dirs.b });
  const leader = await until('one leading reporter', () => leaderOf('reporter', a, b), 60_000);
  const standby = leader === a ? b : a;
  const file = (r: Replica) => join(dirs[r.name as 'a' | 'b'], 'Gateway/default/gw.yaml');
  await until('the leader wrote the status', () => existsSync(file(leader)));
  await report('second');
  await until('the leader wrote the new status', () => readFileSync(file(leader), 'utf8').includes('second'));
  assert.equal(existsSync(dirs[standby.name as 'a' | 'b']) ? readdirSync(dirs[standby.name as 'a' | 'b']).length : 0, 0, 'the standby wrote nothing');
  assert.equal((await httpGet(standby.port, '/readyz')).status, 200, 'a standby is ready');

  const killed = Date.now();
  leader.child.kill('SIGKILL');
  await until('the standby writes the status', () => existsSync(file(standby)), TAKEOVER_MS * 2, 50);
  assert.ok(Date.now() - killed <= TAKEOVER_MS + 1000, `status written ${Date.now() - killed} ms after the kill`);
  assert.equal(await leading(standby, 'reporter'), 1);
});
