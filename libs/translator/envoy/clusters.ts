// IR clusters → Envoy clusters, their ClusterLoadAssignments (EDS) and the SDS Secrets their TLS
// presents. A Service port or a Kube Upstream is an EDS cluster; a Static Upstream holds its hosts
// in the cluster: STATIC when every address is an IP, STRICT_DNS otherwise (an IP literal resolves
// to itself), each host weighted. Proxyless gRPC clients support EDS and LOGICAL_DNS clusters only,
// so a Static Upstream serves Envoy, not them.
import { isIP } from 'node:net';
import { pack } from '../../xds/encode.ts';
import type { Cluster, ClusterLoadAssignment, LocalityLbEndpoints, Secret } from '../../xds/types.ts';
import type { ClusterEndpointIR, ClusterIR, StaticHostIR } from '../ir.ts';
import { UNAVAILABLE_CLUSTER } from '../names.ts';
import { adsConfigSource, duration } from './common.ts';
import { certificateSecret, upstreamTransportSocket } from './tls.ts';

const CONNECT_TIMEOUT = { seconds: 5 };

/** A Static Upstream's hosts, as the cluster's own load assignment: one locality, weights per host. */
function staticAssignment(name: string, hosts: StaticHostIR[]): ClusterLoadAssignment {
  return {
    cluster_name: name,
    endpoints: [{
      lb_endpoints: hosts.map((h) => ({
        endpoint: { address: { socket_address: { address: h.address, port_value: h.port } } },
        load_balancing_weight: { value: h.weight },
      })),
    }],
  };
}

function discovery(ir: Pick<ClusterIR, 'name' | 'hosts'>): Cluster {
  if (!ir.hosts) return { name: ir.name, type: 'EDS', eds_cluster_config: { eds_config: adsConfigSource(), service_name: ir.name } };
  if (ir.hosts.every((h) => isIP(h.address) !== 0)) return { name: ir.name, type: 'STATIC', load_assignment: staticAssignment(ir.name, ir.hosts) };
  // IPv4 first, IPv6 when a name has no A record: Envoy's default (AUTO) tries IPv6 first, which fails
  // on the many networks that resolve AAAA records they cannot route.
  return { name: ir.name, type: 'STRICT_DNS', dns_lookup_family: 'V4_PREFERRED', load_assignment: staticAssignment(ir.name, ir.hosts) };
}

export function envoyCluster(ir: Pick<ClusterIR, 'name' | 'http2' | 'hosts' | 'connectTimeoutMs' | 'tls'>): Cluster {
  const cluster: Cluster = {
    ...discovery(ir),
    lb_policy: 'ROUND_ROBIN',
    connect_timeout: ir.connectTimeoutMs === undefined ? CONNECT_TIMEOUT : duration(ir.connectTimeoutMs),
  };
  if (ir.http2) {
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': pack('envoy.extensions.upstreams.http.v3.HttpProtocolOptions', {
        explicit_http_config: { http2_protocol_options: {} },
      }),
    };
  }
  if (ir.tls) cluster.transport_socket = upstreamTransportSocket({ ...ir.tls, clientCertificate: ir.tls.clientCertificate?.name });
  return cluster;
}

/** The EDS resources of `clusters`: those whose endpoints are not in the cluster itself. */
export function loadAssignments(clusters: ClusterIR[]): ClusterLoadAssignment[] {
  return clusters.filter((c) => !c.hosts).map(loadAssignment);
}

/** The client certificates the clusters' TLS presents, as SDS Secrets, once each, by name. */
export function clusterSecrets(clusters: ClusterIR[]): Secret[] {
  const byName = new Map<string, Secret>();
  for (const c of clusters) {
    const cert = c.tls?.clientCertificate;
    if (cert && !byName.has(cert.name)) byName.set(cert.name, certificateSecret(cert));
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!);
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

function loadAssignment(ir: Pick<ClusterIR, 'name' | 'endpoints'>): ClusterLoadAssignment {
  return { cluster_name: ir.name, endpoints: localities(ir.endpoints) };
}

/** The cluster without endpoints that failing traffic is sent to (see names.ts). */
export const unavailableCluster: ClusterIR = { name: UNAVAILABLE_CLUSTER, http2: false, endpoints: [] };
