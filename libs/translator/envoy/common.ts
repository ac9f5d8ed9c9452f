// Pieces shared by the socket listeners and the proxyless gRPC API listeners.
import { pack } from '../../xds/encode.ts';
import type { HttpConnectionManager } from '../../xds/types.ts';
import type { ConfigSource } from '../../../protos/generated/envoy/config/core/v3/ConfigSource.ts';

/** Everything comes over the one ADS stream the proxy (or gRPC client) opened. */
export function adsConfigSource(): ConfigSource {
  return { ads: {}, resource_api_version: 'V3' };
}

/** The fault filter: proxyless gRPC clients run it, and the gRPC route variants use it to fail calls. */
export const FAULT_FILTER = 'envoy.filters.http.fault';

/**
 * An HTTP connection manager taking its routes from RDS. The port is stripped from Host before
 * virtual host matching, so "example.com:8080" finds the "example.com" virtual host.
 */
export function httpConnectionManager(statPrefix: string, routeConfigName: string, opts: { grpcClient?: boolean } = {}): HttpConnectionManager {
  return {
    stat_prefix: statPrefix,
    rds: { config_source: adsConfigSource(), route_config_name: routeConfigName },
    http_filters: [
      // For proxyless gRPC: inert unless a route of the gRPC variant aborts the call (grpc-variant.ts).
      ...(opts.grpcClient ? [{ name: FAULT_FILTER, typed_config: pack('envoy.extensions.filters.http.fault.v3.HTTPFault', {}) }] : []),
      // Inert unless a route carries a CorsPolicy (HTTPRoute CORS filter, envoy/route-filters.ts).
      // Optional, so that proxyless gRPC clients, which do not know it, skip it instead of NACKing.
      { name: 'envoy.filters.http.cors', typed_config: pack('envoy.extensions.filters.http.cors.v3.Cors', {}), is_optional: true },
      { name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) },
    ],
    strip_any_host_port: true,
    // WebSocket upgrades pass through to backends (appProtocol kubernetes.io/ws, HTTPRouteBackendProtocolWebSocket).
    upgrade_configs: [{ upgrade_type: 'websocket' }],
  };
}
