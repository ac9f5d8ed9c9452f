// TCPRoutes and UDPRoutes: routes without matches, attached to TCP and UDP listeners. A listener
// forwards every connection (datagram session) to one route's backends, so when several routes are
// attached to one listener all are Accepted and counted, but only the oldest (creationTimestamp,
// then namespace/name) is programmed, as the conformance suite expects.
import type { Attachment } from './attachment.ts';
import type { ResolvedRule } from './backends.ts';
import type { GatewayModel, ListenerModel } from './gateway.ts';
import { listenerKey } from './gateway.ts';
import type { ObjectRecord, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { ClusterIR, WeightedClusterIR } from './ir.ts';
import type { TCPRoute, UDPRoute } from './l4-objects.ts';
import { UNAVAILABLE_CLUSTER } from './names.ts';
import { salvageParentRefs } from './objects.ts';
import type { RouteModel } from './routes.ts';

export type L4Kind = 'TCPRoute' | 'UDPRoute';

/** Listener protocols served by a layer-4 proxy rather than the HTTP connection manager. */
export const L4_PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP']);

export function isL4Listener(l: Pick<ListenerModel, 'protocol'>): boolean {
  return L4_PROTOCOLS.has(l.protocol);
}

export function l4RouteModel(kind: L4Kind, record: ObjectRecord<TCPRoute | UDPRoute>): RouteModel {
  const { id } = record;
  const key = `${kind}/${objectKey(id.namespace, id.name)}`;
  if (!record.parsed.ok) {
    return { id, kind, key, parentRefs: salvageParentRefs(record.object), hostnames: [], rules: [], invalid: record.parsed.message };
  }
  const { spec } = record.parsed.value;
  return {
    id, kind, key, parentRefs: spec.parentRefs, hostnames: [],
    // No matches and no filters: every connection goes to the backends.
    rules: spec.rules.map((rule, index) => ({
      index, name: rule.name, matches: [], backendRefs: rule.backendRefs.map((ref) => ({ ...ref, filters: [] })),
      compiled: { filters: {}, mirrors: [], backends: rule.backendRefs.map(() => ({})) },
    })),
  };
}

export function l4RouteModels(state: TranslatorState): RouteModel[] {
  return [
    ...[...state.tcpRoutes.values()].map((r) => l4RouteModel('TCPRoute', r)),
    ...[...state.udpRoutes.values()].map((r) => l4RouteModel('UDPRoute', r)),
  ];
}

/** One TCP or UDP listener as Envoy will serve it. */
export interface L4PortIR {
  protocol: 'TCP' | 'UDP';
  port: number;
  /** The route programmed on it ("<kind>/<namespace>/<name>"), if any. */
  route?: string;
  /** Where connections go, by weight; the unavailable cluster when nothing usable is attached. */
  clusters: WeightedClusterIR[];
}

export interface L4IR {
  ports: L4PortIR[];
  clusters: ClusterIR[];
}

function createdAt(route: RouteModel, state: TranslatorState): string {
  const routes = route.kind === 'TCPRoute' ? state.tcpRoutes : state.udpRoutes;
  const record = routes.get(objectKey(route.id.namespace, route.id.name));
  return record?.parsed.ok ? record.parsed.value.metadata.creationTimestamp ?? '' : '';
}

/** The routes of one listener, oldest first. */
function oldestFirst(routes: RouteModel[], state: TranslatorState): RouteModel[] {
  const keyed = routes.map((r) => ({ r, at: createdAt(r, state), name: objectKey(r.id.namespace, r.id.name) }));
  keyed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return keyed.map((k) => k.r);
}

/** All rules of a route forward alike (no matches): their backends are pooled, by weight. */
function pooled(rules: ResolvedRule[]): { weighted: WeightedClusterIR[]; clusters: ClusterIR[] } {
  const weights = new Map<string, number>();
  const clusters = new Map<string, ClusterIR>();
  for (const rule of rules) {
    if (rule.action.type !== 'forward') continue;
    for (const { cluster, weight } of rule.action.clusters) weights.set(cluster, (weights.get(cluster) ?? 0) + weight);
    // Backends that could not be resolved keep their share, sent to a cluster without endpoints.
    const failed = 'failedWeight' in rule.action ? rule.action.failedWeight ?? 0 : 0;
    if (failed > 0) weights.set(UNAVAILABLE_CLUSTER, (weights.get(UNAVAILABLE_CLUSTER) ?? 0) + failed);
    for (const c of rule.clusters) clusters.set(c.name, { ...c, http2: false });
  }
  const weighted = [...weights].filter(([, w]) => w > 0).map(([cluster, weight]) => ({ cluster, weight }));
  return { weighted: weighted.length > 0 ? weighted : [{ cluster: UNAVAILABLE_CLUSTER, weight: 1 }], clusters: [...clusters.values()] };
}

/** The TCP and UDP listeners of a Gateway that can be programmed, with their routes' backends. */
export function l4IR(gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[], state: TranslatorState): L4IR {
  const clusters = new Map<string, ClusterIR>();
  const ports: L4PortIR[] = [];
  for (const listener of gateway.listeners) {
    if (!listener.usable || !isL4Listener(listener)) continue;
    const key = listenerKey(listener);
    const routes = [...new Map(attachments.filter((a) => listenerKey(a.listener) === key).map((a) => [a.route.key, a.route])).values()];
    const [route] = oldestFirst(routes, state);
    const { weighted, clusters: used } = route ? pooled(resolve(route)) : pooled([]);
    for (const c of used) clusters.set(c.name, c);
    ports.push({ protocol: listener.protocol as 'TCP' | 'UDP', port: listener.port, route: route?.key, clusters: weighted });
  }
  ports.sort((a, b) => (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : a.port - b.port));
  return { ports, clusters: [...clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}
