// The watcher in file mode: keeps the RESOURCES stream's subjects of one cluster equal to a
// directory of manifests. Start-up learns what the log holds (compacted replay), then every pass
// (start, each debounced change) publishes only the differences: new or changed objects, and
// tombstones for objects gone from the files. A file that does not parse keeps what it published.
import { ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { loadManifestDir } from '../../libs/manifests/index.ts';
import { diffResources, planResources, resourceDigest } from '../../libs/manifests/resources.ts';
import { publishDifferences, runFileSource, type FileSourceOptions, type PublishCounts, type RunningFileSource } from '../../libs/manifests/file-source.ts';
import { readLogState, type LogEntry } from '../../libs/manifests/sync.ts';
import type { Logger } from '../../libs/service/index.ts';

export type WatcherOptions = FileSourceOptions;

export interface PassResult extends PublishCounts {
  kept: number;
}

export type RunningWatcher = RunningFileSource<PassResult>;

export async function startWatcher(opts: WatcherOptions): Promise<RunningWatcher> {
  const { eventLog, cluster, log } = opts;
  const state: Map<string, LogEntry<ResourceEvent>> = await readLogState<ResourceEvent>(eventLog, {
    stream: STREAMS.RESOURCES, filter: subjects.resourcesOfCluster(cluster), schema: ResourceEventSchema, logger: log,
    digest: resourceDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the resources the log holds');

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
    const counts = await publishDifferences(eventLog, ResourceEventSchema, state, diff.publish, (e) => ({
      kind: e.kind, namespace: e.namespace, objectName: e.name, op: e.op,
      ...(e.source?.type === 'file' ? { file: e.source.path, document: e.source.document } : {}),
    }), log, 'published resource');
    const result: PassResult = { ...counts, kept: diff.kept.length };
    log.debug({ reason, ...result, objects: plan.desired.size, files: set.files.length }, 'manifest pass done');
    return result;
  };
  return runFileSource(opts, 'manifest', runPass);
}
