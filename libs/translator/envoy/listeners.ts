// Envoy listeners of one Gateway: a socket listener per HTTP port, and the API listener template that
// proxyless gRPC clients get for the same port.
import { pack } from '../../xds/encode.ts';
import type { Listener } from '../../xds/types.ts';
import type { Filter } from '../../../protos/generated/envoy/config/listener/v3/Filter.ts';
import type { HttpPortIR } from '../ir.ts';
import { grpcRouteConfigName, httpListenerName, routeConfigName, statPrefix } from '../names.ts';
import { httpConnectionManager } from './common.ts';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The network filters of an HTTP filter chain: the connection manager, its routes from RDS. */
export function httpFilters(port: number, routeConfig: string): Filter[] {
  return [{ name: 'envoy.filters.network.http_connection_manager', typed_config: pack(HCM, httpConnectionManager(statPrefix(port), routeConfig)) }];
}

export function socketListener(gateway: string, port: HttpPortIR): Listener {
  return {
    name: httpListenerName(gateway, port.port),
    address: { socket_address: { address: '0.0.0.0', port_value: port.port } },
    filter_chains: [{ filters: httpFilters(port.port, routeConfigName(gateway, port.port)) }],
  };
}

/** Named later, by hostname, when a gRPC client asks for "xds:///<host>". */
export function apiListenerTemplate(gateway: string, port: HttpPortIR): Listener {
  return {
    name: '',
    api_listener: { api_listener: pack(HCM, httpConnectionManager(statPrefix(port.port), grpcRouteConfigName(gateway, port.port), { grpcClient: true })) },
  };
}
