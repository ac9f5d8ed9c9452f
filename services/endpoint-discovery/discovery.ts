// endpoint-discovery in file mode: keeps the ENDPOINTS stream's subjects of one cluster equal to
// the Services and EndpointSlices of a manifests directory, diffing against the log like the
// watcher. A broken file contributes its last good content, so a typo never empties a Service.
import { EndpointsEventSchema, STREAMS, subjects, type EndpointsEvent } from '../../libs/contracts/index.ts';
import { endpointsDigest, endpointsTombstone, planEndpoints } from '../../libs/endpoints/index.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import { loadManifestDir, withLastGoodFiles, type ManifestObject } from '../../libs/manifests/index.ts';
import { publishIfChanged, readLogState, type DesiredEvent, type LogEntry } from '../../libs/manifests/sync.ts';
import { watchManifestDir, type DirWatch } from '../../libs/manifests/watch.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface DiscoveryOptions {
  eventLog: EventLog;
  cluster: string;
  manifests: string;
  debounceMs: number;
  resyncMs?: number;
  log: Logger;
  watch?: boolean;
}

export interface DiscoveryPass {
  published: number;
  upserts: number;
  tombstones: number;
}

export interface RunningDiscovery {
  pass(): Promise<DiscoveryPass>;
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEndpointDiscovery(opts: DiscoveryOptions): Promise<RunningDiscovery> {
  const { eventLog, cluster, log } = opts;
  const state: Map<string, LogEntry<EndpointsEvent>> = await readLogState<EndpointsEvent>(eventLog, {
    stream: STREAMS.ENDPOINTS, filter: subjects.endpointsOfCluster(cluster), schema: EndpointsEventSchema, logger: log,
    digest: endpointsDigest,
  });
  log.info({ subjects: state.size, cluster }, 'read the endpoints the log holds');
  const lastGood = new Map<string, ManifestObject[]>();

  let chain: Promise<unknown> = Promise.resolve();
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
    const result: DiscoveryPass = { published: 0, upserts: 0, tombstones: 0 };
    for (const want of publish) {
      const e = want.event;
      try {
        const r = await publishIfChanged(eventLog, EndpointsEventSchema, state, want);
        if (!r.published) continue;
        result.published++;
        if (want.deleted) result.tombstones++; else result.upserts++;
        const endpoints = e.ports.reduce((n, p) => n + p.endpoints.length, 0);
        log.info({ namespace: e.namespace, serviceName: e.name, op: e.op, seq: r.seq, ports: e.ports.length, endpoints }, 'published endpoints');
      } catch (err) {
        log.error({ err, namespace: e.namespace, serviceName: e.name, op: e.op }, 'publish failed');
      }
    }
    log.debug({ reason, ...result, services: desired.size }, 'endpoints pass done');
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
  await serial('start').catch((err) => log.error({ err }, 'initial endpoints pass failed'));
  return {
    pass: () => serial('requested'),
    idle: async () => { await watch?.idle(); await chain; },
    stop: async () => { await watch?.stop(); await chain; },
  };
}
