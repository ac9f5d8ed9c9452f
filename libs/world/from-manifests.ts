// The translator's input built straight from manifest objects, for offline translation
// (`gantry translate`): the same kinds and defaults the watcher and endpoint-discovery apply.
import { planEndpoints } from '../endpoints/index.ts';
import type { ManifestObject } from '../manifests/index.ts';
import { isWatchedKind, namespaceOf } from '../manifests/resources.ts';
import type { KubeObject, TranslatorInput } from '../translator/api.ts';

export function isGatewayApiObject(o: KubeObject): boolean {
  return o.apiVersion.startsWith('gateway.networking.k8s.io/') || o.apiVersion.startsWith('gateway.networking.x-k8s.io/');
}

/** The object with its namespace defaulted the way the watcher defaults it. */
export function withDefaultNamespace(o: KubeObject): KubeObject {
  const namespace = namespaceOf(o.kind, o.metadata.namespace);
  if ((o.metadata.namespace ?? '') === namespace) return o;
  return { ...o, metadata: { ...o.metadata, ...(namespace ? { namespace } : {}) } };
}

export function buildTranslatorInput(objects: ManifestObject[], cluster: string): TranslatorInput {
  const all = objects.map((m) => ({ ...m, object: withDefaultNamespace(m.object) }));
  return {
    objects: all
      .filter((m) => isWatchedKind(m.object.kind, m.object.apiVersion))
      .map((m) => ({ object: m.object, origin: { cluster, file: m.origin } })),
    services: [...planEndpoints(cluster, all, new Date(0).toISOString()).values()].map(({ event }) => ({
      cluster, namespace: event.namespace, name: event.name, serviceType: event.serviceType, ports: event.ports,
    })),
  };
}
