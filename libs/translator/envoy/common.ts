// Pieces shared by the socket listeners and the proxyless gRPC API listeners.
import { pack } from '../../xds/encode.ts';
import type { HttpConnectionManager } from '../../xds/types.ts';
import type { ConfigSource } from '../../../protos/generated/envoy/config/core/v3/ConfigSource.ts';

/** Everything comes over the one ADS stream the proxy (or gRPC client) opened. */
export function adsConfigSource(): ConfigSource {
  return { ads: {}, resource_api_version: 'V3' };
}

/**
 * An HTTP connection manager taking its routes from RDS. The port is stripped from Host before
 * virtual host matching, so "example.com:8080" finds the "example.com" virtual host.
 */
export function httpConnectionManager(statPrefix: string, routeConfigName: string): HttpConnectionManager {
  return {
    stat_prefix: statPrefix,
    rds: { config_source: adsConfigSource(), route_config_name: routeConfigName },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
    strip_any_host_port: true,
  };
}
