// IR clusters → Envoy EDS clusters and their ClusterLoadAssignments.
import { isIP } from 'node:net';
import { pack } from '../../xds/encode.ts';
import type { Cluster, ClusterLoadAssignment, LocalityLbEndpoints } from '../../xds/types.ts';
import type { ClusterEndpointIR, ClusterIR } from '../ir.ts';
import { UNAVAILABLE_CLUSTER } from '../names.ts';
import { adsConfigSource } from './common.ts';

const CONNECT_TIMEOUT = { seconds: 5 };

export function edsCluster(ir: Pick<ClusterIR, 'name' | 'http2'>): Cluster {
  const cluster: Cluster = {
    name: ir.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource(), service_name: ir.name },
    lb_policy: 'ROUND_ROBIN',
    connect_timeout: CONNECT_TIMEOUT,
  };
  if (ir.http2) {
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': pack('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    };
  }
  return cluster;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Endpoints grouped by member cluster (region) and zone. Every locality carries a weight: proxyless
 * gRPC drops localities without one. Hostnames are left out, as EDS wants addresses.
 */
function localities(endpoints: ClusterEndpointIR[]): LocalityLbEndpoints[] {
  const groups = new Map<string, { region: string; zone: string; addresses: Map<string, ClusterEndpointIR> }>();
  for (const ep of endpoints) {
    if (isIP(ep.address) === 0) continue;
    const zone = ep.zone ?? '';
    const key = `${ep.cluster}\0${zone}`;
    if (!groups.has(key)) groups.set(key, { region: ep.cluster, zone, addresses: new Map() });
    groups.get(key)!.addresses.set(`${ep.address}\0${ep.port}`, ep);
  }
  return [...groups.keys()].sort(byString).map((key) => {
    const { region, zone, addresses } = groups.get(key)!;
    return {
      locality: zone ? { region, zone } : { region },
      load_balancing_weight: { value: 1 },
      lb_endpoints: [...addresses.keys()].sort(byString).map((k) => {
        const ep = addresses.get(k)!;
        return { endpoint: { address: { socket_address: { address: ep.address, port_value: ep.port } } } };
      }),
    };
  });
}

export function loadAssignment(ir: Pick<ClusterIR, 'name' | 'endpoints'>): ClusterLoadAssignment {
  return { cluster_name: ir.name, endpoints: localities(ir.endpoints) };
}

/** The cluster without endpoints that failing traffic is sent to (see names.ts). */
export const unavailableCluster: ClusterIR = { name: UNAVAILABLE_CLUSTER, http2: false, endpoints: [] };
