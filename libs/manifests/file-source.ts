// What the two file-mode edge services (watcher, endpoint-discovery) share: their configuration,
// passes serialised with the directory watch, and publishing a pass's differences to the log.
import { z } from 'zod';
import { connectEventLog, ensureStreams, isWrongLastSequence, type EventLog } from '../eventlog/index.ts';
import { streamUses } from '../eventlog/permissions.ts';
import { LeaseConfig } from '../lease/index.ts';
import { runWhileLeading } from '../lease/writer.ts';
import { CommonConfig, createLogger, loadConfig, onShutdown, type Logger, type ServiceName } from '../service/index.ts';
import { serveHealth } from '../service/health.ts';
import { publishIfChanged, type DesiredEvent, type LogEntry, type PublishOptions } from './sync.ts';
import { watchManifestDir, type DirWatch } from './watch.ts';

export const FileSourceConfig = CommonConfig.extend({
  GANTRY_MANIFESTS: z.string().min(1),
  GANTRY_DEBOUNCE_MS: z.coerce.number().int().nonnegative().default(100),
  /** Periodic re-read in case a file-system event was missed; 0 disables it. */
  GANTRY_RESYNC_MS: z.coerce.number().int().nonnegative().default(30_000),
  ...LeaseConfig.shape,
});

export interface FileSourceOptions {
  eventLog: EventLog;
  cluster: string;
  manifests: string;
  debounceMs: number;
  resyncMs?: number;
  log: Logger;
  /** Off for tests that drive passes themselves. */
  watch?: boolean;
}

export interface RunningFileSource<R> {
  /** Runs one pass now (serialised with watch-triggered passes). */
  pass(): Promise<R>;
  /** Resolves once no watch-triggered pass is running or pending. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `runPass` at start and on every (debounced) change of the directory, one pass at a time. */
export async function runFileSource<R>(
  opts: FileSourceOptions, what: string, runPass: (reason: string) => Promise<R>,
): Promise<RunningFileSource<R>> {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = (reason: string) => {
    const p = chain.then(() => runPass(reason));
    chain = p.catch(() => undefined);
    return p;
  };
  let watch: DirWatch | undefined;
  if (opts.watch !== false) {
    watch = watchManifestDir(opts.manifests, {
      debounceMs: opts.debounceMs, resyncMs: opts.resyncMs, log: opts.log, pass: async (reason) => { await serial(reason); },
    });
  }
  await serial('start').catch((err) => opts.log.error({ err }, `initial ${what} pass failed`));
  return {
    pass: () => serial('requested'),
    idle: async () => { await watch?.idle(); await chain; },
    stop: async () => { await watch?.stop(); await chain; },
  };
}

export interface PublishCounts {
  published: number;
  upserts: number;
  tombstones: number;
}

/**
 * Publishes every wanted event whose content differs from the log's latest. A failed publish is
 * logged and left out of `state`, so the next pass retries it; so is a conditional publish
 * (`opts.ifLatestIsKnown`) refused because another writer got there first.
 */
export async function publishDifferences<T>(
  eventLog: EventLog, schema: z.ZodType<T>, state: Map<string, LogEntry<T>>, wants: DesiredEvent<T>[],
  describe: (event: T) => Record<string, unknown>, log: Logger, message: string, opts: PublishOptions = {},
): Promise<PublishCounts> {
  const counts: PublishCounts = { published: 0, upserts: 0, tombstones: 0 };
  for (const want of wants) {
    try {
      const r = await publishIfChanged(eventLog, schema, state, want, opts);
      if (!r.published) continue;
      counts.published++;
      if (want.deleted) counts.tombstones++; else counts.upserts++;
      log.info({ ...describe(want.event), seq: r.seq }, message);
    } catch (err) {
      if (isWrongLastSequence(err)) log.info({ ...describe(want.event) }, 'not published: another writer changed the subject meanwhile');
      else log.error({ err, ...describe(want.event) }, 'publish failed');
    }
  }
  return counts;
}

/** A file-source service's whole `main`: configuration, logger, event log, and the source run only while it holds its lease. */
export async function serveFileSource<R>(
  service: ServiceName, start: (opts: FileSourceOptions) => Promise<RunningFileSource<R>>, message: string,
): Promise<void> {
  const config = loadConfig(service, FileSourceConfig);
  const log = createLogger(service, config.GANTRY_LOG_LEVEL);
  const eventLog = await connectEventLog(config.GANTRY_NATS_URL, `gantry-${service}`, log);
  await ensureStreams(eventLog.jsm, streamUses(service), log);
  const health = await serveHealth(service, config, log, { nats: eventLog.nc });
  const lease = runWhileLeading({
    eventLog, service, cluster: config.GANTRY_CLUSTER, ttlMs: config.GANTRY_LEASE_TTL_MS, log, health, check: 'first pass',
    start: async () => {
      const source = await start({
        eventLog, cluster: config.GANTRY_CLUSTER, manifests: config.GANTRY_MANIFESTS,
        debounceMs: config.GANTRY_DEBOUNCE_MS, resyncMs: config.GANTRY_RESYNC_MS, log,
      });
      log.info({ manifests: config.GANTRY_MANIFESTS, cluster: config.GANTRY_CLUSTER }, message);
      return source;
    },
    inStep: async () => undefined, // start() has run the first pass
  });
  onShutdown(log, async () => {
    await lease.stop();
    await eventLog.close();
  });
}
