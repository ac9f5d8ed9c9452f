// Type URLs of the xDS resource types Gantry serves, in make-before-break push order:
// clusters and endpoints before the listeners and routes that point at them.
export const TYPE_PREFIX = 'type.googleapis.com/';

export const CLUSTER = `${TYPE_PREFIX}envoy.config.cluster.v3.Cluster`;
export const ENDPOINT = `${TYPE_PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`;
export const LISTENER = `${TYPE_PREFIX}envoy.config.listener.v3.Listener`;
export const ROUTE = `${TYPE_PREFIX}envoy.config.route.v3.RouteConfiguration`;
export const SECRET = `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`;

export const PUSH_ORDER = [CLUSTER, ENDPOINT, SECRET, LISTENER, ROUTE] as const;
export type ResourceTypeUrl = (typeof PUSH_ORDER)[number];

export function typeNameOf(typeUrl: string): string {
  return typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
}
