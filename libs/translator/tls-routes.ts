// TLSRoutes, and the IR of the ports that carry TLS: one filter chain per (port, server name).
// An HTTPS listener's chain terminates TLS and hands HTTP to its listener's route configuration; a TLS
// listener's chains forward the connection to the TLSRoute's backends by SNI, decrypted (Terminate)
// or as is (Passthrough). Envoy picks the chain whose server name matches the SNI most specifically.
import type { Attachment } from './attachment.ts';
import type { ResolvedRule } from './backends.ts';
import { listenerKey, type GatewayModel } from './gateway.ts';
import { ANY_HOST } from './hostnames.ts';
import { objectKey, type ObjectRecord, type TranslatorState } from './index-state.ts';
import type { ClusterIR, WeightedClusterIR } from './ir.ts';
import type { ListenerTlsIR } from './listener-tls.ts';
import { UNAVAILABLE_CLUSTER } from './names.ts';
import { salvageParentRefs } from './objects.ts';
import type { RouteModel } from './routes.ts';
import type { TLSRoute } from './tls-objects.ts';
import type { DownstreamTlsIR } from './envoy/tls.ts';

export function tlsRouteModel(record: ObjectRecord<TLSRoute>): RouteModel {
  const { id } = record;
  const key = `TLSRoute/${objectKey(id.namespace, id.name)}`;
  if (!record.parsed.ok) {
    return { id, kind: 'TLSRoute', key, parentRefs: salvageParentRefs(record.object), hostnames: [], rules: [], invalid: record.parsed.message };
  }
  const { spec } = record.parsed.value;
  const rules = spec.rules.map((rule, index) => ({ index, matches: [], backendRefs: rule.backendRefs.map((b) => ({ ...b, filters: [] })) }));
  return { id, kind: 'TLSRoute', key, parentRefs: spec.parentRefs, hostnames: spec.hostnames, rules };
}

/** `http`: the HTTPS listener (listenerKey) and its hostname ("*" for none), whose routes the chain serves. */
export type FilterChainAction = { type: 'http'; listener: string; hostname: string } | { type: 'tcp'; clusters: WeightedClusterIR[] };

export interface FilterChainIR {
  /** "https/<listener>" or "tls/<listener>/<server name>" */
  name: string;
  /** SNI names the chain matches; empty for any (a listener without hostname). */
  serverNames: string[];
  /** Set when the chain terminates TLS. */
  downstream?: DownstreamTlsIR;
  action: FilterChainAction;
}

export interface TlsPortIR {
  port: number;
  /** Whether an HTTPS listener is on the port (each of its chains has its own route configuration). */
  http: boolean;
  chains: FilterChainIR[];
}

export interface TlsGatewayIR {
  ports: TlsPortIR[];
  /** Clusters of the TLSRoutes' backends. */
  clusters: ClusterIR[];
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function creationTimestamp(state: TranslatorState, route: RouteModel): string {
  const record = state.tlsRoutes.get(objectKey(route.id.namespace, route.id.name));
  return (record?.parsed.ok && record.parsed.value.metadata.creationTimestamp) || '';
}

/** The TLSRoute's first rule as weighted clusters; all of it to the unavailable cluster when nothing resolved. */
function tcpClusters(resolved: ResolvedRule[]): { weighted: WeightedClusterIR[]; clusters: ClusterIR[] } {
  const rule = resolved[0];
  if (!rule || rule.action.type !== 'forward') return { weighted: [{ cluster: UNAVAILABLE_CLUSTER, weight: 1 }], clusters: [] };
  return { weighted: rule.action.clusters, clusters: rule.clusters.map((c) => ({ ...c, http2: false })) };
}

/**
 * The TLS-carrying ports of a Gateway. Each (port, server name) gets one chain: HTTPS listeners come
 * first (in spec order), then TLSRoutes oldest first, so on a clash the listener, then the older
 * route, keeps the name; a clash between listeners is the conflict detector's to report.
 */
export function tlsGatewayIR(
  gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[], state: TranslatorState,
): TlsGatewayIR {
  const tlsListeners = gateway.tlsIR?.listeners ?? new Map<string, ListenerTlsIR>();
  const usable = gateway.listeners.filter((l) => l.usable && tlsListeners.has(listenerKey(l)));
  const ports = [...new Set(usable.map((l) => l.port))].sort((a, b) => a - b);
  const clusters = new Map<string, ClusterIR>();
  const tlsAttachments = attachments
    .filter((a) => a.route.kind === 'TLSRoute')
    .map((a) => ({ a, created: creationTimestamp(state, a.route) }))
    .sort((x, y) => byString(x.created, y.created) || byString(x.a.route.key, y.a.route.key))
    .map((x) => x.a);

  const out: TlsPortIR[] = ports.map((port) => {
    const chains = new Map<string, FilterChainIR>();
    const here = usable.filter((l) => l.port === port);
    for (const l of here.filter((x) => x.protocol === 'HTTPS')) {
      const host = l.hostname ?? ANY_HOST;
      if (chains.has(host)) continue;
      chains.set(host, {
        name: `https/${listenerKey(l)}`,
        serverNames: host === ANY_HOST ? [] : [host],
        downstream: tlsListeners.get(listenerKey(l))!.downstream,
        action: { type: 'http', listener: listenerKey(l), hostname: host },
      });
    }
    for (const a of tlsAttachments) {
      if (a.listener.port !== port || a.listener.protocol !== 'TLS') continue;
      const tls = tlsListeners.get(listenerKey(a.listener));
      if (!tls || !a.listener.usable) continue;
      const { weighted, clusters: used } = tcpClusters(resolve(a.route));
      for (const c of used) clusters.set(c.name, c);
      for (const host of a.hostnames) {
        if (chains.has(host)) continue;
        chains.set(host, {
          name: `tls/${listenerKey(a.listener)}/${host}`,
          serverNames: host === ANY_HOST ? [] : [host],
          ...(tls.mode === 'Terminate' ? { downstream: tls.downstream } : {}),
          action: { type: 'tcp', clusters: weighted },
        });
      }
    }
    return { port, http: here.some((l) => l.protocol === 'HTTPS'), chains: [...chains.values()].sort((a, b) => byString(a.name, b.name)) };
  });
  return { ports: out, clusters: [...clusters.values()].sort((a, b) => byString(a.name, b.name)) };
}
