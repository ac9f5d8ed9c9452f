// endpoint-discovery in file mode: keeps the ENDPOINTS stream's subjects of one cluster equal to
// the Services and EndpointSlices of a manifests directory, diffing against the log like the
// watcher, and publishes the discovered Upstreams of those Services (file-upstreams.ts). A broken
// file contributes its last good content, so a typo never empties a Service.
import { EndpointsEventSchema, STREAMS, subjects, type EndpointsEvent } from '../../libs/contracts/index.ts';
import { endpointsDigest, endpointsTombstone, planEndpoints } from '../../libs/endpoints/index.ts';
import { loadManifestDir, withLastGoodFiles, type ManifestObject } from '../../libs/manifests/index.ts';
import { publishDifferences, runFileSource, type FileSourceOptions, type PublishCounts, type RunningFileSource } from '../../libs/manifests/file-source.ts';
import { readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import { startFileUpstreams } from './file-upstreams.ts';

export interface DiscoveryOptions extends FileSourceOptions {
  /** Whether Services without a discovery annotation (theirs or their Namespace's) get Upstreams; default true. */
  upstreamDiscovery?: boolean;
}
/** The endpoints published by a pass, and the discovered Upstreams. */
export type DiscoveryPass = PublishCounts & { upstreams: PublishCounts };
export type RunningDiscovery = RunningFileSource<DiscoveryPass>;

export async function startEndpointDiscovery(opts: DiscoveryOptions): Promise<RunningDiscovery> {
  const { eventLog, cluster, log } = opts;
  const state: Map<string, LogEntry<EndpointsEvent>> = await readLogState<EndpointsEvent>(eventLog, {
    stream: STREAMS.ENDPOINTS, filter: subjects.endpointsOfCluster(cluster), schema: EndpointsEventSchema, logger: log,
    digest: endpointsDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the endpoints the log holds');
  const lastGood = new Map<string, ManifestObject[]>();
  let running: RunningDiscovery | undefined;
  let rerun: NodeJS.Timeout | undefined;
  let rerunBeforeStart = false;
  // The watcher changed an Upstream subject (a hand-written one came or went): pass again, debounced.
  const passAgain = () => {
    if (!running) { rerunBeforeStart = true; return; }
    rerun ??= setTimeout(() => {
      rerun = undefined;
      running?.pass().catch((err) => log.error({ err }, 'endpoints pass failed'));
    }, opts.debounceMs);
  };
  const upstreams = await startFileUpstreams({ eventLog, cluster, log, defaultOn: opts.upstreamDiscovery ?? true, onOtherWriter: passAgain });

  const runPass = async (reason: string): Promise<DiscoveryPass> => {
    const now = new Date().toISOString();
    const set = await loadManifestDir(opts.manifests);
    const merged = withLastGoodFiles(set, lastGood);
    for (const p of set.problems) {
      if (p.identity && p.identity.kind !== 'Service' && p.identity.kind !== 'EndpointSlice') continue;
      log.warn({ file: p.path, document: p.document, problem: p.message }, 'manifest document not usable');
    }
    for (const path of merged.held) log.warn({ file: path }, 'file has a problem: using its last good content');
    const desired = planEndpoints(cluster, merged.objects, now);
    const publish: DesiredEvent<EndpointsEvent>[] = [...desired.values()];
    const keepGone = merged.unknown.length > 0;
    for (const [subject, have] of state) {
      if (have.deleted || desired.has(subject)) continue;
      if (keepGone) {
        log.warn({ subject, brokenFiles: merged.unknown }, 'not deleting: a file that never read cleanly may hold this Service');
        continue;
      }
      publish.push(endpointsTombstone(subject, have.event, now));
    }
    const counts = await publishDifferences(eventLog, EndpointsEventSchema, state, publish, (e) => ({
      namespace: e.namespace, serviceName: e.name, op: e.op, ports: e.ports.length,
      endpoints: e.ports.reduce((n, p) => n + p.endpoints.length, 0),
    }), log, 'published endpoints');
    const result = { ...counts, upstreams: await upstreams.publish(merged.objects, keepGone, now) };
    log.debug({ reason, ...result, services: desired.size }, 'endpoints pass done');
    return result;
  };
  const source = await runFileSource(opts, 'endpoints', runPass);
  running = source;
  if (rerunBeforeStart) passAgain();
  return {
    ...source,
    idle: async () => {
      while (rerun) await new Promise((r) => setTimeout(r, opts.debounceMs));
      await source.idle();
    },
    stop: async () => {
      running = undefined;
      clearTimeout(rerun);
      rerun = undefined;
      await source.stop();
      await upstreams.stop();
    },
  };
}
