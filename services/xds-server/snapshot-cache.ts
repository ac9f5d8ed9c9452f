// The SnapshotCache of an xds-server replica: snapshots loaded from Redis on first use, refreshed
// on every `gantry.snap.>` event, after a NATS reconnect, when Redis comes back, and on a timer as
// a safety net. When Redis is down the cache keeps serving what it holds.
import type { Redis } from 'ioredis';
import type { NatsConnection, Subscription as NatsSubscription } from 'nats';
import type { Logger } from 'pino';
import { decodeEnvelope, SnapshotEventSchema, STREAMS } from '../../libs/contracts/index.ts';
import { readBlobs, readHead, readManifest } from '../../libs/snapshots/redis-store.ts';
import type { SnapshotCache } from '../../libs/xds-server/cache.ts';
import { referencedHashes } from '../../libs/snapshots/manifest.ts';
import { nextSnapshot, type GatewaySnapshot } from '../../libs/xds-server/snapshot.ts';

type Watcher = (snapshot: GatewaySnapshot) => void;

interface Entry {
  snapshot?: GatewaySnapshot;
  watchers: Set<Watcher>;
  /** The refresh in flight, and whether another must follow it (an event arrived meanwhile). */
  refreshing?: Promise<void>;
  again: boolean;
}

export interface RedisSnapshotCacheOptions {
  redis: Redis;
  log: Logger;
  /** Re-read every held Gateway's head this often, in case an event was missed. */
  resyncMs?: number;
}

export class RedisSnapshotCache implements SnapshotCache {
  private readonly entries = new Map<string, Entry>();
  private readonly redis: Redis;
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private sub?: NatsSubscription;
  private stopped = false;

  constructor(private readonly opts: RedisSnapshotCacheOptions) {
    this.redis = opts.redis;
    this.log = opts.log;
  }

  current(gateway: string): GatewaySnapshot | undefined {
    return this.entries.get(gateway)?.snapshot;
  }

  watch(gateway: string, onSnapshot: Watcher): () => void {
    let entry = this.entries.get(gateway);
    if (!entry) {
      entry = { watchers: new Set(), again: false };
      this.entries.set(gateway, entry);
    }
    // A wrapper per watch, so the same callback watched twice is two watches.
    const watcher: Watcher = (s) => onSnapshot(s);
    entry.watchers.add(watcher);
    const held = entry.snapshot;
    if (held) queueMicrotask(() => entry.watchers.has(watcher) && watcher(held));
    else void this.refresh(gateway);
    return () => void entry.watchers.delete(watcher);
  }

  /** Follows snapshot events on NATS and re-reads heads after a reconnect and on a timer. */
  start(nc: NatsConnection): void {
    this.sub = nc.subscribe(STREAMS.SNAPSHOTS.subjects[0]);
    void (async () => {
      for await (const m of this.sub!) {
        const decoded = decodeEnvelope(SnapshotEventSchema, m.data);
        if (!decoded.ok) {
          this.log.warn({ subject: m.subject, err: decoded.error }, 'ignored a malformed snapshot event');
          continue;
        }
        const { gateway, version } = decoded.value;
        if (this.entries.has(gateway) && this.entries.get(gateway)!.snapshot?.manifest.version !== version) {
          void this.refresh(gateway);
        }
      }
    })();
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') void this.refreshAll('nats reconnect');
    })();
    this.redis.on('ready', () => void this.refreshAll('redis ready'));
    const every = this.opts.resyncMs ?? 30_000;
    this.timer = setInterval(() => void this.refreshAll('periodic resync'), every);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.sub?.unsubscribe();
  }

  async refreshAll(reason: string): Promise<void> {
    if (this.stopped || this.entries.size === 0) return;
    this.log.debug({ reason, gateways: this.entries.size }, 're-reading snapshot heads');
    await Promise.all([...this.entries.keys()].map((gw) => this.refresh(gw)));
  }

  /** Brings one Gateway up to its head in Redis; concurrent calls coalesce into one more pass. */
  refresh(gateway: string): Promise<void> {
    const entry = this.entries.get(gateway);
    if (!entry) return Promise.resolve();
    if (entry.refreshing) {
      entry.again = true;
      return entry.refreshing;
    }
    entry.refreshing = (async () => {
      do {
        entry.again = false;
        try {
          await this.load(gateway, entry);
        } catch (err) {
          this.log.warn({ gateway, err: (err as Error).message }, 'could not refresh snapshot; serving the one held');
        }
      } while (entry.again && !this.stopped);
      entry.refreshing = undefined;
    })();
    return entry.refreshing;
  }

  private async load(gateway: string, entry: Entry): Promise<void> {
    const head = await readHead(this.redis, gateway);
    const held = entry.snapshot;
    if (head === null || head === held?.manifest.version) return;
    const manifest = await readManifest(this.redis, gateway, head);
    if (!manifest) {
      this.log.warn({ gateway, version: head }, 'head points at a missing manifest');
      return;
    }
    const known = held?.blobs ?? new Map<string, Buffer>();
    const missing = [...referencedHashes(manifest)].filter((h) => !known.has(h));
    const fetched = await readBlobs(this.redis, gateway, missing);
    const snapshot = nextSnapshot(manifest, known, fetched, held);
    if (entry.snapshot !== held) return; // cannot happen while refreshes are serialized; be safe
    entry.snapshot = snapshot;
    // One line per push (per-stream detail is at debug in discovery-stream.ts).
    const t0 = performance.now();
    for (const w of [...entry.watchers]) {
      try {
        w(snapshot);
      } catch (err) {
        this.log.error({ gateway, err }, 'snapshot watcher failed');
      }
    }
    this.log.info({
      gateway, snapshot: manifest.version, previous: held?.manifest.version, fetched: missing.length,
      streams: entry.watchers.size, pushMs: Math.round((performance.now() - t0) * 10) / 10,
    }, 'snapshot loaded and pushed');
  }
}
