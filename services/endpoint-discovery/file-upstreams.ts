// endpoint-discovery in file mode, its Upstreams: one per TCP port of every discovered Service,
// published on RESOURCES as resource events whose source is `discovered`. Those subjects are shared
// with the watcher (a hand-written Upstream of the same name has the same subject), so the log says
// who holds one: discovery publishes only over nothing, a tombstone or its own event, conditionally
// on the latest it knows (JetStream's expected last subject sequence), and withdraws only its own;
// the watcher never withdraws a discovered event and its upsert overwrites one, so the file wins.
// A follower keeps what discovery knows of those subjects current, and a change by the watcher
// (a hand-written Upstream removed frees its name) asks for another pass.
import { ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import { diffDiscoveredUpstreams, planDiscoveredUpstreams } from '../../libs/endpoints/upstreams.ts';
import type { EventLog } from '../../libs/eventlog/index.ts';
import type { ManifestObject } from '../../libs/manifests/index.ts';
import { publishDifferences, type PublishCounts } from '../../libs/manifests/file-source.ts';
import { resourceDigest } from '../../libs/manifests/resources.ts';
import { followLogState } from '../../libs/manifests/sync.ts';
import type { Logger } from '../../libs/service/index.ts';

export interface FileUpstreams {
  /** Publishes the Upstreams the Services among `objects` want, as far as the log lets them. */
  publish(objects: ManifestObject[], keepGone: boolean, emittedAt: string): Promise<PublishCounts>;
  stop(): Promise<void>;
}

export async function startFileUpstreams(opts: {
  eventLog: EventLog; cluster: string; log: Logger; defaultOn: boolean;
  /** Another writer (the watcher) changed an Upstream subject: its name may be free now, or taken. */
  onOtherWriter(): void;
}): Promise<FileUpstreams> {
  const { eventLog, cluster, log } = opts;
  const followed = await followLogState<ResourceEvent>(eventLog, {
    stream: STREAMS.RESOURCES, filter: subjects.resourcesOfKind(cluster, 'Upstream'), schema: ResourceEventSchema, logger: log,
    digest: resourceDigest, onChange: (_subject, entry) => { if (entry.event.source?.type !== 'discovered') opts.onOtherWriter(); },
  });
  log.info({ subjects: followed.state.size, cluster }, 'read the Upstreams the log holds');
  /** Per subject, the hand-written holder last warned about (its sequence), so each is said once. */
  const warned = new Map<string, number>();
  let problemsSaid = new Set<string>();

  return {
    publish: async (objects, keepGone, emittedAt) => {
      const plan = planDiscoveredUpstreams(cluster, objects, opts.defaultOn, emittedAt);
      for (const problem of plan.problems) if (!problemsSaid.has(problem)) log.warn({ problem }, 'discovery switch not understood');
      problemsSaid = new Set(plan.problems);
      const diff = diffDiscoveredUpstreams(plan.desired, followed.state, keepGone, emittedAt);
      for (const { want, holder } of diff.yielded) {
        if (warned.get(want.subject) === holder.seq) continue;
        warned.set(want.subject, holder.seq);
        const source = want.event.source?.type === 'discovered' ? want.event.source.service : undefined;
        log.warn({
          upstream: `${want.event.namespace}/${want.event.name}`, service: source && `${source.namespace}/${source.name}`,
          ...(holder.event.source?.type === 'file' ? { file: holder.event.source.path, document: holder.event.source.document } : {}),
        }, 'an Upstream not written by discovery has this name: it is left as it is, and none is discovered under it');
      }
      return publishDifferences(eventLog, ResourceEventSchema, followed.state, diff.publish, (e) => ({
        upstream: `${e.namespace}/${e.name}`, op: e.op,
        ...(e.source?.type === 'discovered' ? { service: `${e.source.service.namespace}/${e.source.service.name}` } : {}),
      }), log, 'published discovered Upstream', { ifLatestIsKnown: true });
    },
    stop: () => followed.stop(),
  };
}
