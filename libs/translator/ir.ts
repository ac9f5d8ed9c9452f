// The intermediate representation: what the user meant, per Gateway, with every reference resolved
// and every route in precedence order. The envoy/ modules turn it into Envoy messages; nothing here
// knows a proto field name.
import type { Endpoint } from '../contracts/envelopes.ts';
import type { BackendFiltersIR, RedirectIR, RouteFiltersIR } from './filters.ts';
import type { ListenerOptionsIR, VirtualHostOptionsIR } from './options.ts';
import type { CertificateIR } from './secrets.ts';
import type { UpstreamTlsIR } from './envoy/tls.ts';

/**
 * `list` in an array of its own length. An array grown by push (or built by filter, flatMap or a
 * spread literal) keeps spare capacity: ~120 bytes per small list, which adds up over the tens of
 * thousands of lists a large world's translation keeps.
 */
export function compact<T>(list: T[]): T[] {
  return list.slice();
}

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

export interface StringMatchIR {
  name: string;
  type: 'Exact' | 'RegularExpression';
  value: string;
}

export interface PathMatchIR {
  /**
   * PathPrefix is the Gateway API's, matching whole path segments; StringPrefix is a plain string
   * prefix, for gRPC's "/<service>/" where the segment boundary is part of the value.
   */
  type: 'Exact' | 'PathPrefix' | 'StringPrefix' | 'RegularExpression';
  value: string;
}

export interface MatchIR {
  path: PathMatchIR;
  headers: StringMatchIR[];
  queryParams: StringMatchIR[];
  method?: string;
  /** Only gRPC requests (content-type application/grpc*) match: set for GRPCRoute rules. */
  grpcOnly: boolean;
}

export interface WeightedClusterIR extends BackendFiltersIR {
  cluster: string;
  weight: number;
}

export type ActionIR =
  /** `failedWeight`: the share of backendRefs that could not be resolved, which must answer 500. */
  | { type: 'forward'; clusters: WeightedClusterIR[]; failedWeight?: number }
  | { type: 'directResponse'; status: number }
  | { type: 'redirect'; redirect: RedirectIR };

/** One Envoy-route-to-be: a single match of one rule of one route. */
export interface RouteIR {
  /** "<kind>/<namespace>/<name>/rule/<i>/match/<j>", for Envoy's stats and debugging. */
  name: string;
  match: MatchIR;
  action: ActionIR;
  /** Header changes, rewrites, mirrors, CORS, timeouts and retries (filters.ts). */
  filters?: RouteFiltersIR;
}

export interface VirtualHostIR {
  /** A hostname, a wildcard "*.example.com", or "*" for any. */
  hostname: string;
  /**
   * The hostname ("*" for none) of the listener(s) owning it: the most specific listener hostname of
   * the port covering it. Only routes attached to those listeners are in it (listener isolation).
   */
  listenerHostname: string;
  routes: RouteIR[];
  /** VirtualHostOptions that reach it (gateway-options.ts). */
  options?: VirtualHostOptionsIR;
}

/**
 * The HTTP listeners of one Gateway that share a port: one Envoy listener and route configuration
 * (an HTTPS listener's filter chain gets the part of it its listener owns: envoy/route-config.ts).
 */
export interface HttpPortIR {
  port: number;
  /** The listeners' hostnames ("*" for a listener without one), sorted. */
  hostnames: string[];
  virtualHosts: VirtualHostIR[];
  /** ListenerOptions of the port's Envoy listener (gateway-options.ts). */
  listenerOptions?: ListenerOptionsIR;
}

export interface ClusterEndpointIR extends Endpoint {
  /** The member cluster the endpoint lives in. */
  cluster: string;
}

/** One fixed host of a Static Upstream. */
export interface StaticHostIR {
  /** An IP address or a DNS name. */
  address: string;
  port: number;
  weight: number;
}

/** TLS a cluster originates (an Upstream's spec.tls), with the client certificate's material. */
export interface ClusterTlsIR extends Omit<UpstreamTlsIR, 'clientCertificate'> {
  clientCertificate?: CertificateIR;
}

/**
 * An upstream cluster: a Service port, or an Upstream. Endpoints come over EDS, except for a Static
 * Upstream's `hosts`, which the cluster holds itself.
 */
export interface ClusterIR {
  name: string;
  http2: boolean;
  endpoints: ClusterEndpointIR[];
  hosts?: StaticHostIR[];
  /** Absent: the translator's default (envoy/clusters.ts). */
  connectTimeoutMs?: number;
  tls?: ClusterTlsIR;
}

export interface GatewayIR {
  /** "<namespace>/<name>" */
  key: string;
  ports: HttpPortIR[];
  clusters: ClusterIR[];
}
