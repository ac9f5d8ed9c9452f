// The watcher in file mode: keeps the RESOURCES stream's subjects of one cluster equal to a
// directory of manifests. Start-up learns what the log holds (compacted replay), then every pass
// (start, each debounced change) publishes only the differences: new or changed objects, and
// tombstones for objects gone from the files. A file that does not parse keeps what it published.
import { ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { loadManifestDir } from '../../libs/manifests/index.ts';
import { diffResources, planResources, resourceDigest } from '../../libs/manifests/resources.ts';
import { publishIfChanged, readLogState, type LogEntry } from '../../libs/manifests/sync.ts';
import { watchManifestDir, type DirWatch } from '../../libs/manifests/watch.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface WatcherOptions {
  eventLog: EventLog;
  cluster: string;
  manifests: string;
  debounceMs: number;
  /** Periodic re-read in case a file-system event was missed; 0 disables it. */
  resyncMs?: number;
  log: Logger;
  /** Off for tests that drive passes themselves. */
  watch?: boolean;
}

export interface PassResult {
  published: number;
  upserts: number;
  tombstones: number;
  kept: number;
}

export interface RunningWatcher {
  /** Runs one pass now (serialised with watch-triggered passes when watching). */
  pass(): Promise<PassResult>;
  /** Resolves once no watch-triggered pass is running or pending. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWatcher(opts: WatcherOptions): Promise<RunningWatcher> {
  const { eventLog, cluster, log } = opts;
  const state: Map<string, LogEntry<ResourceEvent>> = await readLogState<ResourceEvent>(eventLog, {
    stream: STREAMS.RESOURCES, filter: subjects.resourcesOfCluster(cluster), schema: ResourceEventSchema, logger: log,
    digest: resourceDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the resources the log holds');

  let chain: Promise<unknown> = Promise.resolve();
  const runPass = async (reason: string): Promise<PassResult> => {
    const now = new Date().toISOString();
    const set = await loadManifestDir(opts.manifests);
    const plan = planResources(cluster, set, now);
    for (const s of plan.skipped) log.debug({ kind: s.kind, objectName: s.name, file: s.origin.path, document: s.origin.document }, 'not a watcher kind; skipped');
    for (const p of plan.unidentified) {
      log.warn({ file: p.path, document: p.document, problem: p.message }, 'manifest document not usable; objects previously published from this file are kept');
    }
    for (const p of plan.reported) {
      log.warn({ file: p.path, document: p.document, problem: p.message, kind: p.identity?.kind, objectName: p.identity?.name }, 'invalid manifest document published as written, for its status');
    }
    for (const d of plan.duplicates) {
      log.warn({ subject: d.subject, file: d.origin.path, document: d.origin.document, keptFile: d.kept.path, keptDocument: d.kept.document }, 'duplicate object ignored');
    }
    const diff = diffResources(plan, state, now);
    for (const k of diff.kept) log.warn({ subject: k.subject, file: k.path }, 'kept: its file has a problem');
    const result: PassResult = { published: 0, upserts: 0, tombstones: 0, kept: diff.kept.length };
    for (const want of diff.publish) {
      const e = want.event;
      try {
        const r = await publishIfChanged(eventLog, ResourceEventSchema, state, want);
        if (!r.published) continue;
        result.published++;
        if (want.deleted) result.tombstones++; else result.upserts++;
        log.info({ kind: e.kind, namespace: e.namespace, objectName: e.name, op: e.op, seq: r.seq, ...(e.source?.type === 'file' ? { file: e.source.path, document: e.source.document } : {}) }, 'published resource');
      } catch (err) {
        // Not applied to `state`, so the next pass retries it.
        log.error({ err, kind: e.kind, namespace: e.namespace, objectName: e.name, op: e.op }, 'publish failed');
      }
    }
    log.debug({ reason, ...result, objects: plan.desired.size, files: set.files.length }, 'manifest pass done');
    return result;
  };
  const serial = (reason: string) => {
    const p = chain.then(() => runPass(reason));
    chain = p.catch(() => undefined);
    return p;
  };

  let watch: DirWatch | undefined;
  if (opts.watch !== false) {
    watch = watchManifestDir(opts.manifests, { debounceMs: opts.debounceMs, resyncMs: opts.resyncMs, log, pass: async (reason) => { await serial(reason); } });
  }
  await serial('start').catch((err) => log.error({ err }, 'initial manifest pass failed'));
  return {
    pass: () => serial('requested'),
    idle: async () => { await watch?.idle(); await chain; },
    stop: async () => { await watch?.stop(); await chain; },
  };
}
