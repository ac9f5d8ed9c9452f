// Keys that informer callbacks mark dirty, handled in debounced batches, one batch at a time, with
// bounded concurrency. The informers' caches are the truth: a batch handles each key once, from
// the cache as it is then, whatever events came in between. A key whose handling fails is marked
// again and retried after a pause (NATS may be reconnecting, the API server away), which doubles
// with every drain that still fails, up to `retryMaxMs`.
import type { Logger } from 'pino';

export interface DirtyQueueOptions<V> {
  debounceMs: number;
  concurrency: number;
  retryMs: number;
  /** Longest pause between retries (default `retryMs`: no backoff). */
  retryMaxMs?: number;
  log: Logger;
  /** Handles one key; a thrown error re-marks it. */
  handle(key: string, value: V): Promise<void>;
}

export class DirtyQueue<V> {
  private readonly dirty = new Map<string, V>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private opened = false;
  private stopped = false;
  /** Drains in a row that left keys to retry. */
  private failedDrains = 0;

  constructor(private readonly opts: DirtyQueueOptions<V>) {}

  /** Marks a key; before open() marks only gather (the caches are still filling). */
  mark(key: string, value: V): void {
    this.dirty.set(key, value);
    this.schedule();
  }

  /** Starts draining: one batch now with everything marked so far; resolves when it is handled. */
  async open(): Promise<void> {
    this.opened = true;
    await (this.chain = this.chain.then(() => this.drain()));
  }

  /** Resolves once nothing is pending or running. */
  async idle(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (!this.timer && this.dirty.size === 0 && c === this.chain) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.chain;
  }

  private schedule(): void {
    if (!this.opened || this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.chain = this.chain.then(() => this.drain()).catch((err) => this.opts.log.error({ err }, 'drain failed'));
    }, this.opts.debounceMs);
  }

  private async drain(): Promise<void> {
    const batch = [...this.dirty];
    this.dirty.clear();
    let failed = false;
    const work = batch.map(([key, value]) => async () => {
      try {
        await this.opts.handle(key, value);
      } catch (err) {
        this.opts.log.error({ err, key }, 'failed; will retry');
        this.dirty.set(key, value);
        failed = true;
      }
    });
    for (let i = 0; i < work.length; i += this.opts.concurrency) {
      await Promise.all(work.slice(i, i + this.opts.concurrency).map((w) => w()));
    }
    // Keys marked while draining have scheduled themselves; only failures wait for a retry.
    if (!failed) { this.failedDrains = 0; return; }
    const { retryMs, retryMaxMs = retryMs } = this.opts;
    const delay = Math.min(retryMaxMs, retryMs * 2 ** Math.min(this.failedDrains++, 16));
    setTimeout(() => this.schedule(), delay).unref();
  }
}
