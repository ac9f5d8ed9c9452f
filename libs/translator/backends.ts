// backendRefs of a route rule: which Service ports they name, whether a ReferenceGrant lets the route
// reach across namespaces, and how the rule's traffic splits between them.
import type { ServicePortState, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import { compact, type ActionIR, type ClusterIR, type RouteKind, type WeightedClusterIR } from './ir.ts';
import { serviceClusterName } from './names.ts';
import { GATEWAY_GROUP, type BackendRef } from './objects.ts';
import type { BackendFiltersIR, CompiledRuleFilters, MirrorIR } from './filters.ts';
import type { RuleModel } from './routes.ts';
import { notOk, type Verdict } from './status.ts';

/** appProtocols (KEP-3726 and the bare "grpc") that mean the upstream speaks HTTP/2 in clear text. */
const HTTP2_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'grpc']);

/**
 * appProtocols an HTTPRoute or GRPCRoute backend may declare, lower-cased: HTTP/1.1 (none, "http"),
 * HTTP/2 in clear text, WebSocket. Any other is ResolvedRefs=False/UnsupportedProtocol, as the
 * Gateway API asks of a backend the Gateway cannot speak to.
 */
const CLEARTEXT_APP_PROTOCOLS = new Set(['', 'http', 'h2c', 'kubernetes.io/h2c', 'grpc', 'kubernetes.io/ws']);
/** appProtocols over TLS: Gantry originates TLS only for a port a BackendTLSPolicy targets. */
const TLS_APP_PROTOCOLS = new Set(['https', 'kubernetes.io/wss']);

/** Whether some BackendTLSPolicy targets the Service port (whether or not it is valid: an invalid one fails closed). */
function backendTlsTargets(state: TranslatorState, namespace: string, service: string, portName: string): boolean {
  for (const record of state.backendTLSPolicies.values()) {
    if (record.id.namespace !== namespace || !record.parsed.ok) continue;
    if (record.parsed.value.spec.targetRefs.some((t) => t.group === '' && t.kind === 'Service' && t.name === service && (t.sectionName === undefined || t.sectionName === portName))) return true;
  }
  return false;
}

function unsupportedProtocol(state: TranslatorState, from: RouteOrigin, namespace: string, service: string, port: { port: number; name: string; appProtocol?: string }): Verdict | undefined {
  if (from.kind !== 'HTTPRoute' && from.kind !== 'GRPCRoute') return undefined; // layer 4 proxies carry any protocol
  const appProtocol = (port.appProtocol ?? '').toLowerCase();
  if (CLEARTEXT_APP_PROTOCOLS.has(appProtocol)) return undefined;
  if (TLS_APP_PROTOCOLS.has(appProtocol) && backendTlsTargets(state, namespace, service, port.name)) return undefined;
  const why = TLS_APP_PROTOCOLS.has(appProtocol) ? 'which needs a BackendTLSPolicy targeting the port' : 'which Gantry cannot speak';
  return notOk('UnsupportedProtocol', `Service ${namespace}/${service} port ${port.port} has appProtocol ${port.appProtocol}, ${why}; supported: none, http, kubernetes.io/h2c, grpc, kubernetes.io/ws, and https or kubernetes.io/wss with a BackendTLSPolicy`);
}

/** Envoy answers a rule without a usable backend with this, as the Gateway API asks. */
export const NO_BACKEND_STATUS = 500;

export interface RouteOrigin {
  kind: RouteKind;
  namespace: string;
}

export interface ResolvedRule {
  action: ActionIR;
  /** The clusters the action sends traffic to, mirrors included. */
  clusters: ClusterIR[];
  /** RequestMirror filters whose backend resolved. */
  mirrors?: MirrorIR[];
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

export function resolveRef(state: TranslatorState, from: RouteOrigin, ref: Omit<BackendRef, 'weight'>): RefResolution {
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
  const unsupported = unsupportedProtocol(state, from, namespace, ref.name, port);
  if (unsupported) return { ok: false, problem: unsupported };
  return { ok: true, cluster: clusterOf(port, namespace, ref.name, from.kind === 'GRPCRoute' || HTTP2_APP_PROTOCOLS.has(port.appProtocol ?? '')) };
}

/**
 * The cluster of a Service port, one object per port state and protocol however many backendRefs
 * name it (tens of thousands of routes share a few Services).
 */
const clusters = new WeakMap<ServicePortState, { http1?: ClusterIR; http2?: ClusterIR }>();

function clusterOf(port: ServicePortState, namespace: string, service: string, http2: boolean): ClusterIR {
  let known = clusters.get(port);
  if (!known) clusters.set(port, (known = {}));
  const slot = http2 ? 'http2' : 'http1';
  return (known[slot] ??= { name: serviceClusterName(namespace, service, port.port), http2, endpoints: port.endpoints });
}

/**
 * The rule's action. Backends that cannot be used keep their share of the traffic, which then fails
 * with the 500 the Gateway API asks for: all of it as a direct 500 when no backend is usable, or, when
 * some are, a `failedWeight` share that envoy/route-config.ts answers with 500 (see there).
 * `filters[i]` are backendRefs[i]'s own filters; a backendRef with an ExtensionRef filter Gantry cannot
 * resolve fails like an unresolvable backend. Refs to one cluster without filters share one entry.
 */
export function resolveRule(
  state: TranslatorState, from: RouteOrigin, refs: BackendRef[],
  filters: Array<BackendFiltersIR & { unresolvedExtension?: Verdict }> = [],
): ResolvedRule {
  const weighted: WeightedClusterIR[] = [];
  const clusters = new Map<string, ClusterIR>();
  let failedWeight = 0;
  let problem: Verdict | undefined;
  refs.forEach((ref, i) => {
    const { unresolvedExtension, ...headers } = filters[i] ?? {};
    const resolved = resolveRef(state, from, ref);
    if (!resolved.ok || unresolvedExtension) {
      problem ??= resolved.ok ? unresolvedExtension : resolved.problem;
      failedWeight += ref.weight;
      return;
    }
    if (ref.weight === 0) return;
    const { cluster } = resolved;
    clusters.set(cluster.name, cluster);
    const plain = headers.requestHeaders === undefined && headers.responseHeaders === undefined;
    const same = plain ? weighted.find((w) => w.cluster === cluster.name && w.requestHeaders === undefined && w.responseHeaders === undefined) : undefined;
    if (same) same.weight += ref.weight;
    else weighted.push({ cluster: cluster.name, weight: ref.weight, ...headers });
  });
  if (weighted.length === 0) return { action: { type: 'directResponse', status: NO_BACKEND_STATUS }, clusters: [], problem };
  const action: ActionIR = failedWeight > 0 ? { type: 'forward', clusters: compact(weighted), failedWeight } : { type: 'forward', clusters: compact(weighted) };
  return { action, clusters: [...clusters.values()], problem };
}

/**
 * Everything a rule's traffic needs resolved: its backends (with their filters), its mirrors, and
 * ExtensionRef filters. A redirecting rule uses no backend; one with an ExtensionRef filter Gantry
 * cannot resolve answers 500, as the spec asks rather than skipping the filter.
 */
export function resolveRuleTraffic(state: TranslatorState, from: RouteOrigin, rule: RuleModel): ResolvedRule {
  const compiled: CompiledRuleFilters = rule.compiled ?? { filters: {}, mirrors: [], backends: [] };
  if (compiled.redirect) return { action: { type: 'directResponse', status: NO_BACKEND_STATUS }, clusters: [] };
  const resolved = compiled.unresolvedExtension
    ? { action: { type: 'directResponse', status: NO_BACKEND_STATUS } as ActionIR, clusters: [], problem: compiled.unresolvedExtension }
    : resolveRule(state, from, rule.backendRefs, compiled.backends);
  const mirrors: MirrorIR[] = [];
  let problem = resolved.problem;
  const clusters = new Map(resolved.clusters.map((c) => [c.name, c]));
  for (const mirror of compiled.mirrors) {
    const target = resolveRef(state, from, mirror.backendRef);
    if (!target.ok) {
      problem ??= { ...target.problem, message: `RequestMirror: ${target.problem.message}` };
      continue;
    }
    if (!clusters.has(target.cluster.name)) clusters.set(target.cluster.name, target.cluster);
    mirrors.push({ cluster: target.cluster.name, perMillion: mirror.perMillion });
  }
  return { ...resolved, clusters: [...clusters.values()], ...(mirrors.length > 0 ? { mirrors } : {}), ...(problem ? { problem } : {}) };
}
