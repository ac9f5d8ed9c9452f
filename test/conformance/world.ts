// From a case's objects to the translator's input, with the pods a cluster would run: the
// conformance Services select echo Deployments and have no EndpointSlices, so each Deployment gets
// one loopback address (its "pod"), and every Service that selects it gets that address as its
// endpoint on the target port. The address tells the route evaluator which pod answered.
import type { ManifestObject } from '../../libs/manifests/index.ts';
import type { KubeObject, TranslatorInput } from '../../libs/translator/api.ts';
import { buildTranslatorInput } from '../../libs/world/from-manifests.ts';

export const CLUSTER = 'conformance';

export interface Pod {
  namespace: string;
  /** Deployment name; the pod name upstream is `<deployment>-<hash>-<id>`, so it starts with this. */
  name: string;
}

/**
 * Second octet of the pods' loopback addresses (127.<block>.x.y). Real gRPC backends bind these
 * addresses, so runs in parallel processes (other worktrees, CI shards) take different blocks;
 * GANTRY_CONFORMANCE_POD_BLOCK pins one.
 */
export const POD_BLOCK = Number(process.env.GANTRY_CONFORMANCE_POD_BLOCK ?? 2 + (process.pid % 250));

const podAddresses = new Map<string, string>();
const podsByAddress = new Map<string, Pod>();

/** The loopback address of a Deployment's pod: stable for the whole process. */
export function podAddress(namespace: string, deployment: string): string {
  const key = `${namespace}/${deployment}`;
  let a = podAddresses.get(key);
  if (!a) {
    const i = podAddresses.size + 1;
    a = `127.${POD_BLOCK}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    podAddresses.set(key, a);
    podsByAddress.set(a, { namespace, name: deployment });
  }
  return a;
}

export function podAt(address: string): Pod | undefined {
  return podsByAddress.get(address);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function deploymentsSelectedBy(svc: KubeObject, objects: KubeObject[]): KubeObject[] {
  const selector = isObj(svc.spec) && isObj(svc.spec.selector) ? (svc.spec.selector as Record<string, string>) : undefined;
  if (!selector || Object.keys(selector).length === 0) return [];
  const ns = svc.metadata.namespace || 'default';
  return objects.filter((d) => {
    if (d.kind !== 'Deployment' || (d.metadata.namespace || 'default') !== ns || !isObj(d.spec)) return false;
    const template = isObj(d.spec.template) && isObj(d.spec.template.metadata) ? d.spec.template.metadata : {};
    const labels = (isObj(template.labels) ? template.labels : {}) as Record<string, string>;
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
  });
}

/** A Service port's target port on the pod: a number, or a container port name resolved. */
function targetPort(sp: Obj, deployment: KubeObject): number {
  const t = sp.targetPort;
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && t !== '') {
    const spec = deployment.spec as Obj;
    const podSpec = isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec : {};
    for (const c of Array.isArray(podSpec.containers) ? podSpec.containers : []) {
      for (const p of isObj(c) && Array.isArray(c.ports) ? c.ports : []) {
        if (isObj(p) && p.name === t && typeof p.containerPort === 'number') return p.containerPort;
      }
    }
  }
  return sp.port as number;
}

export function buildCaseInput(objects: KubeObject[]): TranslatorInput {
  const manifests: ManifestObject[] = objects.map((object, document) => ({ object, origin: { path: 'conformance', document } }));
  const input = buildTranslatorInput(manifests, CLUSTER);
  const services = new Map(objects.filter((o) => o.kind === 'Service').map((o) => [`${o.metadata.namespace || 'default'}/${o.metadata.name}`, o]));
  for (const s of input.services) {
    const svc = services.get(`${s.namespace}/${s.name}`);
    if (!svc) continue;
    const deployments = deploymentsSelectedBy(svc, objects);
    if (deployments.length === 0) continue; // no selector (manual EndpointSlices) or no pods: as Kubernetes would
    const specPorts = (isObj(svc.spec) && Array.isArray(svc.spec.ports) ? svc.spec.ports : []).filter(isObj);
    for (const port of s.ports) {
      if (port.endpoints.length > 0) continue;
      const sp = specPorts.find((p) => p.port === port.port && (p.protocol ?? 'TCP') === port.protocol) ?? { port: port.port };
      port.endpoints = deployments.map((d) => ({
        address: podAddress(d.metadata.namespace || 'default', d.metadata.name),
        port: targetPort(sp, d), ready: true, serving: true, terminating: false,
      }));
    }
  }
  return input;
}
