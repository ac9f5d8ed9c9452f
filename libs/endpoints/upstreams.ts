// Discovered Upstreams (pure). Like Gloo Gateway's discovery, endpoint-discovery writes one Upstream
// (gateway.gantry.dev/v1alpha1, spec.type Kube) per TCP port of every Service, so users see with
// kubectl what the control plane knows, and can turn it off globally, per Namespace or per Service.
// Kubernetes mode writes them to the API server (planUpstreamWrites); file mode publishes them as
// resource events marked `discovered` (planDiscoveredUpstreams, diffDiscoveredUpstreams). Either
// way only objects labelled as discovered are ever changed: a hand-written Upstream is left alone.
import type { ResourceEvent } from '../contracts/index.ts';
import { canonicalJson, type ManifestObject } from '../manifests/index.ts';
import { GANTRY_GROUP, resourceTombstone, resourceUpsert } from '../manifests/resources.ts';
import { sha256, type DesiredEvent, type LogEntry } from '../manifests/sync.ts';
import type { KubeObject } from '../translator/api.ts';
import { isService, serviceEndpoints } from './index.ts';

export const UPSTREAM_API_VERSION = `${GANTRY_GROUP}/v1alpha1`;
/** On every discovered Upstream: what discovery may change or delete (and the informer's selector). */
export const DISCOVERED_LABEL = 'gateway.gantry.dev/discovered';
/** The Service a discovered Upstream was made for. */
export const SERVICE_LABEL = 'gateway.gantry.dev/service';
/** On a Namespace or a Service: `enabled` or `disabled` (the Service's wins over its Namespace's). */
export const DISCOVERY_ANNOTATION = 'discovery.gantry.dev/upstreams';

type Obj = Record<string, any>;
export type UpstreamProtocol = 'HTTP' | 'H2C' | 'GRPC' | 'TCP';

const MAX_NAME = 253;
const KNOWN: Record<string, UpstreamProtocol> = {
  grpc: 'GRPC', h2c: 'H2C', 'kubernetes.io/h2c': 'H2C', http2: 'H2C', http: 'HTTP', 'kubernetes.io/ws': 'HTTP',
};
/** Port names (Istio's convention: `<protocol>[-<suffix>]`) that say the traffic is not plain HTTP. */
const TCP_NAMES = new Set(['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis']);

/** `<service>-<port>`; past 253 characters (file mode only: Service names are at most 63) cut, with a hash. */
export function upstreamName(service: string, port: number): string {
  const name = `${service}-${port}`;
  if (name.length <= MAX_NAME) return name;
  const hash = sha256(name).slice(0, 10);
  return `${name.slice(0, MAX_NAME - hash.length - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/**
 * What Envoy speaks to a port. `appProtocol` states it: grpc → GRPC; h2c, kubernetes.io/h2c, http2
 * → H2C; http, kubernetes.io/ws → HTTP; anything else (https, tls, a database…) → TCP, bytes passed
 * through (TLS origination needs a CA and SNI discovery cannot know: write that Upstream by hand).
 * Without it the port name's first word decides the same way, with tcp, tls, https, mongo, mysql and
 * redis → TCP; a name that says nothing (none, `web`, `api`) → HTTP, which is what Gateway API
 * assumes of a Service behind an HTTPRoute.
 */
export function upstreamProtocol(port: { name?: string; appProtocol?: string }): UpstreamProtocol {
  const app = port.appProtocol?.toLowerCase();
  if (app) return KNOWN[app] ?? 'TCP';
  const word = (port.name ?? '').toLowerCase().split('-')[0]!;
  return KNOWN[word] ?? (TCP_NAMES.has(word) ? 'TCP' : 'HTTP');
}

/** Whether `service` is discovered: its annotation, else its Namespace's, else `defaultOn`. */
export function discoverySwitch(defaultOn: boolean, service: KubeObject, namespace?: KubeObject): { on: boolean; problems: string[] } {
  const problems: string[] = [];
  const read = (o: KubeObject | undefined, what: string): boolean | undefined => {
    const v = o?.metadata.annotations?.[DISCOVERY_ANNOTATION];
    if (v === undefined || v === 'enabled' || v === 'disabled') return v === undefined ? undefined : v === 'enabled';
    problems.push(`${what}: annotation ${DISCOVERY_ANNOTATION} is "${v}", not "enabled" or "disabled"; ignored`);
    return undefined;
  };
  const ns = service.metadata.namespace || 'default';
  const on = read(service, `Service ${ns}/${service.metadata.name}`) ?? read(namespace, `Namespace ${ns}`) ?? defaultOn;
  return { on, problems };
}

/**
 * The Upstreams discovery wants for `service` (none when it is switched off), with the problems to
 * log. Owned by the Service (ownerReferences, not as controller and not blocking its deletion), so
 * Kubernetes' garbage collector removes them with it; file-mode Services have no uid and no owner.
 */
export function discoveredUpstreams(defaultOn: boolean, service: KubeObject, namespace?: KubeObject): { upstreams: KubeObject[]; problems: string[] } {
  const sw = discoverySwitch(defaultOn, service, namespace);
  if (!sw.on) return { upstreams: [], problems: sw.problems };
  const ns = service.metadata.namespace || 'default';
  const svc = service.metadata.name;
  const owner = service.metadata.uid
    ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc, uid: service.metadata.uid, controller: false, blockOwnerDeletion: false }] }
    : {};
  // Upstream protocols are all over TCP: UDP and SCTP ports have no Upstream.
  const upstreams = serviceEndpoints(service, []).filter((p) => p.protocol === 'TCP').map((p): KubeObject => ({
    apiVersion: UPSTREAM_API_VERSION, kind: 'Upstream',
    metadata: { name: upstreamName(svc, p.port), namespace: ns, labels: { [DISCOVERED_LABEL]: 'true', [SERVICE_LABEL]: svc }, ...owner },
    spec: { type: 'Kube', kube: { serviceName: svc, serviceNamespace: ns, servicePort: p.port }, protocol: upstreamProtocol(p) },
  }));
  return { upstreams, problems: sw.problems };
}

export const isDiscovered = (o: Obj): boolean => o.metadata?.labels?.[DISCOVERED_LABEL] === 'true';

/** The Service (name, in the Upstream's namespace) a discovered Upstream belongs to. */
export const discoveredFor = (o: Obj): string | undefined => (isDiscovered(o) ? o.metadata?.labels?.[SERVICE_LABEL] || undefined : undefined);

// --- Kubernetes mode: writes to the API server ----------------------------------------------------

export type UpstreamWrite =
  | { op: 'create'; object: Obj }
  /** The stored object with our labels, owner and spec: a PUT carrying its resourceVersion. */
  | { op: 'replace'; object: Obj }
  | { op: 'delete'; object: Obj };

/** Whether the stored discovered Upstream `have` already says what `want` says. */
function sameUpstream(have: Obj, want: Obj): boolean {
  const labels = have.metadata?.labels ?? {};
  return canonicalJson(have.spec ?? null) === canonicalJson(want.spec)
    && Object.entries(want.metadata.labels as Record<string, string>).every(([k, v]) => labels[k] === v)
    && canonicalJson(have.metadata?.ownerReferences ?? []) === canonicalJson(want.metadata.ownerReferences ?? []);
}

/**
 * The writes that make the API server hold `want` for one Service: `stored(name)` is what the cache
 * holds under a name in the Service's namespace, `owned` the discovered Upstreams labelled with the
 * Service. A name held by an Upstream not discovered for this Service is `taken`: left alone. A
 * discovered Upstream's whole spec is discovery's: a hand edit is reverted (to customise one,
 * remove its discovered label, and it is the user's).
 */
export function planUpstreamWrites(
  service: string, want: Obj[], stored: (name: string) => Obj | undefined, owned: Obj[],
): { writes: UpstreamWrite[]; taken: Obj[] } {
  const writes: UpstreamWrite[] = [];
  const taken: Obj[] = [];
  for (const w of want) {
    const have = stored(w.metadata.name);
    if (!have) writes.push({ op: 'create', object: w });
    else if (discoveredFor(have) !== service) taken.push(have);
    else if (!sameUpstream(have, w)) {
      const { status: _status, ...rest } = have;
      writes.push({
        op: 'replace',
        object: { ...rest, metadata: { ...have.metadata, labels: { ...have.metadata.labels, ...w.metadata.labels }, ownerReferences: w.metadata.ownerReferences }, spec: w.spec },
      });
    }
  }
  const wanted = new Set(want.map((w) => w.metadata.name));
  for (const o of owned) if (!wanted.has(o.metadata?.name)) writes.push({ op: 'delete', object: o });
  return { writes, taken };
}

// --- file mode: resource events ----------------------------------------------------------------

/** Per subject, the discovered Upstream events of the Services among `objects` (Namespaces from the files too). */
export function planDiscoveredUpstreams(
  cluster: string, objects: ManifestObject[], defaultOn: boolean, emittedAt: string,
): { desired: Map<string, DesiredEvent<ResourceEvent>>; problems: string[] } {
  const namespaces = new Map(objects.filter((o) => o.object.kind === 'Namespace' && o.object.apiVersion === 'v1').map((o) => [o.object.metadata.name, o.object]));
  const desired = new Map<string, DesiredEvent<ResourceEvent>>();
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { object: svc } of objects.filter((o) => isService(o.object))) {
    const ns = svc.metadata.namespace || 'default';
    if (seen.has(`${ns}/${svc.metadata.name}`)) continue; // a duplicate Service: the first in the files wins, as for endpoints
    seen.add(`${ns}/${svc.metadata.name}`);
    const plan = discoveredUpstreams(defaultOn, svc, namespaces.get(ns));
    problems.push(...plan.problems);
    for (const u of plan.upstreams) {
      const want = resourceUpsert(cluster, u, { apiVersion: u.apiVersion, kind: u.kind, namespace: ns, name: u.metadata.name },
        { type: 'discovered', service: { namespace: ns, name: svc.metadata.name } }, emittedAt);
      desired.set(want.subject, want);
    }
  }
  return { desired, problems };
}

/**
 * What to publish so the log holds `desired`, given its latest per Upstream subject (`log`, which
 * the watcher writes too). A subject whose latest is not discovered (a hand-written Upstream from
 * the files) is `yielded`: the file wins. Discovered subjects no longer desired get a tombstone,
 * unless `keepGone` (a file that never read cleanly may hold their Service).
 */
export function diffDiscoveredUpstreams(
  desired: Map<string, DesiredEvent<ResourceEvent>>, log: Map<string, LogEntry<ResourceEvent>>, keepGone: boolean, emittedAt: string,
): { publish: DesiredEvent<ResourceEvent>[]; yielded: Array<{ want: DesiredEvent<ResourceEvent>; holder: LogEntry<ResourceEvent> }> } {
  const publish: DesiredEvent<ResourceEvent>[] = [];
  const yielded: Array<{ want: DesiredEvent<ResourceEvent>; holder: LogEntry<ResourceEvent> }> = [];
  for (const want of desired.values()) {
    const have = log.get(want.subject);
    if (have && !have.deleted && have.event.source?.type !== 'discovered') yielded.push({ want, holder: have });
    else if (!have || have.deleted || have.digest !== want.digest) publish.push(want);
  }
  if (!keepGone) {
    for (const [subject, have] of log) {
      if (!have.deleted && have.event.source?.type === 'discovered' && !desired.has(subject)) publish.push(resourceTombstone(subject, have.event, emittedAt));
    }
  }
  return { publish, yielded };
}
