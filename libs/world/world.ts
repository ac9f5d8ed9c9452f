// The translator's view of the world, rebuilt by replaying the event log: the latest object per
// (cluster, kind, namespace, name) and the endpoints per (cluster, namespace, service), kept in a
// StateIndex that the Translator reads incrementally. Applying an event is idempotent and ignores
// events older than what was already applied for that key.
import type { EndpointsEvent, ResourceEvent } from '../contracts/index.ts';
import type { KubeObject } from '../translator/api.ts';
import { StateIndex } from '../translator/index-state.ts';

export class World {
  readonly index = new StateIndex();
  /** The stream sequence applied last, per object or Service key. */
  private readonly applied = new Map<string, number>();
  /** Highest stream sequence applied, per stream: recorded in every snapshot for tracing. */
  readonly streams: Record<string, number> = {};
  private revision = 0;

  /** Bumped on every change, so a caller can tell whether a translation is stale. */
  get changes(): number {
    return this.revision;
  }

  applyResource(event: ResourceEvent, seq: number, stream = 'RESOURCES'): boolean {
    const key = ['res', event.cluster, event.kind, event.namespace, event.name].join('/');
    const fresh = this.note(key, stream, seq);
    if (!fresh) return false;
    if (event.op === 'delete' || !event.object) {
      this.index.remove(event.cluster, event.kind, event.namespace, event.name);
    } else {
      this.index.upsert({
        object: withNamespace(event.object as unknown as KubeObject, event.namespace),
        origin: {
          cluster: event.cluster,
          ...(event.source?.type === 'file' ? { file: { path: event.source.path, document: event.source.document } } : {}),
        },
      });
    }
    this.revision++;
    return true;
  }

  applyEndpoints(event: EndpointsEvent, seq: number, stream = 'ENDPOINTS'): boolean {
    const fresh = this.note(['ep', event.cluster, event.namespace, event.name].join('/'), stream, seq);
    if (!fresh) return false;
    if (event.op === 'delete') this.index.removeService(event.cluster, event.namespace, event.name);
    else {
      this.index.upsertService({
        cluster: event.cluster, namespace: event.namespace, name: event.name, serviceType: event.serviceType, ports: event.ports,
      });
    }
    this.revision++;
    return true;
  }

  /** Records `seq` for `key`; false when it is not newer than what was applied (a replay). */
  private note(key: string, stream: string, seq: number): boolean {
    this.streams[stream] = Math.max(this.streams[stream] ?? 0, seq);
    if ((this.applied.get(key) ?? 0) >= seq) return false;
    this.applied.set(key, seq);
    return true;
  }
}

/** The event's namespace is authoritative: a manifest may leave `metadata.namespace` out. */
function withNamespace(o: KubeObject, namespace: string): KubeObject {
  if (!namespace || o.metadata?.namespace === namespace) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}
