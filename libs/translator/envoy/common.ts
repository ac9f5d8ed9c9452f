// Pieces shared by the socket listeners and the proxyless gRPC API listeners.
import { pack } from '../../xds/encode.ts';
import type { HttpConnectionManager } from '../../xds/types.ts';
import type { ConfigSource } from '../../../protos/generated/envoy/config/core/v3/ConfigSource.ts';
import type { ListenerOptionsIR } from '../options.ts';

/** Everything comes over the one ADS stream the proxy (or gRPC client) opened. */
export function adsConfigSource(): ConfigSource {
  return { ads: {}, resource_api_version: 'V3' };
}

/** A protobuf Duration of `ms` milliseconds. */
export function duration(ms: number): { seconds: number; nanos?: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return nanos ? { seconds, nanos } : { seconds };
}

/** The fault filter: proxyless gRPC clients run it, and the gRPC route variants use it to fail calls. */
export const FAULT_FILTER = 'envoy.filters.http.fault';
export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';

/**
 * A ListenerOption's connection manager settings and access log. Envoy's access log to stdout uses
 * its default format.
 */
function withListenerOptions(hcm: HttpConnectionManager, o: ListenerOptionsIR): HttpConnectionManager {
  const h = o.httpConnectionManager;
  if (h?.idleTimeoutMs !== undefined) hcm.common_http_protocol_options = { idle_timeout: duration(h.idleTimeoutMs) };
  if (h?.streamIdleTimeoutMs !== undefined) hcm.stream_idle_timeout = duration(h.streamIdleTimeoutMs);
  if (h?.requestTimeoutMs !== undefined) hcm.request_timeout = duration(h.requestTimeoutMs);
  if (h?.useRemoteAddress !== undefined) hcm.use_remote_address = { value: h.useRemoteAddress };
  if (h?.xffNumTrustedHops !== undefined) hcm.xff_num_trusted_hops = h.xffNumTrustedHops;
  if (h?.serverName !== undefined) hcm.server_name = h.serverName;
  if (h?.serverHeaderTransformation !== undefined) hcm.server_header_transformation = h.serverHeaderTransformation;
  if (h?.maxRequestHeadersKb !== undefined) hcm.max_request_headers_kb = { value: h.maxRequestHeadersKb };
  if (o.accessLog?.stdout) {
    hcm.access_log = [{ name: 'envoy.access_loggers.stdout', typed_config: pack('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', {}) }];
  }
  return hcm;
}

/**
 * An HTTP connection manager taking its routes from RDS. The port is stripped from Host before
 * virtual host matching, so "example.com:8080" finds the "example.com" virtual host. `listener`:
 * the port's ListenerOptions (Envoy's listeners only; proxyless gRPC clients have no connections of
 * the gateway's to tune).
 */
export function httpConnectionManager(
  statPrefix: string, routeConfigName: string, opts: { grpcClient?: boolean; listener?: ListenerOptionsIR } = {},
): HttpConnectionManager {
  const fault = { name: FAULT_FILTER, typed_config: pack('envoy.extensions.filters.http.fault.v3.HTTPFault', {}) };
  const hcm: HttpConnectionManager = {
    stat_prefix: statPrefix,
    rds: { config_source: adsConfigSource(), route_config_name: routeConfigName },
    http_filters: [
      // For proxyless gRPC: inert unless a route of the gRPC variant aborts the call (grpc-variant.ts)
      // or carries a RouteOption's faults.
      ...(opts.grpcClient ? [fault] : []),
      // Inert unless a route carries a CorsPolicy (HTTPRoute CORS filter, envoy/route-filters.ts).
      // Optional, so that proxyless gRPC clients, which do not know it, skip it instead of NACKing.
      { name: 'envoy.filters.http.cors', typed_config: pack('envoy.extensions.filters.http.cors.v3.Cors', {}), is_optional: true },
      // Envoy's: inert unless a route or virtual host carries a LocalRateLimit or HTTPFault (RouteOption,
      // VirtualHostOption). Proxyless gRPC has no local rate limit: its variant drops those configurations.
      ...(opts.grpcClient ? [] : [
        { name: LOCAL_RATE_LIMIT_FILTER, typed_config: pack('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', { stat_prefix: 'local_rate_limit' }) },
        fault,
      ]),
      { name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) },
    ],
    strip_any_host_port: true,
    // WebSocket upgrades pass through to backends (appProtocol kubernetes.io/ws, HTTPRouteBackendProtocolWebSocket).
    upgrade_configs: [{ upgrade_type: 'websocket' }],
  };
  return opts.listener ? withListenerOptions(hcm, opts.listener) : hcm;
}
