// The generated TypeScript types of every Envoy message Gantry builds, keyed by full type name, so
// that pack()/encode() check field names at compile time as well as at run time.
import type { Cluster } from '../../protos/generated/envoy/config/cluster/v3/Cluster';
import type { ClusterLoadAssignment } from '../../protos/generated/envoy/config/endpoint/v3/ClusterLoadAssignment';
import type { Listener } from '../../protos/generated/envoy/config/listener/v3/Listener';
import type { RouteConfiguration } from '../../protos/generated/envoy/config/route/v3/RouteConfiguration';
import type { Secret } from '../../protos/generated/envoy/extensions/transport_sockets/tls/v3/Secret';
import type { HttpConnectionManager } from '../../protos/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager';
import type { TcpProxy } from '../../protos/generated/envoy/extensions/filters/network/tcp_proxy/v3/TcpProxy';
import type { UdpProxyConfig } from '../../protos/generated/envoy/extensions/filters/udp/udp_proxy/v3/UdpProxyConfig';
import type { Route as UdpProxyRoute } from '../../protos/generated/envoy/extensions/filters/udp/udp_proxy/v3/Route';
import type { Router } from '../../protos/generated/envoy/extensions/filters/http/router/v3/Router';
import type { Cors } from '../../protos/generated/envoy/extensions/filters/http/cors/v3/Cors';
import type { CorsPolicy } from '../../protos/generated/envoy/extensions/filters/http/cors/v3/CorsPolicy';
import type { HTTPFault } from '../../protos/generated/envoy/extensions/filters/http/fault/v3/HTTPFault';
import type { LocalRateLimit } from '../../protos/generated/envoy/extensions/filters/http/local_ratelimit/v3/LocalRateLimit';
import type { StdoutAccessLog } from '../../protos/generated/envoy/extensions/access_loggers/stream/v3/StdoutAccessLog';
import type { TlsInspector } from '../../protos/generated/envoy/extensions/filters/listener/tls_inspector/v3/TlsInspector';
import type { DownstreamTlsContext } from '../../protos/generated/envoy/extensions/transport_sockets/tls/v3/DownstreamTlsContext';
import type { UpstreamTlsContext } from '../../protos/generated/envoy/extensions/transport_sockets/tls/v3/UpstreamTlsContext';
import type { HttpProtocolOptions } from '../../protos/generated/envoy/extensions/upstreams/http/v3/HttpProtocolOptions';

export interface EnvoyTypes {
  'envoy.config.cluster.v3.Cluster': Cluster;
  'envoy.config.endpoint.v3.ClusterLoadAssignment': ClusterLoadAssignment;
  'envoy.config.listener.v3.Listener': Listener;
  'envoy.config.route.v3.RouteConfiguration': RouteConfiguration;
  'envoy.extensions.transport_sockets.tls.v3.Secret': Secret;
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager': HttpConnectionManager;
  'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy': TcpProxy;
  'envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig': UdpProxyConfig;
  'envoy.extensions.filters.udp.udp_proxy.v3.Route': UdpProxyRoute;
  'envoy.extensions.filters.http.router.v3.Router': Router;
  'envoy.extensions.filters.http.cors.v3.Cors': Cors;
  'envoy.extensions.filters.http.cors.v3.CorsPolicy': CorsPolicy;
  'envoy.extensions.filters.http.fault.v3.HTTPFault': HTTPFault;
  'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit': LocalRateLimit;
  'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog': StdoutAccessLog;
  'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector': TlsInspector;
  'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext': DownstreamTlsContext;
  'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext': UpstreamTlsContext;
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': HttpProtocolOptions;
}

export type EnvoyTypeName = keyof EnvoyTypes;
export type { Cluster, ClusterLoadAssignment, Listener, RouteConfiguration, Secret, HttpConnectionManager };
export type { Route } from '../../protos/generated/envoy/config/route/v3/Route';
export type { VirtualHost } from '../../protos/generated/envoy/config/route/v3/VirtualHost';
export type { RouteMatch } from '../../protos/generated/envoy/config/route/v3/RouteMatch';
export type { RouteAction } from '../../protos/generated/envoy/config/route/v3/RouteAction';
export type { HeaderMatcher } from '../../protos/generated/envoy/config/route/v3/HeaderMatcher';
export type { WeightedCluster } from '../../protos/generated/envoy/config/route/v3/WeightedCluster';
export type { LbEndpoint } from '../../protos/generated/envoy/config/endpoint/v3/LbEndpoint';
export type { LocalityLbEndpoints } from '../../protos/generated/envoy/config/endpoint/v3/LocalityLbEndpoints';
export type { FilterChain } from '../../protos/generated/envoy/config/listener/v3/FilterChain';
export type { HttpFilter } from '../../protos/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpFilter';
export type { Any } from '../../protos/generated/google/protobuf/Any';
