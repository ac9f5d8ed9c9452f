// The changes conformance tests make while they run. The case file describes each `change` in
// words, so each one is implemented here, keyed by case, phase and target; a mutation the harness
// does not know makes its phase (and later ones) "not run" rather than guessing. A patch is a JSON
// merge patch (RFC 7386) of the object; a change to `spec` bumps metadata.generation, as the API
// server does.
import type { KubeObject } from '../../libs/translator/api.ts';
import { keyOf, type Mutation } from './cases.ts';
import { podAddress } from './world.ts';

export type Objects = Map<string, KubeObject>;
type Json = unknown;
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Applies a merge patch to the stored object; bumps generation when spec changed. */
function patch(objects: Objects, key: string, p: (o: KubeObject) => Json): void {
  const o = objects.get(key);
  if (!o) throw new Error(`patch target ${key} does not exist`);
  const next = mergePatch(o, p(o)) as KubeObject;
  if (JSON.stringify(next.spec) !== JSON.stringify(o.spec)) next.metadata = { ...next.metadata, generation: (o.metadata.generation ?? 1) + 1 };
  objects.set(key, next);
}

/** Creation time of objects created in phase N: the suite waits between phases, so later is newer. */
export const createdAt = (phase: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, phase)).toISOString().replace('.000', '');

const listeners = (o: KubeObject): Json[] => (isObj(o.spec) && Array.isArray(o.spec.listeners) ? o.spec.listeners : []);

type Apply = (objects: Objects, initial: Objects, m: Mutation) => void;

const INFRA = 'gateway-conformance-infra';
const k = (kind: string, name: string, ns = INFRA) => keyOf(kind, ns, name);

const known: Record<string, Apply> = {
  'BackendTLSPolicyObservedGenerationBump#1': (o) =>
    patch(o, k('BackendTLSPolicy', 'observed-generation-bump'), () => ({ spec: { validation: { hostname: 'foo.example.com' } } })),
  'BackendTLSPolicy#1': (o) =>
    patch(o, k('BackendTLSPolicy', 'reconcile-test'), () => ({
      spec: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'tls-checks-ca-certificate-reconcile-test' }] } },
    })),
  'BackendTLSPolicy#2': (o, _i, m) => {
    const ca = o.get(k('ConfigMap', 'tls-checks-ca-certificate'))!;
    o.set(k('ConfigMap', m.name), {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: INFRA, name: m.name, creationTimestamp: createdAt(m.phase) },
      data: { 'ca.crt': (ca.data as Record<string, string>)['ca.crt'] },
    });
  },
  'BackendTLSPolicy#3': (o, _i, m) => patch(o, k('ConfigMap', m.name), () => ({ data: { 'ca.crt': '' } })),
  'BackendTLSPolicy#4': (o, _i, m) => {
    const ca = o.get(k('ConfigMap', 'tls-checks-ca-certificate'))!;
    patch(o, k('ConfigMap', m.name), () => ({ data: { 'ca.crt': (ca.data as Record<string, string>)['ca.crt'] } }));
  },
  'BackendTLSPolicy#5': (o, initial) => {
    const key = k('BackendTLSPolicy', 'reconcile-test');
    const original = (initial.get(key)!.spec as { validation: { caCertificateRefs: unknown } }).validation.caCertificateRefs;
    patch(o, key, () => ({ spec: { validation: { caCertificateRefs: original } } }));
  },
  'GatewayModifyListeners#1': (o) =>
    patch(o, k('Gateway', 'gateway-add-listener'), (gw) => ({
      spec: { listeners: [...listeners(gw), { name: 'http', port: 80, protocol: 'HTTP', hostname: 'data.test.com', allowedRoutes: { namespaces: { from: 'All' } } }] },
    })),
  'GatewayModifyListeners#2': (o) =>
    patch(o, k('Gateway', 'gateway-remove-listener'), (gw) => {
      if (listeners(gw).length !== 2) throw new Error('gateway-remove-listener must have exactly 2 listeners before the patch');
      return { spec: { listeners: listeners(gw).filter((l) => isObj(l) && l.name === 'http') } };
    }),
  'GatewayObservedGenerationBump#1': (o) =>
    patch(o, k('Gateway', 'gateway-observed-generation-bump'), (gw) => ({
      spec: { listeners: [...listeners(gw), { name: 'alternate', hostname: 'foo.com', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
    })),
  'GatewayClassObservedGenerationBump#1': (o) =>
    patch(o, keyOf('GatewayClass', undefined, 'gatewayclass-observed-generation-bump'), () => ({ spec: { description: 'new' } })),
  'HTTPRouteServiceTypes#1': (o, _i, m) => {
    // The IPv4 slices get the infra-backend-v1 pod's address; the IPv6 ones have no matching IP and stay.
    const address = podAddress(INFRA, 'infra-backend-v1');
    for (const name of m.name.split(',').map((s) => s.trim())) {
      patch(o, k('EndpointSlice', name), (s) => (s.addressType === 'IPv4'
        ? { endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: INFRA, name: 'infra-backend-v1' } }] }
        : {}));
    }
  },
  'TCPRouteMultipleRoutesAttachment#1': (o, _i, m) => o.set(k('TCPRoute', m.name), {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TCPRoute',
    metadata: { namespace: INFRA, name: m.name, generation: 1, creationTimestamp: createdAt(m.phase) },
    spec: { parentRefs: [{ name: 'tcp-multi-route-attach-gateway', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'tcp-attach-backend-2', port: 3000 }] }] },
  }),
  'UDPRouteMultipleRoutesAttachment#1': (o, _i, m) => o.set(k('UDPRoute', m.name), {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'UDPRoute',
    metadata: { namespace: INFRA, name: m.name, generation: 1, creationTimestamp: createdAt(m.phase) },
    spec: { parentRefs: [{ name: 'udp-multi-route-attach-gateway', sectionName: 'udp' }], rules: [{ backendRefs: [{ name: 'udp-attach-backend-2', port: 8080 }] }] },
  }),
};

/** Applies one mutation; false when the harness does not know how (its phase is then not run). */
export function applyMutation(caseName: string, m: Mutation, objects: Objects, initial: Objects): boolean {
  if (m.action === 'delete') {
    const key = keyOf(m.kind, m.namespace, m.name);
    if (!objects.delete(key)) throw new Error(`${caseName}: delete target ${key} does not exist`);
    return true;
  }
  const apply = known[`${caseName}#${m.phase}`];
  if (!apply) return false;
  apply(objects, initial, m);
  return true;
}
