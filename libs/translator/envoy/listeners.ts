// Envoy listeners of one Gateway: a socket listener per HTTP port, and the API listener template that
// proxyless gRPC clients get for the same port.
import { pack } from '../../xds/encode.ts';
import type { Listener } from '../../xds/types.ts';
import type { Filter } from '../../../protos/generated/envoy/config/listener/v3/Filter.ts';
import type { HttpPortIR } from '../ir.ts';
import type { ListenerOptionsIR } from '../options.ts';
import { grpcRouteConfigName, httpListenerName, routeConfigName, statPrefix } from '../names.ts';
import { httpConnectionManager } from './common.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The network filters of an HTTP filter chain: the connection manager (with the port's ListenerOptions), its routes from RDS. */
export function httpFilters(port: number, routeConfig: string, options?: ListenerOptionsIR): Filter[] {
  const hcm = httpConnectionManager(statPrefix(port), routeConfig, options ? { listener: options } : {});
  return [{ name: 'envoy.filters.network.http_connection_manager', typed_config: pack(HCM, hcm) }];
}

/** A ListenerOption's per-connection buffer limit on an Envoy listener of the port. */
export function withBufferLimit(listener: Listener, options: ListenerOptionsIR | undefined): Listener {
  if (options?.perConnectionBufferLimitBytes !== undefined) listener.per_connection_buffer_limit_bytes = { value: options.perConnectionBufferLimitBytes };
  return listener;
}

export function socketListener(gateway: string, port: HttpPortIR): Listener {
  return withBufferLimit({
    name: httpListenerName(gateway, port.port),
    address: { socket_address: { address: '0.0.0.0', port_value: port.port } },
    filter_chains: [{ filters: httpFilters(port.port, routeConfigName(gateway, port.port), port.listenerOptions) }],
  }, port.listenerOptions);
}

/** Named later, by hostname, when a gRPC client asks for "xds:///<host>". */
export function apiListenerTemplate(gateway: string, port: HttpPortIR): Listener {
  return {
    name: '',
    api_listener: { api_listener: pack(HCM, httpConnectionManager(statPrefix(port.port), grpcRouteConfigName(gateway, port.port), { grpcClient: true })) },
  };
}
