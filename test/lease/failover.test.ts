// Several translators and reporters against one NATS (and Redis), as real processes: only the
// lease holder writes; when it dies (SIGKILL: its lease expires) or stops (SIGTERM: it releases
// its lease) another takes over, and a translator taking over serves the same snapshot version
// without writing anything (content-addressed versions, reports compared by content). A leader
// paused with a write on its way (held in a relay, delivered once another leads) is fenced out:
// neither Redis nor REPORTS takes it.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { REPORT_SCHEMA, ReportEventSchema, STREAMS, subjects } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent, type EventLog } from '../../libs/eventlog/index.ts';
import { stopChild } from '../../libs/service/local-servers.ts';
import { keys, readHead } from '../../libs/snapshots/redis-store.ts';
import { startWatcher, type RunningWatcher } from '../../services/watcher/watcher.ts';
import { quietLog } from '../edge/edge-support.ts';
import { GATEWAY_MANIFEST } from '../support/pipeline.ts';
import { startRelay, type Relay } from '../support/relay.ts';
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
const relays: Relay[] = [];
const watchers: RunningWatcher[] = [];

before(async () => {
  [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  redis = new Redis(redisServer.url);
  eventLog = await connectEventLog(nats.url, 'failover-test', quietLog);
  await ensureStreams(eventLog.jsm);
  dir = mkdtempSync(join(tmpdir(), 'gantry-failover-'));
});
// Every test starts its own replicas: one left leading would make the next test's replicas standbys.
afterEach(async () => {
  for (const c of children) c.kill('SIGCONT'); // a paused one would not stop
  await Promise.all(children.splice(0).map((c) => stopChild(c, 2000)));
  await Promise.all([...relays.splice(0).map((r) => r.close()), ...watchers.splice(0).map((w) => w.stop())]);
});
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
    assert.equal(sample(t, 'gantry_events_published_total', { stream: 'REPORTS' }) ?? 0, 1, 'only its term\'s marker: no report republished');
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

/**
 * Gateway `gw` and route `r` in manifests of their own (and their watcher); a translator leading
 * through relays that can hold what it sends to NATS and Redis; another standing by, connected directly.
 */
async function relayedLeader(gw: string) {
  const manifests = join(dir, gw);
  mkdirSync(manifests);
  const write = (file: string, text: string) => writeFileSync(join(manifests, file), text.replaceAll('name: gw', `name: ${gw}`));
  write('gateway.yaml', GATEWAY_MANIFEST);
  write('route.yaml', route('/a'));
  const watcher = await startWatcher({ eventLog, cluster: 'local', manifests, debounceMs: 50, log: quietLog, watch: false });
  watchers.push(watcher);
  const [natsRelay, redisRelay] = await Promise.all([startRelay(nats.url), startRelay(redisServer.url)]);
  relays.push(natsRelay, redisRelay);
  const leader = await replica('translator', `${gw}-leader`, { GANTRY_NATS_URL: natsRelay.url, GANTRY_REDIS_URL: redisRelay.url });
  await until('the relayed translator leads', async () => (await leading(leader, 'translator')) === 1, 60_000);
  const standby = await replica('translator', `${gw}-standby`);
  await until('the other stands by', async () => (await leading(standby, 'translator')) === 0 && (await httpGet(standby.port, '/readyz')).status === 200, 60_000);
  const head = () => readHead(redis, `default/${gw}`);
  await until(`a snapshot of default/${gw}`, () => head().then((v) => v ?? undefined));
  return {
    leader, standby, natsRelay, redisRelay, head,
    change: async (file: string, text: string | null) => {
      if (text === null) rmSync(join(manifests, file)); else write(file, text);
      await watcher.pass();
    },
    /** The paused leader, resumed once the standby leads and is in step, with what was held delivered first. */
    takeOver: async (afterPause: () => Promise<void>) => {
      leader.child.kill('SIGSTOP');
      await afterPause();
      await until('the standby leads', async () => (await leading(standby, 'translator')) === 1, TAKEOVER_MS * 2, 50);
      await until('the new leader in step', async () => (await httpGet(standby.port, '/readyz')).status === 200);
    },
    /** Delivers what was held while the old leader is still paused (what TCP retransmits once a partition heals), then resumes it. */
    resume: async () => {
      const delivered = natsRelay.release() + redisRelay.release();
      leader.child.kill('SIGCONT');
      await until('the old leader stands down', async () => (await leading(leader, 'translator')) === 0, 5000);
      return delivered;
    },
  };
}

test('a leader paused with a head write on its way: delivered after another took over, Redis refuses it', { timeout: 120_000 }, async () => {
  const s = await relayedLeader('gw3');
  const first = await s.head();
  const address = (await writerClients()).get(`gantry-translator:${holderOf(s.leader)}`);
  assert.ok(address, 'the leader\'s connection (through its relay)');
  const monitor = await redis.monitor();
  monitors.push(monitor);
  const sent: Array<{ source: string; args: string[] }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => { sent.push({ source, args }); });

  // Its next fenced write (the head move for /b) is held, with everything after it, both ways: a
  // partition starting as the request left. Then the leader is paused too.
  const held = s.redisRelay.holdFrom(/\r\neval\r\n/i, () => s.natsRelay.hold());
  await s.change('route.yaml', route('/b'));
  await held;
  await s.takeOver(() => s.change('route.yaml', route('/c')));
  const latest = await until('the new leader\'s snapshot', async () => { const v = await s.head(); return v !== first && v; });
  const from = sent.length;
  const delivered = await s.resume();
  assert.ok(delivered.includes(keys.head('default/gw3')), 'the held request was the head write');
  await until('the late head write reached Redis', () => sent.slice(from).some((c) => c.source === address && c.args[0]!.toLowerCase() === 'eval'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await s.head(), latest, 'the head is the new leader\'s');
  assert.deepEqual(sent.slice(from).filter((c) => c.args[0] !== 'get' && c.args[1] === keys.head('default/gw3')), [], 'nobody wrote the head since');
});

test('a leader paused with a report publish on its way: delivered after another took over, REPORTS refuses it', { timeout: 120_000 }, async () => {
  const s = await relayedLeader('gw4');
  const r2 = subjects.report({ cluster: 'local', kind: 'HTTPRoute', namespace: 'default', name: 'r2' });
  // Its publish of the report of a new route r2 is held, with everything after it (both ways; Redis too).
  const held = s.natsRelay.holdFrom(new RegExp(`PUB ${r2.replaceAll('.', '\\.')} `), () => s.redisRelay.hold());
  await s.change('route2.yaml', route('/r2').replace('{name: r,', '{name: r2,'));
  await held;
  // r2 goes before anyone else leads: the new leader has no report of it, so writes none.
  await s.takeOver(() => s.change('route2.yaml', null));
  const { last_seq: before } = (await eventLog.jsm.streams.info(STREAMS.REPORTS.name)).state;
  const delivered = await s.resume();
  assert.ok(delivered.includes(`PUB ${r2} `), 'the held publish was delivered');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await eventLog.jsm.streams.info(STREAMS.REPORTS.name)).state.last_seq, before, 'nothing landed on REPORTS');
  await assert.rejects(eventLog.jsm.streams.getMessage(STREAMS.REPORTS.name, { last_by_subj: r2 }), /no message found/);
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
