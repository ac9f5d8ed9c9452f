// backendRefs of a route rule: which Service ports they name, whether a ReferenceGrant lets the route
// reach across namespaces, and how the rule's traffic splits between them.
import type { TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { ActionIR, ClusterIR, RouteKind, WeightedClusterIR } from './ir.ts';
import { serviceClusterName, UNAVAILABLE_CLUSTER } from './names.ts';
import { GATEWAY_GROUP, type BackendRef } from './objects.ts';
import { notOk, type Verdict } from './status.ts';

/** appProtocols (KEP-3726 and the bare "grpc") that mean the upstream speaks HTTP/2 in clear text. */
const HTTP2_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'grpc']);

/** Envoy answers a rule without a usable backend with this, as the Gateway API asks. */
export const NO_BACKEND_STATUS = 500;

export interface RouteOrigin {
  kind: RouteKind;
  namespace: string;
}

export interface ResolvedRule {
  action: ActionIR;
  /** The clusters the action sends traffic to (the unavailable cluster excluded). */
  clusters: ClusterIR[];
  /** Why some backendRef could not be used (the route's ResolvedRefs=False), if one could not. */
  problem?: Verdict;
}

type RefResolution = { ok: true; cluster: ClusterIR } | { ok: false; problem: Verdict };

export function referenceGranted(state: TranslatorState, from: RouteOrigin, toNamespace: string, toName: string): boolean {
  return (state.referenceGrants.get(toNamespace) ?? []).some(
    (grant) =>
      grant.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === from.kind && f.namespace === from.namespace) &&
      grant.spec.to.some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === toName)),
  );
}

function resolveRef(state: TranslatorState, from: RouteOrigin, ref: BackendRef): RefResolution {
  const namespace = ref.namespace ?? from.namespace;
  const what = `${ref.kind} ${namespace}/${ref.name}`;
  if (ref.group !== '' || ref.kind !== 'Service') {
    return { ok: false, problem: notOk('InvalidKind', `backendRef ${ref.group || 'core'}/${ref.kind} is not supported; only Service is`) };
  }
  if (namespace !== from.namespace && !referenceGranted(state, from, namespace, ref.name)) {
    return { ok: false, problem: notOk('RefNotPermitted', `no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to reach ${what}`) };
  }
  if (ref.port === undefined) return { ok: false, problem: notOk('BackendNotFound', `backendRef to ${what} needs a port`) };
  const service = state.services.get(objectKey(namespace, ref.name));
  if (!service) return { ok: false, problem: notOk('BackendNotFound', `${what} not found`) };
  const port = service.ports.get(ref.port);
  if (!port) return { ok: false, problem: notOk('BackendNotFound', `${what} has no port ${ref.port}`) };
  return {
    ok: true,
    cluster: {
      name: serviceClusterName(namespace, ref.name, ref.port),
      http2: from.kind === 'GRPCRoute' || HTTP2_APP_PROTOCOLS.has(port.appProtocol ?? ''),
      endpoints: port.endpoints,
    },
  };
}

/**
 * The rule's action. Backends that cannot be used keep their share of the traffic, which then fails
 * (the Gateway API wants a 500 for it): all of it as a direct 500 when no backend is usable, or a
 * weighted share sent to the cluster without endpoints (503, the closest Envoy gets) when some are.
 */
export function resolveRule(state: TranslatorState, from: RouteOrigin, refs: BackendRef[]): ResolvedRule {
  const weights = new Map<string, number>();
  const clusters = new Map<string, ClusterIR>();
  let failedWeight = 0;
  let problem: Verdict | undefined;
  for (const ref of refs) {
    const resolved = resolveRef(state, from, ref);
    if (!resolved.ok) {
      problem ??= resolved.problem;
      failedWeight += ref.weight;
      continue;
    }
    if (ref.weight === 0) continue;
    const { cluster } = resolved;
    weights.set(cluster.name, (weights.get(cluster.name) ?? 0) + ref.weight);
    clusters.set(cluster.name, cluster);
  }
  if (weights.size === 0) return { action: { type: 'directResponse', status: NO_BACKEND_STATUS }, clusters: [], problem };
  const weighted: WeightedClusterIR[] = [...weights].map(([cluster, weight]) => ({ cluster, weight }));
  if (failedWeight > 0) weighted.push({ cluster: UNAVAILABLE_CLUSTER, weight: failedWeight });
  return { action: { type: 'forward', clusters: weighted }, clusters: [...clusters.values()], problem };
}
