// Leader leases in NATS JetStream KV: the writers (translator, reporter, watcher, endpoint-discovery)
// may run several replicas, and only the holder of their lease writes. NATS because every service
// has it, while the translator has no Kubernetes API (no token; in file mode no API server at all).
//
// One bucket, `gantry-leases`, whose max_age is the lease TTL; one key per writer,
// `<service>.<cluster>`, holding a LeaseRecord (who holds it, since when). Acquire: kv.create, which
// fails while the key holds a value. Renew: kv.update with the revision last written, which fails
// once anyone else has written. Release (shutdown): delete with that revision. A holder that dies
// stops renewing, and the key expires TTL after its last renewal. On nats-server 2.9 that expiry is
// silent (a watcher gets no delete marker; test/lease/lease.test.ts checks it), so standbys poll.
//
// Timing, TTL = T: every process makes one attempt every T/4 (renew when holding, else create),
// each request timing out after T/4. A holder steps down when no renewal has succeeded for 2T/3,
// counted from when the last successful one was sent: the server stored it later, so the key lives
// at least T from then. Two renewals in a row may fail without a change of leader, and what the old
// holder had started before stepping down has T/3 to land before anyone else can hold the lease.
// What lands later still is refused by the stores, which compare each term's fencing token (the
// bucket's creation time, then the KV revision that won the term) with the newest they have seen:
// docs/architecture.md, "Leader leases".
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, nanos, type KV, type KvEntry, type NatsConnection } from 'nats';
import { z } from 'zod';
import type { FencingToken } from '../contracts/index.ts';
import type { Check } from '../service/health.ts';
import type { Logger } from '../service/index.ts';
import { metrics } from '../service/metrics.ts';

export const LEASE_BUCKET = 'gantry-leases';

export const LeaseConfig = z.object({
  /** How long a lease outlives its holder's last renewal: how long a dead leader's writes pause at most. */
  GANTRY_LEASE_TTL_MS: z.coerce.number().int().min(500).max(600_000).default(15_000),
});

/** The value of a lease key, read back by standbys to name the holder in their logs. */
export const LeaseRecord = z.object({ holder: z.string().min(1), service: z.string(), acquiredAt: z.string() });
export type LeaseRecord = z.infer<typeof LeaseRecord>;

/** Host (the pod's name in Kubernetes), pid and a random instance id: a restarted process is a new holder. */
export function holderIdentity(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/** The reason a term's signal carries when the lease is lost or released. */
export class TermEnded extends Error {
  override name = 'TermEnded';
}

/** A store refused a write of this term: it has seen a newer term's fencing token. */
export class FencedOut extends Error {
  override name = 'FencedOut';
  /** `resource`: what was being written (a gateway's snapshot, a subject). */
  constructor(readonly resource: string, message: string) {
    super(message);
  }
}

/** One term of a lease, as its work gets it. */
export interface Term {
  /** Aborted, with a TermEnded reason, when the lease is lost or released (or `lost` is called). */
  readonly signal: AbortSignal;
  /** Greater than every earlier term's, of any lease of the bucket: what stores compare to refuse a deposed holder's late writes. */
  readonly fence: FencingToken;
  /** The lease key, `<service>.<cluster>`. */
  readonly lease: string;
  readonly holder: string;
  /**
   * A store refused a write of this term (FencedOut): ends the term as a lost lease. If the lease
   * is still ours, the next attempt claims it afresh, as a new term with a newer token.
   */
  lost(reason: string): void;
}

export interface LeaseOptions {
  nc: NatsConnection;
  service: string;
  cluster: string;
  ttlMs: number;
  log: Logger;
  /**
   * The leader's work for one term, called when the lease is won. It must stop writing and return
   * once `term.signal` is aborted (lease lost or released). Terms never overlap: the next one starts
   * after this returns. A rejection ends the term and releases the lease, so another process may try.
   */
  run(term: Term): Promise<void>;
  /** Defaults to holderIdentity(). */
  holder?: string;
}

export type LeaseState = 'starting' | 'leader' | 'standby';

export interface Lease {
  readonly key: string;
  readonly holder: string;
  /** `starting` until an attempt got an answer. */
  readonly state: LeaseState;
  /** Stops campaigning; when leading, ends the term, waits for its work to stop, then releases the lease for a standby to take at once. */
  stop(): Promise<void>;
}

const WRONG_LAST_SEQUENCE = 10071;
const isHeld = (err: unknown) => (err as { api_error?: { err_code?: number } })?.api_error?.err_code === WRONG_LAST_SEQUENCE;
/** The bucket's creation time, read at every win: the bucket may have been recreated since it was opened. */
const epochOf = async (kv: KV) => Date.parse((await kv.status()).streamInfo.created);

/** Resolves once `signal` is aborted. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * `p`, unless `signal` is aborted first: then rejects with its reason at once, so a writer never
 * waits on (nor goes on after) a request of a term that has ended. `p` is still handled when it settles.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/** Campaigns for `<service>.<cluster>` until stopped, running `opts.run` for every term won. */
export function startLease(opts: LeaseOptions): Lease {
  const { service, ttlMs, log } = opts;
  const key = `${service}.${opts.cluster}`;
  const holder = opts.holder ?? holderIdentity();
  const period = ttlMs / 4;
  const stepDownAfterMs = Math.floor((ttlMs * 2) / 3);
  let kv: KV | undefined;
  let state = 'starting' as LeaseState;
  let revision = 0;
  let record = '';
  let term: AbortController | undefined;
  let termDone: Promise<void> = Promise.resolve();
  let deadline: NodeJS.Timeout | undefined;
  let seenHolder: string | undefined;
  let lastError: string | undefined;
  let stopped = false;
  let wake: () => void = () => undefined;
  metrics.leader.set({ service }, 0);

  /** The bucket, created when missing; its TTL only ever grows (see below). */
  const openBucket = async (): Promise<KV> => {
    const js = opts.nc.jetstream({ timeout: period });
    const bucket = await js.views.kv(LEASE_BUCKET, { history: 1, ttl: ttlMs, timeout: period });
    const bucketTtl = (await bucket.status()).ttl;
    if (bucketTtl === 0 || bucketTtl < ttlMs) {
      // Lengthening is safe for every holder (each renews by its own, shorter clock); shortening
      // could expire a holder's key between its renewals, so a shorter setting never shrinks it.
      const jsm = await opts.nc.jetstreamManager({ timeout: period });
      const stream = `KV_${LEASE_BUCKET}`;
      const { config } = await jsm.streams.info(stream);
      await jsm.streams.update(stream, { ...config, max_age: nanos(ttlMs) });
      log.info({ bucket: LEASE_BUCKET, fromMs: bucketTtl, toMs: ttlMs }, 'lengthened the lease bucket\'s TTL');
    } else if (bucketTtl > ttlMs) {
      log.warn({ bucket: LEASE_BUCKET, bucketTtlMs: bucketTtl, ttlMs }, 'the lease bucket keeps leases longer than GANTRY_LEASE_TTL_MS: a dead leader is replaced after the bucket\'s TTL');
    }
    return bucket;
  };

  const lose = (reason: string) => {
    if (state !== 'leader') return;
    state = 'standby';
    clearTimeout(deadline);
    metrics.leader.set({ service }, 0);
    log.warn({ lease: key, holder, reason }, 'lease lost: standing down');
    term?.abort(new TermEnded(`lease ${key} lost: ${reason}`));
  };
  /** The lease is ours until `sentAt + stepDownAfterMs` unless renewed again. */
  const holdFrom = (sentAt: number) => {
    clearTimeout(deadline);
    deadline = setTimeout(() => lose(`no renewal succeeded for ${stepDownAfterMs} ms`), sentAt + stepDownAfterMs - performance.now());
  };
  const won = (rev: number, sentAt: number, epoch: number) => {
    revision = rev;
    state = 'leader';
    seenHolder = holder;
    metrics.leader.set({ service }, 1);
    const fence = { epoch, revision: rev };
    log.info({ lease: key, holder, fence }, 'lease acquired: leading');
    const controller = new AbortController();
    term = controller;
    holdFrom(sentAt);
    const signal = controller.signal;
    const current: Term = {
      signal, fence, lease: key, holder,
      lost: (reason) => { if (term === controller) lose(reason); },
    };
    termDone = termDone.then(async () => {
      if (signal.aborted) return;
      try {
        await opts.run(current);
      } catch (err) {
        if (signal.aborted) return;
        log.error({ err, lease: key }, 'leader work failed: releasing the lease');
        lose('the leader\'s work failed');
        await kv?.delete(key, { previousSeq: revision }).catch(() => undefined);
      }
    });
  };
  const noteHolder = (entry: KvEntry | null) => {
    state = 'standby';
    let other = 'nobody (the key expired meanwhile)';
    if (entry?.operation === 'PUT') {
      const parsed = (() => { try { return LeaseRecord.safeParse(entry.json()); } catch { return undefined; } })();
      other = parsed?.success ? parsed.data.holder : 'unknown (malformed lease record)';
      if (!parsed?.success) log.warn({ lease: key, revision: entry.revision }, 'malformed lease record; waiting for it to expire');
    }
    if (other !== seenHolder) log.info({ lease: key, holder: other }, 'standing by: the lease is held by another process');
    seenHolder = other;
  };

  /** One attempt: renew when leading, else acquire. */
  const attempt = async () => {
    kv ??= await openBucket();
    const sentAt = performance.now();
    try {
      if (state === 'leader') {
        revision = await kv.update(key, record, revision);
        // Stepped down while it was on its way: the next attempt finds our record and claims it afresh.
        if (state === 'leader') holdFrom(sentAt);
        return;
      }
      record = JSON.stringify({ holder, service, acquiredAt: new Date().toISOString() } satisfies LeaseRecord);
      const rev = await kv.create(key, record);
      won(rev, sentAt, await epochOf(kv));
      return;
    } catch (err) {
      if (!isHeld(err)) throw err;
    }
    const entry = await kv.get(key);
    let mine = false;
    try { mine = entry?.operation === 'PUT' && LeaseRecord.parse(entry.json()).holder === holder; } catch { /* not ours */ }
    if (entry && mine) {
      // Our own write whose answer was lost (a timeout): claim it at the revision it has.
      const claimedAt = performance.now();
      record = entry.string();
      const rev = await kv.update(key, record, entry.revision);
      if (state === 'leader') { revision = rev; holdFrom(claimedAt); } else won(rev, claimedAt, await epochOf(kv));
      return;
    }
    lose('another process holds the lease now');
    noteHolder(entry);
  };

  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      if (state !== 'leader') await termDone; // a new term only once the last one's work has stopped
      try {
        await attempt();
        lastError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        // Nothing answers for a deleted bucket: open (create) it again next time.
        if ((err as { code?: string }).code === ErrorCode.NoResponders || /stream not found/.test(message)) kv = undefined;
        if (message !== lastError) log.warn({ lease: key, err: message }, 'lease attempt failed; trying again');
        lastError = message;
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, started + period - performance.now()));
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  })();

  return {
    key, holder,
    get state() { return state; },
    stop: async () => {
      stopped = true;
      wake();
      await loop;
      const leading = state === 'leader';
      if (leading) {
        state = 'standby';
        clearTimeout(deadline);
        metrics.leader.set({ service }, 0);
        term?.abort(new TermEnded(`lease ${key} released: shutting down`));
      }
      await termDone;
      if (!leading || !kv) return;
      try {
        await kv.delete(key, { previousSeq: revision });
        log.info({ lease: key, holder }, 'lease released');
      } catch (err) {
        log.warn({ lease: key, err: (err as Error).message }, 'lease not released; it expires by itself');
      }
    },
  };
}

/**
 * Readiness of a leased service: a standby is ready (it can take over: Kubernetes Services do not
 * front the writers, so readiness only gates rollouts, and a standby that never became ready would
 * stall every rolling update); the leader once `inStep()`; nobody before the first attempt.
 */
export function leaseCheck(lease: () => Lease | undefined, inStep: () => boolean): Check {
  return () => {
    const state = lease()?.state ?? 'starting';
    if (state === 'standby') return true;
    if (state === 'starting') return 'no lease attempt answered yet';
    return inStep() || 'leading, not in step yet';
  };
}
