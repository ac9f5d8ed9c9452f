// One translation cycle: translate the World, write changed snapshots to Redis and announce them,
// then publish the reports that changed. Cycles never overlap; a change that arrives during a
// cycle triggers one more cycle afterwards.
//
// Cycles run only while this translator leads (`lead`, one call per lease term). A standby keeps
// its World current (main.ts) and writes nothing. Every write of a cycle checks the term first and
// is abandoned the moment the term ends (untilAborted), so a translator that lost its lease never
// starts another write and never waits on one it started. One already sent is fenced: Redis and
// REPORTS refuse it once a newer term has claimed them, and a refusal of our own writes ends our
// term as a lost lease.
import {
  REPORT_SCHEMA, ReportEventSchema, SNAPSHOT_SCHEMA, SnapshotEventSchema, STREAMS, subjects, type ReportEvent,
} from '../../libs/contracts/index.ts';
import { followStream, publishEvent, type EventLog } from '../../libs/eventlog/index.ts';
import { FencedStream } from '../../libs/lease/fenced-stream.ts';
import { aborted, FencedOut, untilAborted, type Term } from '../../libs/lease/index.ts';
import { diffReports, reportKey, statusDigest, type PublishedReport } from '../../libs/reports/reports.ts';
import type { Logger } from '../../libs/service/index.ts';
import { metrics } from '../../libs/service/metrics.ts';
import { encodeGatewaySnapshot } from '../../libs/snapshots/encode.ts';
import { buildManifest } from '../../libs/snapshots/manifest.ts';
import { keys, type SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { Translator } from '../../libs/translator/index.ts';
import type { TranslateOptions } from '../../libs/translator/api.ts';
import type { World } from '../../libs/world/world.ts';

export interface PublisherDeps {
  events: EventLog;
  log: Logger;
  world: World;
  options: Omit<TranslateOptions, 'now'>;
}

export class Publisher {
  private readonly published = new Map<string, PublishedReport & { apiVersion: string }>();
  private readonly versions = new Map<string, string>();
  private running: Promise<void> | undefined;
  private rerun = false;
  private translatedRevision = -1;
  private readonly translator: Translator;
  private readonly unwritten = new Set<string>();
  /** The lease term being led, with its writers; undefined on a standby. */
  private leading: { term: Term; writer: SnapshotWriter; reports: FencedStream } | undefined;
  /** The next cycle checks every Gateway's head, not only the changed ones (a new term's first). */
  private writeAll = false;
  /** The current term's first cycle is done: what the log says is in Redis and announced. */
  inStep = false;

  constructor(private readonly deps: PublisherDeps) {
    this.translator = new Translator(deps.options);
  }

  /**
   * Leads for one lease term: claims Redis and REPORTS for it (raising their fences), learns what
   * they hold now (the last leader may have written since this process last looked), publishes the
   * current state (the same content gives the same snapshot versions and report digests, so what
   * is already there is not written again), then translates on every change (run) until the term
   * ends. Returns once no write is in flight.
   */
  async lead(writer: SnapshotWriter, term: Term): Promise<void> {
    this.inStep = false;
    const reports = new FencedStream(this.deps.events, STREAMS.REPORTS, term);
    this.leading = { term, writer, reports };
    try {
      // Fences first: what a deposed leader's late requests did before this is in what is read
      // next, and what they would do after is refused.
      await untilAborted(Promise.all([writer.claim(), reports.claim()]), term.signal);
      await untilAborted(this.learnPublished(writer), term.signal);
      this.writeAll = true;
      await this.run();
      await aborted(term.signal);
    } catch (err) {
      if (!(err instanceof FencedOut)) throw err;
      this.fencedOut(err, term);
    } finally {
      this.leading = undefined;
      await this.idle();
      this.inStep = false;
    }
  }

  /** A store refused a write of ours as older than what it holds: stop writing, as if the lease were lost. */
  private fencedOut(err: FencedOut, term: Term): void {
    this.deps.log.error({ resource: err.resource, fence: term.fence, err: err.message }, 'write refused by its store (fenced out): ending this lease term');
    term.lost(`a write of ${err.resource} was refused by its store`);
  }

  /** The gateways Redis holds snapshots for (one whose Gateway is gone gets removed) and the reports REPORTS holds. */
  private async learnPublished(writer: SnapshotWriter): Promise<void> {
    this.versions.clear();
    for (const [gateway, version] of await writer.heads()) this.versions.set(gateway, version);
    this.published.clear();
    const reports = await followStream(this.deps.events, {
      stream: STREAMS.REPORTS, filter: subjects.allReports, schema: ReportEventSchema, log: this.deps.log,
      onEvent: (e) => this.notePublishedReport(e),
    });
    try {
      await reports.caughtUp;
    } finally {
      await reports.stop();
    }
  }

  private notePublishedReport(e: ReportEvent): void {
    const key = reportKey(e);
    if (e.op === 'delete' || !e.status) this.published.delete(key);
    else this.published.set(key, { digest: statusDigest({ status: e.status, generation: e.generation }), status: e.status, generation: e.generation, apiVersion: e.apiVersion });
  }

  run(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        const term = this.leading?.term;
        try {
          await this.cycle();
        } catch (err) {
          if (term?.signal.aborted) this.deps.log.info({ reason: String(term.signal.reason?.message ?? term.signal.reason) }, 'translation cycle abandoned: no longer leading');
          else if (term && err instanceof FencedOut) this.fencedOut(err, term);
          else this.deps.log.error({ err }, 'translation cycle failed; will retry on the next change');
        }
      } while (this.rerun);
      this.running = undefined;
    })();
    return this.running;
  }

  async idle(): Promise<void> {
    await this.running;
  }

  private async cycle(): Promise<void> {
    const { world, log, events } = this.deps;
    const leading = this.leading;
    if (!leading) return;
    if (world.changes === this.translatedRevision && !this.writeAll) return;
    const { writer, reports, term: { signal } } = leading;
    /** Every write goes through here: none starts, and none is waited on, once the term has ended. */
    const write = <T>(p: () => Promise<T>): Promise<T> => {
      signal.throwIfAborted();
      return untilAborted(p(), signal);
    };
    const revision = world.changes;
    const streams = { ...world.streams };
    const started = performance.now();
    const result = this.translator.translateIndex(world.index, new Date().toISOString());
    const translateMs = performance.now() - started;
    metrics.translationSeconds.observe(translateMs / 1000);

    // Only Gateways whose snapshot is new are encoded and written; the rest are as last published.
    // One that failed to be written stays pending until a cycle writes it.
    for (const gateway of result.changed) this.unwritten.add(gateway);
    if (this.writeAll) for (const gateway of result.snapshots.keys()) this.unwritten.add(gateway);
    this.writeAll = false;
    for (const gateway of [...this.unwritten]) {
      const snapshot = result.snapshots.get(gateway);
      if (!snapshot) {
        this.unwritten.delete(gateway);
        continue;
      }
      const { manifest, blobs } = buildManifest(encodeGatewaySnapshot(snapshot), streams);
      const moved = await write(() => writer.write(manifest, blobs));
      this.versions.set(gateway, manifest.version);
      this.unwritten.delete(gateway);
      metrics.snapshotBytes.set({ gateway }, [...blobs.values()].reduce((n, b) => n + b.length, 0));
      metrics.snapshotResources.set({ gateway }, blobs.size);
      if (!moved) continue;
      metrics.snapshotsPublished.inc();
      await write(() => publishEvent(events.js, SnapshotEventSchema, subjects.snapshot(gateway), {
        schema: SNAPSHOT_SCHEMA, gateway, op: 'upsert', version: manifest.version,
        manifestKey: keys.manifest(gateway, manifest.version), streams, emittedAt: new Date().toISOString(),
      }, `${gateway}@${manifest.version}`));
      log.info({ gateway, snapshot: manifest.version, resources: blobs.size, streams }, 'snapshot published');
      // Blobs only manifests gone (expired) referred to; a failure just leaves them for the next move.
      try {
        const gc = await write(() => writer.collectGarbage(gateway));
        if (gc.collected > 0) log.info({ gateway, collected: gc.collected, liveManifests: gc.liveManifests }, 'collected unreferenced snapshot blobs');
      } catch (err) {
        signal.throwIfAborted();
        if (err instanceof FencedOut) throw err;
        log.warn({ gateway, err: (err as Error).message }, 'snapshot blob collection failed; retried when the head next moves');
      }
    }
    for (const gateway of [...this.versions.keys()]) {
      if (result.snapshots.has(gateway) || result.retained.includes(gateway)) continue;
      await write(() => writer.remove(gateway));
      this.versions.delete(gateway);
      metrics.snapshotBytes.remove({ gateway });
      metrics.snapshotResources.remove({ gateway });
      await write(() => publishEvent(events.js, SnapshotEventSchema, subjects.snapshot(gateway), {
        schema: SNAPSHOT_SCHEMA, gateway, op: 'delete', version: '', manifestKey: '', streams, emittedAt: new Date().toISOString(),
      }, `${gateway}@deleted@${JSON.stringify(streams)}`));
      log.info({ gateway }, 'snapshot removed: the Gateway is gone');
    }

    const diff = diffReports(this.published, result.reports);
    const emittedAt = new Date().toISOString();
    for (const r of diff.upserts) {
      const snapshots = Object.fromEntries(r.gateways.flatMap((g) => (this.versions.has(g) ? [[g, this.versions.get(g)!]] : [])));
      const event: ReportEvent = {
        schema: REPORT_SCHEMA, cluster: r.cluster, kind: r.kind, namespace: r.namespace, name: r.name,
        apiVersion: r.apiVersion, generation: r.generation, op: 'upsert', status: r.status, snapshots, emittedAt,
      };
      await write(() => reports.publish(ReportEventSchema, subjects.report(r), event, `${subjects.report(r)}@${r.digest}`));
      this.published.set(reportKey(r), { digest: r.digest, status: r.status, generation: r.generation, apiVersion: r.apiVersion });
    }
    for (const d of diff.deletes) {
      await write(() => reports.publish(ReportEventSchema, subjects.report(d), {
        schema: REPORT_SCHEMA, ...d, generation: 0, op: 'delete', status: null, snapshots: {}, emittedAt,
      }, `${subjects.report(d)}@deleted@${emittedAt}`));
      this.published.delete(reportKey(d));
    }
    this.translatedRevision = revision;
    this.inStep = true;
    log.info({
      translateMs: Math.round(translateMs * 10) / 10, gateways: result.snapshots.size, changed: result.changed.size,
      reportsPublished: diff.upserts.length, reportsDeleted: diff.deletes.length, streams,
    }, 'translation cycle done');
  }
}
