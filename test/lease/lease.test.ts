// Leader leases (libs/lease) against a real nats-server: one holder at a time, terms that never
// overlap, release on stop, step-down when NATS is out of reach (and the window that leaves until
// another holds the lease), a taken lease noticed at the next renewal, fencing tokens that grow
// with every term, the bucket's TTL, and the 2.9 expiry behaviour the design rests on (no delete
// marker to watchers, so standbys poll).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import pino from 'pino';
import type { FencingToken } from '../../libs/contracts/index.ts';
import { aborted, LEASE_BUCKET, leaseCheck, startLease, TermEnded, untilAborted, type Lease, type Term } from '../../libs/lease/index.ts';
import { metrics } from '../../libs/service/metrics.ts';
import { startNats, type RunningServer } from '../support/servers.ts';

const TTL = 1200;
let nats: RunningServer;
const connections: NatsConnection[] = [];
const leases: Lease[] = [];

before(async () => { nats = await startNats(); });
after(async () => {
  await Promise.all(leases.map((l) => l.stop()));
  await Promise.all(connections.map((c) => (c.isClosed() ? undefined : c.close())));
  await nats.stop();
});

async function conn(server = nats): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  connections.push(nc);
  return nc;
}

/** A logger whose lines are kept, to check what the lease says about itself. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
  return { log, lines };
}

/** Every term's start and end (performance.now()), across all leases of one test. */
interface Terms { active: number; overlaps: number; log: Array<{ who: string; start: number; end?: number }> }
const newTerms = (): Terms => ({ active: 0, overlaps: 0, log: [] });

async function lease(nc: NatsConnection, who: string, terms: Terms, opts: { service?: string; ttlMs?: number; fail?: boolean } = {}) {
  const { log, lines } = recordingLog();
  const l = startLease({
    nc, service: opts.service ?? 'svc', cluster: 'c1', ttlMs: opts.ttlMs ?? TTL, log, holder: who,
    run: async (term) => {
      const entry: Terms['log'][number] = { who, start: performance.now() };
      terms.log.push(entry);
      if (++terms.active > 1) terms.overlaps++;
      try {
        if (opts.fail) throw new Error('cannot start');
        await new Promise<void>((resolve) => term.signal.addEventListener('abort', () => resolve(), { once: true }));
        assert.ok(term.signal.reason instanceof TermEnded);
      } finally {
        entry.end = performance.now();
        terms.active--;
      }
    },
  });
  leases.push(l);
  return { lease: l, lines };
}

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const leaderOf = <T extends { lease: Lease }>(...ls: T[]): T | undefined => {
  const held = ls.filter((x) => x.lease.state === 'leader');
  return held.length === 1 && ls.every((x) => x.lease.state !== 'starting') ? held[0] : undefined;
};

test('nats-server 2.9: max_age expiry sends watchers no delete marker, and frees the key for create', async () => {
  const nc = await conn();
  const kv = await nc.jetstream().views.kv('expiry-probe', { history: 1, ttl: 500 });
  const seen: string[] = [];
  const watch = await kv.watch({ key: 'k' });
  void (async () => { for await (const e of watch) seen.push(e.operation); })();
  const first = await kv.create('k', 'a');
  await assert.rejects(kv.create('k', 'b'), /wrong last sequence/);
  const started = Date.now();
  let second = 0;
  while (!second) {
    second = await kv.create('k', 'c').catch(() => 0);
    if (!second) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(Date.now() - started >= 300, 'the key held until (about) its max_age');
  await new Promise((r) => setTimeout(r, 300));
  watch.stop();
  assert.ok(second > first);
  // Only the two puts: the expiry of the first was silent, which is why a standby polls.
  assert.deepEqual(seen, ['PUT', 'PUT']);
});

test('one of two holds the lease; the other stands by naming the holder; a stop releases it and the other takes over at once', async () => {
  const terms = newTerms();
  const a = await lease(await conn(), 'host-a/1/aa', terms);
  const b = await lease(await conn(), 'host-b/2/bb', terms);
  const leader = await until('one leader, one standby', () => leaderOf(a, b));
  const standby = leader === a ? b : a;
  assert.equal(standby.lease.state, 'standby');
  // The holder's identity is in both processes' logs.
  assert.ok(leader.lines.some((l) => l.msg === 'lease acquired: leading' && l.holder === leader.lease.holder && l.lease === 'svc.c1'));
  assert.ok(standby.lines.some((l) => l.msg === 'standing by: the lease is held by another process' && l.holder === leader.lease.holder));
  // Several TTLs: the leader keeps it by renewing, the standby never gets a term.
  await new Promise((r) => setTimeout(r, TTL * 2.5));
  assert.equal(leader.lease.state, 'leader');
  assert.equal(terms.log.length, 1);

  const stopped = performance.now();
  await leader.lease.stop();
  assert.ok(leader.lines.some((l) => l.msg === 'lease released'));
  await until('the standby leads', () => standby.lease.state === 'leader');
  // Released, not expired: the next attempt (every TTL/4) wins, well before the TTL.
  assert.ok(performance.now() - stopped < TTL * 0.75, `took over after ${Math.round(performance.now() - stopped)} ms`);
  await until('its term started', () => terms.log.length === 2);
  assert.equal(terms.overlaps, 0, 'terms never overlap');
  assert.ok(terms.log[0]!.end! <= terms.log[1]!.start);
});

test('a holder cut off from NATS stands down within 2/3 of the TTL; the other leads only after the key expired', async () => {
  const terms = newTerms();
  const ncA = await conn();
  const a = await lease(ncA, 'host-a/1/cc', terms, { service: 'cut' });
  await until('a leads', () => a.lease.state === 'leader');
  const b = await lease(await conn(), 'host-b/2/dd', terms, { service: 'cut' });
  await until('b stands by', () => b.lease.state === 'standby');
  const cut = performance.now();
  await ncA.close();
  await until('a stands down', () => a.lease.state === 'standby', TTL);
  const aEnd = await until('a\'s term ended', () => terms.log[0]!.end);
  assert.ok(aEnd - cut <= TTL * (2 / 3) + 100, `stood down ${Math.round(aEnd - cut)} ms after the cut`);
  assert.ok(a.lines.some((l) => l.msg === 'lease lost: standing down'));
  await until('b leads', () => b.lease.state === 'leader', TTL * 2);
  const bStart = terms.log[1]!.start;
  // The key outlives a's last renewal by the TTL, a stood down 2/3 of it after that renewal was
  // sent: at least TTL/3 passes between a's last write and b's first (the fencing window).
  assert.ok(bStart - aEnd >= TTL / 3 - 50, `only ${Math.round(bStart - aEnd)} ms between the terms`);
  assert.ok(bStart - cut <= TTL + TTL / 4 + 300, `b took over ${Math.round(bStart - cut)} ms after the cut`);
  assert.equal(terms.overlaps, 0);
});

test('a lease taken by someone else is noticed at the next renewal', async () => {
  const terms = newTerms();
  const nc = await conn();
  const a = await lease(nc, 'host-a/1/ee', terms, { service: 'taken' });
  await until('a leads', () => a.lease.state === 'leader');
  const kv = await nc.jetstream().views.kv(LEASE_BUCKET);
  await kv.delete('taken.c1');
  await kv.create('taken.c1', JSON.stringify({ holder: 'intruder', service: 'taken', acquiredAt: new Date().toISOString() }));
  const taken = performance.now();
  await until('a stands down', () => a.lease.state === 'standby', TTL);
  assert.ok(performance.now() - taken <= TTL / 4 + 200);
  await until('a names the new holder', () => a.lines.some((l) => l.msg === 'standing by: the lease is held by another process' && l.holder === 'intruder'));
});

test('a term whose work fails releases the lease, and the gauge follows who leads', async () => {
  const terms = newTerms();
  const bad = await lease(await conn(), 'host-a/1/ff', terms, { service: 'gauge', fail: true });
  await until('the failing term ran', () => terms.log.length >= 1);
  assert.ok(bad.lines.some((l) => l.msg === 'leader work failed: releasing the lease'));
  await bad.lease.stop();
  const good = await lease(await conn(), 'host-b/2/gg', terms, { service: 'gauge' });
  await until('the other leads at once (released, not left to expire)', () => good.lease.state === 'leader', TTL / 2);
  const gauge = async () => (await metrics.leader.get()).values.find((v) => v.labels.service === 'gauge')?.value;
  assert.equal(await gauge(), 1);
  const check = leaseCheck(() => good.lease, () => false);
  assert.equal(check(), 'leading, not in step yet');
  assert.equal(leaseCheck(() => good.lease, () => true)(), true);
  assert.equal(leaseCheck(() => undefined, () => true)(), 'no lease attempt answered yet');
  await good.lease.stop();
  assert.equal(await gauge(), 0);
});

test('every term\'s fencing token is newer than the last: another holder\'s, a lost term claimed afresh, a recreated bucket\'s', async () => {
  // A server of its own: the bucket is deleted here.
  const server = await startNats();
  const own: Lease[] = [];
  try {
    const nc = await conn(server);
    const fences: FencingToken[] = [];
    const current = new Map<string, Term>();
    const start = (holder: string) => {
      const { log, lines } = recordingLog();
      const l = startLease({
        nc, service: 'fence', cluster: 'c1', ttlMs: TTL, log, holder,
        run: async (term) => {
          fences.push(term.fence);
          current.set(holder, term);
          await aborted(term.signal);
          current.delete(holder);
        },
      });
      own.push(l);
      return { lease: l, lines };
    };
    const newer = (a: FencingToken, b: FencingToken) => b.epoch > a.epoch || (b.epoch === a.epoch && b.revision > a.revision);

    const a = start('a/1/11');
    const first = await until('a leads', () => current.get('a/1/11'));
    const jsm = await nc.jetstreamManager();
    assert.equal(first.fence.epoch, Date.parse((await jsm.streams.info(`KV_${LEASE_BUCKET}`)).created), 'the epoch is the bucket\'s creation time');
    // A store refused a write of the term: it ends at once, and the lease, still a's, is claimed afresh.
    first.lost('a store refused a write');
    assert.ok(first.signal.aborted);
    assert.equal(a.lease.state, 'standby');
    assert.ok(a.lines.some((l) => l.msg === 'lease lost: standing down' && l.reason === 'a store refused a write'));
    await until('a leads again', () => fences.length === 2 && current.get('a/1/11'));

    start('b/2/22');
    await a.lease.stop();
    await until('b leads', () => fences.length === 3 && current.get('b/2/22'));
    // The bucket is recreated (an operator; a NATS server that lost its storage): revisions restart.
    await jsm.streams.delete(`KV_${LEASE_BUCKET}`);
    await until('b leads in the new bucket', () => fences.length === 4, TTL * 3);
    assert.equal(fences[3]!.revision, 1);
    for (let i = 1; i < fences.length; i++) assert.ok(newer(fences[i - 1]!, fences[i]!), `term ${i}: ${JSON.stringify(fences)}`);
  } finally {
    await Promise.all(own.map((l) => l.stop()));
    await server.stop();
  }
});

test('the bucket\'s TTL grows to the longest setting and never shrinks', async () => {
  const nc = await conn();
  const ttl = async () => (await (await nc.jetstream().views.kv(LEASE_BUCKET)).status()).ttl;
  const terms = newTerms();
  const longer = await lease(nc, 'x/1/11', terms, { service: 'ttl', ttlMs: TTL * 2 });
  await until('started', () => longer.lease.state === 'leader');
  assert.equal(await ttl(), TTL * 2);
  const shorter = await lease(nc, 'x/2/22', terms, { service: 'ttl-short', ttlMs: TTL });
  await until('started', () => shorter.lease.state === 'leader');
  assert.equal(await ttl(), TTL * 2);
  assert.ok(shorter.lines.some((l) => l.msg?.toString().startsWith('the lease bucket keeps leases longer')));
  await Promise.all([longer.lease.stop(), shorter.lease.stop()]);
});

test('untilAborted: the term\'s end rejects at once with its reason; the abandoned request is still handled', async () => {
  const controller = new AbortController();
  let rejectLater!: (err: Error) => void;
  const slow = new Promise<never>((_, reject) => { rejectLater = reject; });
  const guarded = untilAborted(slow, controller.signal);
  controller.abort(new TermEnded('lost'));
  await assert.rejects(guarded, (err: Error) => err instanceof TermEnded && err.message === 'lost');
  rejectLater(new Error('connection closed')); // no unhandled rejection: the test runner would fail on one
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await untilAborted(Promise.resolve(7), new AbortController().signal), 7);
});
