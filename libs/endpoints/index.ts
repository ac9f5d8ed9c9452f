// Services and EndpointSlices to endpoints (pure), the way Kubernetes resolves them: a Service
// port takes the endpoints of every slice port with the same name (the unnamed single port of a
// Service matches slice ports with an empty name) and protocol; each address of a slice endpoint is
// one endpoint, on the slice port's number (the resolved target port).
import { ENDPOINTS_SCHEMA, EndpointsEventSchema, subjects, type Endpoint, type EndpointsEvent, type ServicePortEndpoints } from '../contracts/index.ts';
import { canonicalJson, type ManifestObject } from '../manifests/index.ts';
import { sha256, type DesiredEvent } from '../manifests/sync.ts';
import type { KubeObject } from '../translator/api.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const validPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

export function isService(o: KubeObject): boolean {
  return o.kind === 'Service' && o.apiVersion === 'v1';
}

export function isEndpointSlice(o: KubeObject): boolean {
  return o.kind === 'EndpointSlice' && o.apiVersion === 'discovery.k8s.io/v1';
}

/** The slices of `service`: same namespace, labelled with its name. */
export function slicesOf(service: KubeObject, slices: KubeObject[]): KubeObject[] {
  const ns = service.metadata.namespace || 'default';
  return slices.filter((s) => (s.metadata.namespace || 'default') === ns && s.metadata.labels?.[SERVICE_NAME_LABEL] === service.metadata.name);
}

/** One endpoint per address of a slice endpoint, on `port`. */
function endpointsOfSlice(slice: KubeObject, port: number): Endpoint[] {
  const out: Endpoint[] = [];
  for (const e of arr(slice.endpoints)) {
    if (!isObj(e)) continue;
    const c = isObj(e.conditions) ? e.conditions : {};
    // Kubernetes: a nil `ready` is an unknown state that consumers treat as ready; `serving` nil
    // follows `ready`; `terminating` nil is false.
    const ready = c.ready !== false;
    const serving = typeof c.serving === 'boolean' ? c.serving : ready;
    const terminating = c.terminating === true;
    const zone = str(e.zone);
    const node = str(e.nodeName);
    const hostname = str(e.hostname);
    for (const address of arr(e.addresses)) {
      if (!str(address)) continue;
      out.push({
        address: address as string, port, ready, serving, terminating,
        ...(zone ? { zone } : {}), ...(node ? { node } : {}), ...(hostname ? { hostname } : {}),
      });
    }
  }
  return out;
}

/** Every port of `service` with the endpoints its slices give for it (sorted; one per address:port). */
export function serviceEndpoints(service: KubeObject, slices: KubeObject[]): ServicePortEndpoints[] {
  const spec = isObj(service.spec) ? service.spec : {};
  const result: ServicePortEndpoints[] = [];
  for (const sp of arr(spec.ports)) {
    if (!isObj(sp) || !validPort(sp.port)) continue;
    const name = str(sp.name) ?? '';
    const protocol = str(sp.protocol) ?? 'TCP';
    let appProtocol = str(sp.appProtocol);
    const byAddress = new Map<string, Endpoint>();
    for (const slice of slices) {
      for (const slicePort of arr(slice.ports)) {
        if (!isObj(slicePort)) continue;
        if ((str(slicePort.name) ?? '') !== name || (str(slicePort.protocol) ?? 'TCP') !== protocol) continue;
        if (!validPort(slicePort.port)) continue;
        appProtocol ??= str(slicePort.appProtocol);
        for (const ep of endpointsOfSlice(slice, slicePort.port)) {
          const key = `${ep.address}|${ep.port}`;
          const seen = byAddress.get(key);
          // The same endpoint in two slices (a slice being replaced): the ready copy wins.
          if (!seen || (!seen.ready && ep.ready)) byAddress.set(key, ep);
        }
      }
    }
    const endpoints = [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
    result.push({ name, port: sp.port, protocol, ...(appProtocol ? { appProtocol } : {}), endpoints });
  }
  return result;
}

/** What an endpoints event says, for comparing the log with the files (not `emittedAt`). */
export function endpointsDigest(e: EndpointsEvent): { deleted: boolean; digest: string } {
  const deleted = e.op === 'delete';
  return { deleted, digest: deleted ? 'deleted' : sha256(canonicalJson({ serviceType: e.serviceType, ports: e.ports })) };
}

/** The endpoints event of one Service from its slices (the ones labelled with its name, in its namespace). */
export function serviceEndpointsEvent(cluster: string, svc: KubeObject, slices: KubeObject[], emittedAt: string): DesiredEvent<EndpointsEvent> {
  const namespace = svc.metadata.namespace || 'default';
  const subject = subjects.endpoints(cluster, namespace, svc.metadata.name);
  const spec = isObj(svc.spec) ? svc.spec : {};
  // Parsed here so the digest is of the same shape a consumer (and the start-up replay) sees.
  const event = EndpointsEventSchema.parse({
    schema: ENDPOINTS_SCHEMA, cluster, namespace, name: svc.metadata.name, op: 'upsert',
    serviceType: str(spec.type) ?? 'ClusterIP', ports: serviceEndpoints(svc, slices), resourceVersion: '', emittedAt,
  });
  const d = endpointsDigest(event);
  event.resourceVersion = d.digest;
  return { subject, event, msgId: `${subject}@${d.digest}`, ...d };
}

/** Per subject, the endpoints event of every Service among `objects`. */
export function planEndpoints(cluster: string, objects: ManifestObject[], emittedAt: string): Map<string, DesiredEvent<EndpointsEvent>> {
  const services = objects.filter((o) => isService(o.object)).map((o) => o.object);
  const slices = objects.filter((o) => isEndpointSlice(o.object)).map((o) => o.object);
  const desired = new Map<string, DesiredEvent<EndpointsEvent>>();
  for (const svc of services) {
    const subject = subjects.endpoints(cluster, svc.metadata.namespace || 'default', svc.metadata.name);
    if (desired.has(subject)) continue; // a duplicate Service: the first in the files wins
    desired.set(subject, serviceEndpointsEvent(cluster, svc, slicesOf(svc, slices), emittedAt));
  }
  return desired;
}

/** The tombstone of a Service the log holds and the files no longer have. */
export function endpointsTombstone(subject: string, last: EndpointsEvent, emittedAt: string): DesiredEvent<EndpointsEvent> {
  const event: EndpointsEvent = { ...last, op: 'delete', ports: [], emittedAt };
  return { subject, event, msgId: `${subject}@${last.resourceVersion}@delete`, deleted: true, digest: 'deleted' };
}
