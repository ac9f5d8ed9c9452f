// From the translator's typed Envoy messages to encoded resources (what Redis and the wire carry),
// and from encoded resources to the JSON Envoy's config dump prints (what `gantry translate` shows).
import { encode, encodeRouteConfiguration } from '../xds/encode.ts';
import { anyToJson } from '../xds/json.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../xds/type-urls.ts';
import type { GatewaySnapshot } from '../translator/api.ts';
import type { EncodedResource, EncodedSnapshot } from './manifest.ts';

const byName = (a: EncodedResource, b: EncodedResource) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function encodeGatewaySnapshot(s: GatewaySnapshot): EncodedSnapshot {
  const res = (typeUrl: string, name: string | undefined, bytes: Buffer): EncodedResource => ({ typeUrl, name: name ?? '', bytes });
  const resources: EncodedResource[] = [
    ...s.clusters.map((m) => res(CLUSTER, m.name, encode('envoy.config.cluster.v3.Cluster', m))),
    ...s.endpoints.map((m) => res(ENDPOINT, m.cluster_name, encode('envoy.config.endpoint.v3.ClusterLoadAssignment', m))),
    ...s.secrets.map((m) => res(SECRET, m.name, encode('envoy.extensions.transport_sockets.tls.v3.Secret', m))),
    ...s.listeners.map((m) => res(LISTENER, m.name, encode('envoy.config.listener.v3.Listener', m))),
    ...s.routes.map((m) => res(ROUTE, m.name, encodeRouteConfiguration(m))),
  ].sort((a, b) => (a.typeUrl === b.typeUrl ? byName(a, b) : a.typeUrl < b.typeUrl ? -1 : 1));
  return {
    gateway: s.gateway,
    resources,
    grpcRoutes: s.grpcRoutes.map((m) => res(ROUTE, m.name, encodeRouteConfiguration(m))).sort(byName),
    apiListeners: s.apiListeners.map((a) => ({
      port: a.port,
      hostnames: a.hostnames,
      template: res(LISTENER, '', encode('envoy.config.listener.v3.Listener', a.template)),
    })),
  };
}

export interface SnapshotJson {
  listeners: unknown[];
  routes: unknown[];
  clusters: unknown[];
  endpoints: unknown[];
  secrets: unknown[];
  /** What proxyless gRPC clients get on top: route variants and API listener templates per port. */
  grpc: { routes: unknown[]; apiListeners: Array<{ port: number; hostnames: string[]; listener: unknown }> };
}

/** The config-dump JSON of one snapshot; secrets' private keys are redacted. */
export function snapshotToJson(s: EncodedSnapshot): SnapshotJson {
  const of = (typeUrl: string) => s.resources.filter((r) => r.typeUrl === typeUrl).map((r) => anyToJson(r.typeUrl, r.bytes, false));
  return {
    listeners: of(LISTENER),
    routes: of(ROUTE),
    clusters: of(CLUSTER),
    endpoints: of(ENDPOINT),
    secrets: of(SECRET),
    grpc: {
      routes: s.grpcRoutes.map((r) => anyToJson(r.typeUrl, r.bytes)),
      apiListeners: s.apiListeners.map((a) => ({ port: a.port, hostnames: a.hostnames, listener: anyToJson(a.template.typeUrl, a.template.bytes) })),
    },
  };
}
