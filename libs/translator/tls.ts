// TLS in a Gateway's snapshot, applied after the plaintext HTTP translation: ports with HTTPS or TLS
// listeners get a TLS listener (tls_inspector + a filter chain per server name) in place of the
// plaintext one, TLS-only ports lose the HTTP route configuration they do not use, the TLSRoutes'
// clusters and the certificates (SDS Secrets) are added, and BackendTLSPolicies go on the clusters.
//
// Names: Envoy listener "<ns>/<gw>/tls-<port>"; filter chains "https/<listener>" and
// "tls/<listener>/<server name>"; SDS Secrets "secret/<ns>/<name>" (a kubernetes.io/tls Secret) and
// "ca/<ns>/<name>[,<ns>/<name>...]" (CA bundles from ConfigMaps, for client validation).
import type { GatewaySnapshot } from './api.ts';
import type { Attachment } from './attachment.ts';
import { applyBackendTls, type BackendTlsIndex } from './backend-tls.ts';
import type { ResolvedRule } from './backends.ts';
import type { GatewayModel } from './gateway.ts';
import type { TranslatorState } from './index-state.ts';
import { grpcRouteConfigName, httpListenerName, routeConfigName } from './names.ts';
import type { RouteModel } from './routes.ts';
import { tlsGatewayIR } from './tls-routes.ts';
import { edsCluster, loadAssignment } from './envoy/clusters.ts';
import { tlsSocketListener } from './envoy/tls-listeners.ts';
import { caSecret, certificateSecret } from './envoy/tls.ts';

export interface TlsContext {
  state: TranslatorState;
  resolve: (r: RouteModel) => ResolvedRule[];
  backendTls: BackendTlsIndex;
}

const byName = <T extends { name?: string }>(a: T, b: T) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0);

export function withTls(snapshot: GatewaySnapshot, gateway: GatewayModel, attachments: Attachment[], ctx: TlsContext): GatewaySnapshot {
  const ir = tlsGatewayIR(gateway, attachments, ctx.resolve, ctx.state);
  const key = gateway.key;
  let out = snapshot;
  if (ir.ports.length > 0) {
    const plain = new Map(snapshot.listeners.map((l) => [l.name ?? '', l]));
    const replaced = new Set(ir.ports.map((p) => httpListenerName(key, p.port)));
    const tlsOnly = new Set(ir.ports.filter((p) => !p.http).map((p) => p.port));
    const dropRoutes = new Set([...tlsOnly].flatMap((p) => [routeConfigName(key, p), grpcRouteConfigName(key, p)]));

    const listeners = snapshot.listeners.filter((l) => !replaced.has(l.name ?? ''));
    const secretNames = new Set<string>();
    for (const port of ir.ports) {
      const httpFilters = port.http ? plain.get(httpListenerName(key, port.port))?.filter_chains?.[0]?.filters ?? [] : [];
      const listener = tlsSocketListener(key, port, httpFilters);
      if (!listener) continue;
      listeners.push(listener);
      for (const chain of port.chains) {
        if (chain.action.type === 'http' && httpFilters.length === 0) continue;
        for (const name of chain.downstream?.certificates ?? []) secretNames.add(name);
        if (chain.downstream?.clientValidation) secretNames.add(chain.downstream.clientValidation.ca);
      }
    }
    const tlsIR = gateway.tlsIR!;
    const secrets = [
      ...snapshot.secrets,
      ...[...secretNames].sort().map((name) => {
        const cert = tlsIR.certificates.get(name);
        return cert ? certificateSecret(cert) : caSecret(tlsIR.caBundles.get(name)!);
      }),
    ];
    const known = new Set(snapshot.clusters.map((c) => c.name));
    const added = ir.clusters.filter((c) => !known.has(c.name));
    out = {
      ...snapshot,
      listeners: listeners.sort(byName),
      routes: snapshot.routes.filter((r) => !dropRoutes.has(r.name ?? '')),
      grpcRoutes: snapshot.grpcRoutes.filter((r) => !dropRoutes.has(r.name ?? '')),
      apiListeners: snapshot.apiListeners.filter((a) => !tlsOnly.has(a.port)),
      clusters: [...snapshot.clusters, ...added.map(edsCluster)].sort(byName),
      endpoints: [...snapshot.endpoints, ...added.map(loadAssignment)].sort((a, b) => ((a.cluster_name ?? '') < (b.cluster_name ?? '') ? -1 : 1)),
      secrets,
    };
  }
  return applyBackendTls(out, ctx.backendTls, gateway.tlsIR?.backendClientCertificate);
}
