// The Envoy listener of a port that carries TLS: a tls_inspector reads the SNI, and one filter chain
// per server name either terminates TLS and runs an HTTP connection manager (with the route
// configuration of the chain's listener), or proxies TCP.
import { pack } from '../../xds/encode.ts';
import type { FilterChain, Listener } from '../../xds/types.ts';
import type { Filter } from '../../../protos/generated/envoy/config/listener/v3/Filter.ts';
import type { FilterChainIR, TlsPortIR } from '../tls-routes.ts';
import { downstreamTransportSocket, tlsInspector } from './tls.ts';

/** "<ns>/<gateway>/tls-<port>": the listener of a port with HTTPS or TLS listeners. */
export function tlsListenerName(gateway: string, port: number): string {
  return `${gateway}/tls-${port}`;
}

function tcpProxy(chain: FilterChainIR & { action: { type: 'tcp' } }, port: number): Filter {
  const { clusters } = chain.action;
  const target = clusters.length === 1
    ? { cluster: clusters[0].cluster }
    : { weighted_clusters: { clusters: clusters.map((c) => ({ name: c.cluster, weight: c.weight })) } };
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: pack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', { stat_prefix: `tls-${port}`, ...target }),
  };
}

/**
 * `httpFilters(chain)` are the network filters of an HTTPS chain (the connection manager, with the
 * chain's own route configuration); an empty list leaves the chain out. Undefined when the port has
 * no chain.
 */
export function tlsSocketListener(gateway: string, port: TlsPortIR, httpFilters: (chain: FilterChainIR) => Filter[]): Listener | undefined {
  const chains: FilterChain[] = [];
  for (const chain of port.chains) {
    const filters = chain.action.type === 'http' ? httpFilters(chain) : [tcpProxy(chain as FilterChainIR & { action: { type: 'tcp' } }, port.port)];
    if (filters.length === 0) continue;
    const out: FilterChain = { name: chain.name, filters };
    if (chain.serverNames.length > 0) out.filter_chain_match = { server_names: chain.serverNames };
    if (chain.downstream) out.transport_socket = downstreamTransportSocket(chain.downstream);
    chains.push(out);
  }
  if (chains.length === 0) return undefined;
  return {
    name: tlsListenerName(gateway, port.port),
    address: { socket_address: { address: '0.0.0.0', port_value: port.port } },
    listener_filters: [tlsInspector],
    filter_chains: chains,
  };
}
