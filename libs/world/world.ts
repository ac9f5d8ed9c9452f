// The translator's view of the world, rebuilt by replaying the event log: the latest object per
// (cluster, kind, namespace, name) and the endpoints per (cluster, namespace, service). Applying
// an event is idempotent and ignores events older than what was already applied for that key.
import type { EndpointsEvent, ResourceEvent } from '../contracts/index.ts';
import type { KubeObject, ServiceEndpoints, StoredObject, TranslatorInput } from '../translator/api.ts';

interface Versioned<T> {
  seq: number;
  value: T;
}

export class World {
  private readonly objects = new Map<string, Versioned<StoredObject>>();
  private readonly services = new Map<string, Versioned<ServiceEndpoints>>();
  /** Highest stream sequence applied, per stream: recorded in every snapshot for tracing. */
  readonly streams: Record<string, number> = {};
  private revision = 0;

  /** Bumped on every change, so a caller can tell whether a translation is stale. */
  get changes(): number {
    return this.revision;
  }

  applyResource(event: ResourceEvent, seq: number, stream = 'RESOURCES'): boolean {
    const key = [event.cluster, event.kind, event.namespace, event.name].join('/');
    const changed = applyVersioned(this.objects, key, seq, event.op === 'delete' || !event.object ? null : {
      object: withNamespace(event.object as unknown as KubeObject, event.namespace),
      origin: {
        cluster: event.cluster,
        ...(event.source?.type === 'file' ? { file: { path: event.source.path, document: event.source.document } } : {}),
      },
    });
    this.note(stream, seq, changed);
    return changed;
  }

  applyEndpoints(event: EndpointsEvent, seq: number, stream = 'ENDPOINTS'): boolean {
    const key = [event.cluster, event.namespace, event.name].join('/');
    const changed = applyVersioned(this.services, key, seq, event.op === 'delete' ? null : {
      cluster: event.cluster,
      namespace: event.namespace,
      name: event.name,
      serviceType: event.serviceType,
      ports: event.ports,
    });
    this.note(stream, seq, changed);
    return changed;
  }

  input(): TranslatorInput {
    return {
      objects: [...this.objects.values()].map((v) => v.value),
      services: [...this.services.values()].map((v) => v.value),
    };
  }

  private note(stream: string, seq: number, changed: boolean): void {
    this.streams[stream] = Math.max(this.streams[stream] ?? 0, seq);
    if (changed) this.revision++;
  }
}

/** The event's namespace is authoritative: a manifest may leave `metadata.namespace` out. */
function withNamespace(o: KubeObject, namespace: string): KubeObject {
  if (!namespace || o.metadata?.namespace === namespace) return o;
  return { ...o, metadata: { ...o.metadata, namespace } };
}

function applyVersioned<T>(map: Map<string, Versioned<T>>, key: string, seq: number, value: T | null): boolean {
  const current = map.get(key);
  if (current && current.seq >= seq) return false; // replayed or out of order: already applied
  if (value === null) return map.delete(key);
  map.set(key, { seq, value });
  return true;
}
