// Names of the xDS resources of one Gateway. A proxy only ever receives its own Gateway's snapshot,
// yet names still carry the Gateway so that a config dump, a log line or a stat says where a resource
// came from. "/" separates the parts because Kubernetes names cannot contain it, which keeps every
// name unambiguous.

/** Socket listener and its route configuration share a name: "<ns>/<gateway>/http-<port>". */
export function httpListenerName(gateway: string, port: number): string {
  return `${gateway}/http-${port}`;
}

export const routeConfigName = httpListenerName;

/**
 * The route configuration of one HTTPS listener's filter chain: "<ns>/<gateway>/https-<port>/<listener>"
 * (<listener> is the listener's name, prefixed "<kind>/<ns>/<name>/" for a ListenerSet's).
 */
export function httpsRouteConfigName(gateway: string, port: number, listener: string): string {
  return `${gateway}/https-${port}/${listener}`;
}

/** The proxyless gRPC variant of a route configuration: "<ns>/<gateway>/http-<port>/grpc". */
export function grpcRouteConfigName(gateway: string, port: number): string {
  return `${routeConfigName(gateway, port)}/grpc`;
}

/** One Service port, as a cluster and its EDS service name: "k8s/<ns>/<service>/<port>". */
export function serviceClusterName(namespace: string, service: string, port: number): string {
  return `k8s/${namespace}/${service}/${port}`;
}

/**
 * An Upstream (gateway.gantry.dev), as a cluster and, for a Kube Upstream, its EDS service name:
 * "upstream/<ns>/<name>". Its own cluster even when it points at a Service, since it carries its own
 * protocol, TLS and connect timeout.
 */
export function upstreamClusterName(namespace: string, name: string): string {
  return `upstream/${namespace}/${name}`;
}

/**
 * The same Service port reached by TLS passthrough when a BackendTLSPolicy targets it, or Upstream
 * with TLS: "k8s/<ns>/<service>/<port>/passthrough", "upstream/<ns>/<name>/passthrough", a cluster
 * without that TLS (the client's TLS goes through as is; encrypting it again would break it).
 */
export function passthroughClusterName(cluster: string): string {
  return `${cluster}/passthrough`;
}

/** A cluster that never has endpoints: traffic sent to it fails (503 in Envoy, UNAVAILABLE in gRPC). */
export const UNAVAILABLE_CLUSTER = 'gantry/unavailable';

export function statPrefix(port: number): string {
  return `http-${port}`;
}

/** A TCP listener (tcp_proxy) of a Gateway: "<ns>/<gateway>/tcp-<port>". */
export function tcpListenerName(gateway: string, port: number): string {
  return `${gateway}/tcp-${port}`;
}

/** A UDP listener (udp_proxy) of a Gateway: "<ns>/<gateway>/udp-<port>". */
export function udpListenerName(gateway: string, port: number): string {
  return `${gateway}/udp-${port}`;
}
