// TLS in a Gateway's snapshot, applied after the plaintext HTTP translation: ports with HTTPS or TLS
// listeners get a TLS listener (tls_inspector + a filter chain per server name) in place of the
// plaintext one. Each HTTPS chain gets its own route configuration, holding only its listener's
// virtual hosts and 421 for the other listeners' hosts, so that SNI and Host must name the same
// listener; the port's plaintext route configuration leaves Envoy's resources (its gRPC variant stays
// for proxyless clients of HTTPS ports). The TLSRoutes' clusters and the certificates (SDS Secrets)
// are added, and BackendTLSPolicies go on the clusters.
//
// Names: Envoy listener "<ns>/<gw>/tls-<port>"; route configuration of an HTTPS chain
// "<ns>/<gw>/https-<port>/<listener>" (names.ts); filter chains "https/<listener>" and
// "tls/<listener>/<server name>"; SDS Secrets "secret/<ns>/<name>" (a kubernetes.io/tls Secret) and
// "ca/<ns>/<name>[,<ns>/<name>...]" (CA bundles from ConfigMaps, for client validation).
import type { GatewaySnapshot } from './api.ts';
import type { Attachment } from './attachment.ts';
import { applyBackendTls, type BackendTlsIndex } from './backend-tls.ts';
import type { ResolvedRule } from './backends.ts';
import type { GatewayModel } from './gateway.ts';
import type { TranslatorState } from './index-state.ts';
import { grpcRouteConfigName, httpListenerName, httpsRouteConfigName, passthroughClusterName, routeConfigName } from './names.ts';
import type { RouteModel } from './routes.ts';
import { tlsGatewayIR, type FilterChainIR, type TlsGatewayIR } from './tls-routes.ts';
import type { ClusterIR, GatewayIR } from './ir.ts';
import { isL4Listener } from './l4-routes.ts';
import { gatewayIR } from './virtual-hosts.ts';
import { httpFilters, withBufferLimit } from './envoy/listeners.ts';
import { listenerRouteConfiguration } from './envoy/route-config.ts';
import type { RouteConfiguration } from '../xds/types.ts';
import { clusterSecrets, envoyCluster, loadAssignments } from './envoy/clusters.ts';
import { tlsSocketListener } from './envoy/tls-listeners.ts';
import { caSecret, certificateSecret } from './envoy/tls.ts';

export interface TlsContext {
  state: TranslatorState;
  resolve: (r: RouteModel) => ResolvedRule[];
  backendTls: BackendTlsIndex;
}

const byName = <T extends { name?: string }>(a: T, b: T) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0);

/** A cluster without the TLS an Upstream originates. */
function plaintext({ tls: _tls, ...cluster }: ClusterIR, name: string): ClusterIR {
  return { ...cluster, name };
}

/**
 * Neither a BackendTLSPolicy nor an Upstream's TLS may apply to TLS passthrough: the bytes are already
 * the client's TLS. A passthrough chain to a Service port some policy won, or to an Upstream with TLS,
 * uses a cluster of its own without it (names.ts passthroughClusterName), and the encrypting cluster
 * stays only if something else uses it.
 */
function withoutPassthroughTls(ir: TlsGatewayIR, backendTls: BackendTlsIndex): TlsGatewayIR {
  const originatesTls = new Set(ir.clusters.filter((c) => c.tls).map((c) => c.name));
  const renamed = (name: string) => (backendTls.byCluster.has(name) || originatesTls.has(name) ? passthroughClusterName(name) : name);
  const used = new Set<string>();
  const ports = ir.ports.map((port) => ({
    ...port,
    chains: port.chains.map((chain) => {
      if (chain.action.type !== 'tcp') return chain;
      const passthrough = chain.downstream === undefined;
      const clusters = chain.action.clusters.map((c) => (passthrough ? { ...c, cluster: renamed(c.cluster) } : c));
      for (const c of clusters) used.add(c.cluster);
      return { ...chain, action: { ...chain.action, clusters } };
    }),
  }));
  const clusters = ir.clusters.flatMap((c) => [c, ...(renamed(c.name) !== c.name ? [plaintext(c, renamed(c.name))] : [])]).filter((c) => used.has(c.name));
  return { ports, clusters };
}

/** The plaintext HTTP IR of the Gateway, as translateGateway (index.ts) computes it. */
function httpIR(gateway: GatewayModel, attachments: Attachment[], ctx: TlsContext): GatewayIR {
  const http = { ...gateway, listeners: gateway.listeners.filter((l) => !isL4Listener(l)) };
  return gatewayIR(http, attachments.filter((a) => !isL4Listener(a.listener) && a.route.kind !== 'TLSRoute'), ctx.resolve);
}

/**
 * `http` is the Gateway's HTTP IR when the caller has it (recomputed otherwise): each HTTPS filter
 * chain gets the route configuration of its own listener out of it (envoy/route-config.ts).
 */
export function withTls(snapshot: GatewaySnapshot, gateway: GatewayModel, attachments: Attachment[], ctx: TlsContext, http?: GatewayIR): GatewaySnapshot {
  const ir = withoutPassthroughTls(tlsGatewayIR(gateway, attachments, ctx.resolve, ctx.state), ctx.backendTls);
  const key = gateway.key;
  let out = snapshot;
  if (ir.ports.length > 0) {
    const httpPorts = new Map((http ?? httpIR(gateway, attachments, ctx)).ports.map((p) => [p.port, p]));
    const replaced = new Set(ir.ports.map((p) => httpListenerName(key, p.port)));
    const tlsOnly = new Set(ir.ports.filter((p) => !p.http).map((p) => p.port));
    // Envoy uses the chains' route configurations; the port's stays for proxyless gRPC (its variant).
    const dropRoutes = new Set(ir.ports.map((p) => routeConfigName(key, p.port)));
    const dropGrpcRoutes = new Set([...tlsOnly].map((p) => grpcRouteConfigName(key, p)));

    const listeners = snapshot.listeners.filter((l) => !replaced.has(l.name ?? ''));
    const chainRoutes: RouteConfiguration[] = [];
    const secretNames = new Set<string>();
    for (const port of ir.ports) {
      const portIR = httpPorts.get(port.port);
      const served = new Set<FilterChainIR>();
      const listener = tlsSocketListener(key, port, (chain) => {
        if (chain.action.type !== 'http' || !portIR) return [];
        const name = httpsRouteConfigName(key, port.port, chain.action.listener);
        chainRoutes.push(listenerRouteConfiguration(name, portIR, chain.action.hostname));
        served.add(chain);
        return httpFilters(port.port, name, portIR.listenerOptions);
      });
      if (!listener) continue;
      listeners.push(withBufferLimit(listener, portIR?.listenerOptions));
      for (const chain of port.chains) {
        if (chain.action.type === 'http' && !served.has(chain)) continue;
        for (const name of chain.downstream?.certificates ?? []) secretNames.add(name);
        if (chain.downstream?.clientValidation) secretNames.add(chain.downstream.clientValidation.ca);
      }
    }
    const tlsIR = gateway.tlsIR!;
    const known = new Set(snapshot.clusters.map((c) => c.name));
    const added = ir.clusters.filter((c) => !known.has(c.name));
    // One Secret may be a listener's certificate and an Upstream's client certificate: sent once.
    const secrets = [...snapshot.secrets];
    const sent = new Set(secrets.map((s) => s.name));
    for (const secret of [
      ...[...secretNames].sort().map((name) => {
        const cert = tlsIR.certificates.get(name);
        return cert ? certificateSecret(cert) : caSecret(tlsIR.caBundles.get(name)!);
      }),
      ...clusterSecrets(added),
    ]) {
      if (sent.has(secret.name)) continue;
      sent.add(secret.name);
      secrets.push(secret);
    }
    out = {
      ...snapshot,
      listeners: listeners.sort(byName),
      routes: [...snapshot.routes.filter((r) => !dropRoutes.has(r.name ?? '')), ...chainRoutes].sort(byName),
      grpcRoutes: snapshot.grpcRoutes.filter((r) => !dropGrpcRoutes.has(r.name ?? '')),
      apiListeners: snapshot.apiListeners.filter((a) => !tlsOnly.has(a.port)),
      clusters: [...snapshot.clusters, ...added.map(envoyCluster)].sort(byName),
      endpoints: [...snapshot.endpoints, ...loadAssignments(added)].sort((a, b) => ((a.cluster_name ?? '') < (b.cluster_name ?? '') ? -1 : 1)),
      secrets,
    };
  }
  return applyBackendTls(out, ctx.backendTls, gateway.tlsIR?.backendClientCertificate);
}
