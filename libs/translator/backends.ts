// backendRefs of a route rule: which Service ports or Upstreams (upstreams.ts) they name, whether a
// ReferenceGrant lets the route reach across namespaces, and how the rule's traffic splits between them.
import type { ServicePortState, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import { compact, type ActionIR, type ClusterIR, type RouteKind, type WeightedClusterIR } from './ir.ts';
import { serviceClusterName } from './names.ts';
import { GATEWAY_GROUP, type BackendRef } from './objects.ts';
import { referenceGrantedTo } from './secrets.ts';
import { GANTRY_GROUP } from './upstream-objects.ts';
import { upstreamCluster, upstreamModel } from './upstreams.ts';
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

/** HTTPRoutes and GRPCRoutes need a backend speaking HTTP; layer 4 proxies carry any protocol. */
const speaksHttp = (from: RouteOrigin) => from.kind === 'HTTPRoute' || from.kind === 'GRPCRoute';

function unsupportedProtocol(state: TranslatorState, from: RouteOrigin, namespace: string, service: string, port: { port: number; name: string; appProtocol?: string }): Verdict | undefined {
  if (!speaksHttp(from)) return undefined;
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

function servicePort(state: TranslatorState, namespace: string, name: string, port: number): { ok: true; port: ServicePortState } | { ok: false; problem: Verdict } {
  const service = state.services.get(objectKey(namespace, name));
  if (!service) return { ok: false, problem: notOk('BackendNotFound', `Service ${namespace}/${name} not found`) };
  const found = service.ports.get(port);
  if (!found) return { ok: false, problem: notOk('BackendNotFound', `Service ${namespace}/${name} has no port ${port}`) };
  return { ok: true, port: found };
}

/** Upstream protocols over HTTP/2 in clear text or TLS (GRPC is HTTP/2 too). */
const HTTP2_UPSTREAM_PROTOCOLS: ReadonlySet<string> = new Set(['H2C', 'GRPC']);

/**
 * An Upstream's cluster: its port is the Upstream's (a backendRef's port is not read). A Kube Upstream
 * takes the endpoints of its Service port as a Service backendRef would, and fails the same way when
 * the Service or port is missing.
 */
function resolveUpstream(state: TranslatorState, from: RouteOrigin, namespace: string, name: string): RefResolution {
  const what = `Upstream ${namespace}/${name}`;
  const record = state.upstreams.get(objectKey(namespace, name));
  if (!record) return { ok: false, problem: notOk('BackendNotFound', `${what} not found`) };
  const model = upstreamModel(state, record);
  const { backend } = model;
  if (!backend) return { ok: false, problem: notOk('BackendNotFound', `${what} is not Accepted: ${model.accepted.message}`) };
  if (speaksHttp(from) && backend.protocol === 'TCP') {
    return { ok: false, problem: notOk('UnsupportedProtocol', `${what} has protocol TCP, which only TCPRoutes, TLSRoutes and UDPRoutes can use; ${from.kind}s need HTTP, H2C or GRPC`) };
  }
  const http2 = from.kind === 'GRPCRoute' || HTTP2_UPSTREAM_PROTOCOLS.has(backend.protocol);
  if (!backend.service) return { ok: true, cluster: upstreamCluster(model, backend, http2) };
  const port = servicePort(state, backend.service.namespace, backend.service.name, backend.service.port);
  if (!port.ok) return { ok: false, problem: { ...port.problem, message: `${what}: ${port.problem.message}` } };
  return { ok: true, cluster: upstreamCluster(model, backend, http2, port.port) };
}

export function resolveRef(state: TranslatorState, from: RouteOrigin, ref: Omit<BackendRef, 'weight'>): RefResolution {
  const namespace = ref.namespace ?? from.namespace;
  const what = `${ref.kind} ${namespace}/${ref.name}`;
  const upstream = ref.group === GANTRY_GROUP && ref.kind === 'Upstream';
  if (!upstream && (ref.group !== '' || ref.kind !== 'Service')) {
    return { ok: false, problem: notOk('InvalidKind', `backendRef ${ref.group || 'core'}/${ref.kind} is not supported; only Service and ${GANTRY_GROUP}/Upstream are`) };
  }
  const referrer = { group: GATEWAY_GROUP, kind: from.kind, namespace: from.namespace };
  if (namespace !== from.namespace && !referenceGrantedTo(state, referrer, { group: ref.group, kind: ref.kind, namespace, name: ref.name })) {
    return { ok: false, problem: notOk('RefNotPermitted', `no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to reach ${what}`) };
  }
  if (upstream) return resolveUpstream(state, from, namespace, ref.name);
  if (ref.port === undefined) return { ok: false, problem: notOk('BackendNotFound', `backendRef to ${what} needs a port`) };
  const found = servicePort(state, namespace, ref.name, ref.port);
  if (!found.ok) return found;
  const { port } = found;
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
