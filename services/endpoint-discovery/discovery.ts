// endpoint-discovery in file mode: keeps the ENDPOINTS stream's subjects of one cluster equal to
// the Services and EndpointSlices of a manifests directory, diffing against the log like the
// watcher. A broken file contributes its last good content, so a typo never empties a Service.
import { EndpointsEventSchema, STREAMS, subjects, type EndpointsEvent } from '../../libs/contracts/index.ts';
import { endpointsDigest, endpointsTombstone, planEndpoints } from '../../libs/endpoints/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { loadManifestDir, withLastGoodFiles, type ManifestObject } from '../../libs/manifests/index.ts';
import { publishDifferences, runFileSource, type FileSourceOptions, type PublishCounts, type RunningFileSource } from '../../libs/manifests/file-source.ts';
import { readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import type { Logger } from '../../libs/service/index.ts';

export type DiscoveryOptions = FileSourceOptions;
export type DiscoveryPass = PublishCounts;
export type RunningDiscovery = RunningFileSource<DiscoveryPass>;

export async function startEndpointDiscovery(opts: DiscoveryOptions): Promise<RunningDiscovery> {
  const { eventLog, cluster, log } = opts;
  const state: Map<string, LogEntry<EndpointsEvent>> = await readLogState<EndpointsEvent>(eventLog, {
    stream: STREAMS.ENDPOINTS, filter: subjects.endpointsOfCluster(cluster), schema: EndpointsEventSchema, logger: log,
    digest: endpointsDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the endpoints the log holds');
  const lastGood = new Map<string, ManifestObject[]>();

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
    for (const [subject, have] of state) {
      if (have.deleted || desired.has(subject)) continue;
      if (merged.unknown.length > 0) {
        log.warn({ subject, brokenFiles: merged.unknown }, 'not deleting: a file that never read cleanly may hold this Service');
        continue;
      }
      publish.push(endpointsTombstone(subject, have.event, now));
    }
    const result = await publishDifferences(eventLog, EndpointsEventSchema, state, publish, (e) => ({
      namespace: e.namespace, serviceName: e.name, op: e.op, ports: e.ports.length,
      endpoints: e.ports.reduce((n, p) => n + p.endpoints.length, 0),
    }), log, 'published endpoints');
    log.debug({ reason, ...result, services: desired.size }, 'endpoints pass done');
    return result;
  };
  return runFileSource(opts, 'endpoints', runPass);
}
