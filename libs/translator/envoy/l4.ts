// IR TCP/UDP ports → Envoy listeners. TCP: one filter chain with tcp_proxy (weighted_clusters when
// the route splits traffic). UDP: a UDP socket (udp_listener_config) whose udp_proxy listener filter
// routes every session, through a matcher with only on_no_match, to one cluster.
import { pack } from '../../xds/encode.ts';
import type { Listener } from '../../xds/types.ts';
import type { L4PortIR } from '../l4-routes.ts';
import { tcpListenerName, udpListenerName } from '../names.ts';

const TCP_PROXY = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const UDP_PROXY = 'envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig';
const UDP_ROUTE = 'envoy.extensions.filters.udp.udp_proxy.v3.Route';

export function tcpListener(gateway: string, port: L4PortIR): Listener {
  const statPrefix = `tcp-${port.port}`;
  const route = port.clusters.length === 1
    ? { cluster: port.clusters[0].cluster }
    : { weighted_clusters: { clusters: port.clusters.map(({ cluster, weight }) => ({ name: cluster, weight })) } };
  return {
    name: tcpListenerName(gateway, port.port),
    address: { socket_address: { address: '0.0.0.0', port_value: port.port } },
    filter_chains: [
      { filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: pack(TCP_PROXY, { stat_prefix: statPrefix, ...route }) }] },
    ],
  };
}

/**
 * udp_proxy routes a session to a single cluster: a UDPRoute splitting traffic between backends is
 * served by its heaviest one (ties: the first listed).
 */
export function udpListener(gateway: string, port: L4PortIR): Listener {
  const target = port.clusters.reduce((best, c) => (c.weight > best.weight ? c : best));
  return {
    name: udpListenerName(gateway, port.port),
    address: { socket_address: { protocol: 'UDP', address: '0.0.0.0', port_value: port.port } },
    udp_listener_config: {},
    listener_filters: [
      {
        name: 'envoy.filters.udp_listener.udp_proxy',
        typed_config: pack(UDP_PROXY, {
          stat_prefix: `udp-${port.port}`,
          matcher: { on_no_match: { action: { name: 'route', typed_config: pack(UDP_ROUTE, { cluster: target.cluster }) } } },
        }),
      },
    ],
  };
}

export function l4Listener(gateway: string, port: L4PortIR): Listener {
  return port.protocol === 'TCP' ? tcpListener(gateway, port) : udpListener(gateway, port);
}
