// The translator's input built straight from manifest objects, for offline translation
// (`gantry translate`): the same kinds and defaults the watcher and endpoint-discovery apply.
import { planEndpoints } from '../endpoints/index.ts';
import { planDiscoveredUpstreams } from '../endpoints/upstreams.ts';
import type { ManifestObject } from '../manifests/index.ts';
import { GANTRY_GROUP, isWatchedKind, namespaceOf } from '../manifests/resources.ts';
import type { KubeObject, TranslatorInput } from '../translator/api.ts';

/** Gateway API objects and Gantry's own (Upstreams): what translation gives a status, unlike Secrets or Namespaces. */
export function isRoutingObject(o: KubeObject): boolean {
  return ['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io', GANTRY_GROUP].includes(o.apiVersion.split('/')[0]);
}

/** The object with its namespace defaulted the way the watcher defaults it. */
export function withDefaultNamespace(o: KubeObject): KubeObject {
  const namespace = namespaceOf(o.kind, o.metadata.namespace);
  if ((o.metadata.namespace ?? '') === namespace) return o;
  return { ...o, metadata: { ...o.metadata, ...(namespace ? { namespace } : {}) } };
}

/**
 * What the pipeline would translate for these manifests: the watched objects, the Services'
 * endpoints, and the Upstreams endpoint-discovery would add for the Services (discovery on, as it
 * is by default), except where a manifest holds an Upstream of that name (the file wins there too).
 */
export function buildTranslatorInput(objects: ManifestObject[], cluster: string): TranslatorInput {
  const all = objects.map((m) => ({ ...m, object: withDefaultNamespace(m.object) }));
  const watched = all.filter((m) => isWatchedKind(m.object.kind, m.object.apiVersion));
  const written = new Set(watched.map((m) => `${m.object.kind}/${m.object.metadata.namespace ?? ''}/${m.object.metadata.name}`));
  const discovered = [...planDiscoveredUpstreams(cluster, all, true, new Date(0).toISOString()).desired.values()]
    .map(({ event }) => event.object as KubeObject | null)
    .filter((o): o is KubeObject => !!o && !written.has(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
  return {
    objects: [
      ...watched.map((m) => ({ object: m.object, origin: { cluster, file: m.origin } })),
      ...discovered.map((object) => ({ object, origin: { cluster } })),
    ],
    services: [...planEndpoints(cluster, all, new Date(0).toISOString()).values()].map(({ event }) => ({
      cluster, namespace: event.namespace, name: event.name, serviceType: event.serviceType, ports: event.ports,
    })),
  };
}
