// The Kubernetes objects that run a Gateway's Envoy proxies (pure): a ServiceAccount, a ConfigMap
// with the Envoy bootstrap, a Deployment and a Service, all named `<gateway>-gantry` in the
// Gateway's namespace (Istio's `<gateway>-<class>` form: the suffix keeps them clear of a user's own
// Service named like the Gateway), owned by the Gateway so Kubernetes removes them with it, and
// labelled so the reporter finds its own objects and nobody else's.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { ResolvedParameters } from './parameters.ts';

export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'gantry' } as const;
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
/** The hash of what Gantry wants an object to be: equal hashes, nothing to write. */
export const SPEC_HASH_ANNOTATION = 'gateway.gantry.dev/spec-hash';
/** Selects every object the provisioner manages (its informers' label selector). */
export const MANAGED_SELECTOR = `${MANAGED_BY.key}=${MANAGED_BY.value}`;

export const ENVOY_ADMIN_PORT = 19000;
/** A static listener answering kubelet's readiness probe with Envoy's admin /ready (admin stays on loopback). */
export const ENVOY_READY_PORT = 19001;

export interface GatewayInfrastructureInput {
  namespace: string;
  name: string;
  uid: string;
  className: string;
  /** The Gateway's listeners: each distinct port and transport becomes a Service port. */
  listeners: ReadonlyArray<{ port: number; protocol: string }>;
  /** spec.infrastructure: put on every object and on the pods. */
  infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  parameters: ResolvedParameters;
}

export interface XdsTarget {
  /** The xds-server's address as the proxies reach it (a DNS name or IP). */
  address: string;
  port: number;
}

export type KubeObject = Record<string, any> & { apiVersion: string; kind: string; metadata: Record<string, any> };

const hash = (value: unknown, length = 16) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);

/** A DNS-1035 label (what Service names must be), from `base`, shortened with a hash when needed. */
function dnsLabel(base: string): string {
  const cleaned = base.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  if (cleaned === base && cleaned.length <= 63) return cleaned;
  return `${cleaned.slice(0, 54).replace(/-+$/, '') || 'gw'}-${hash(base, 8)}`;
}

/** A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(value: string): string {
  if (value.length <= 63 && /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(value)) return value;
  return `${value.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${hash(value, 8)}`;
}

/** The name of every object of a Gateway's proxies. */
export const proxyObjectName = (gatewayName: string) => dnsLabel(`${gatewayName}-gantry`);

/** The Envoy bootstrap: node.cluster names the Gateway (libs/xds-server/node.ts), everything else comes over ADS. */
export function envoyBootstrap(namespace: string, gateway: string, xds: XdsTarget): Record<string, unknown> {
  const adminCluster = 'gantry-envoy-admin';
  return {
    // node.id comes from `--service-node $(POD_NAME)`, so each proxy reports as its pod.
    node: { cluster: `${namespace}/${gateway}` },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'gantry-xds' } }] },
      lds_config: { ads: {}, resource_api_version: 'V3' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [
        {
          name: 'gantry-xds', type: 'STRICT_DNS', connect_timeout: '5s', dns_lookup_family: 'V4_PREFERRED',
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } } },
            },
          },
          load_assignment: { cluster_name: 'gantry-xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: xds.address, port_value: xds.port } } } }] }] },
        },
        {
          name: adminCluster, type: 'STATIC', connect_timeout: '1s',
          load_assignment: { cluster_name: adminCluster, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: ENVOY_ADMIN_PORT } } } }] }] },
        },
      ],
      listeners: [{
        name: 'gantry-readiness',
        address: { socket_address: { address: '0.0.0.0', port_value: ENVOY_READY_PORT } },
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'gantry-readiness',
              route_config: {
                name: 'gantry-readiness',
                virtual_hosts: [{
                  name: 'readiness', domains: ['*'],
                  routes: [{ match: { path: '/ready', headers: [{ name: ':method', string_match: { exact: 'GET' } }] }, route: { cluster: adminCluster } }],
                }],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
            },
          }],
        }],
      }],
    },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: ENVOY_ADMIN_PORT } } },
    overload_manager: {
      resource_monitors: [{
        name: 'envoy.resource_monitors.global_downstream_max_connections',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig',
          max_active_downstream_connections: 50000,
        },
      }],
    },
  };
}

/** Distinct (port, transport) pairs of the listeners, in port order: UDPRoute listeners are UDP, the rest TCP. */
export function servicePorts(listeners: GatewayInfrastructureInput['listeners']): Array<{ name: string; port: number; protocol: 'TCP' | 'UDP' }> {
  const seen = new Map<string, { name: string; port: number; protocol: 'TCP' | 'UDP' }>();
  for (const l of listeners) {
    const protocol = l.protocol === 'UDP' ? 'UDP' : 'TCP';
    const key = `${protocol}/${l.port}`;
    if (!seen.has(key)) seen.set(key, { name: `${protocol.toLowerCase()}-${l.port}`, port: l.port, protocol });
  }
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/**
 * What a Gateway's proxies are, as Kubernetes objects, each carrying the hash of its own content
 * (SPEC_HASH_ANNOTATION) so a later pass writes only what changed. The Deployment's pod template
 * carries the bootstrap's hash: a new bootstrap rolls the pods.
 */
export function gatewayInfrastructure(input: GatewayInfrastructureInput, xds: XdsTarget): KubeObject[] {
  const { namespace, parameters: p } = input;
  const name = proxyObjectName(input.name);
  const infraLabels = input.infrastructure?.labels ?? {};
  const infraAnnotations = input.infrastructure?.annotations ?? {};
  const selector = { 'app.kubernetes.io/name': 'gantry-proxy', 'app.kubernetes.io/instance': name };
  const labels = {
    ...infraLabels, ...selector,
    [MANAGED_BY.key]: MANAGED_BY.value,
    [GATEWAY_NAME_LABEL]: labelValue(input.name),
    [GATEWAY_CLASS_LABEL]: labelValue(input.className),
  };
  const meta = (extraLabels: Record<string, string> = {}, extraAnnotations: Record<string, string> = {}) => ({
    name, namespace,
    labels: { ...extraLabels, ...labels },
    annotations: { ...infraAnnotations, ...extraAnnotations },
    ownerReferences: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: input.name, uid: input.uid, controller: true, blockOwnerDeletion: false }],
  });
  const bootstrap = stringify(envoyBootstrap(namespace, input.name, xds), { lineWidth: 0 });
  const ports = servicePorts(input.listeners);

  const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(), automountServiceAccountToken: false };
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(), data: { 'envoy.yaml': bootstrap } };
  const args = ['-c', '/etc/envoy/envoy.yaml', '--service-node', '$(POD_NAME)', '--log-level', p.envoy.logLevel, '--drain-time-s', '15'];
  if (p.envoy.concurrency !== undefined) args.push('--concurrency', String(p.envoy.concurrency));
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(),
    spec: {
      replicas: p.deployment.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...infraLabels, ...p.deployment.podLabels, ...labels },
          annotations: { ...infraAnnotations, ...p.deployment.podAnnotations, 'gateway.gantry.dev/bootstrap-hash': hash(bootstrap) },
        },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          // Listener ports below 1024 without root or NET_BIND_SERVICE (a namespaced, safe sysctl).
          securityContext: {
            runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' },
            sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
          },
          ...(p.deployment.nodeSelector ? { nodeSelector: p.deployment.nodeSelector } : {}),
          ...(p.deployment.tolerations ? { tolerations: p.deployment.tolerations } : {}),
          containers: [{
            name: 'envoy',
            image: p.envoy.image,
            args,
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ports: [
              ...ports.map((sp) => ({ name: `${sp.protocol === 'UDP' ? 'u' : 't'}${sp.port}`, containerPort: sp.port, protocol: sp.protocol })),
              { name: 'ready', containerPort: ENVOY_READY_PORT, protocol: 'TCP' },
            ],
            readinessProbe: { httpGet: { path: '/ready', port: 'ready' }, periodSeconds: 5, failureThreshold: 1 },
            // Envoy fails readiness while draining; give the load balancer time to notice first.
            lifecycle: { preStop: { sleep: { seconds: 10 } } },
            resources: p.deployment.resources,
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'bootstrap', mountPath: '/etc/envoy', readOnly: true }],
          }],
          volumes: [{ name: 'bootstrap', configMap: { name } }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1', kind: 'Service', metadata: meta(p.service.labels, p.service.annotations),
    spec: {
      type: p.service.type,
      selector,
      ports: ports.map((sp) => ({ name: sp.name, port: sp.port, targetPort: sp.port, protocol: sp.protocol })),
      ...(p.service.type !== 'ClusterIP' && p.service.externalTrafficPolicy ? { externalTrafficPolicy: p.service.externalTrafficPolicy } : {}),
      ...(p.service.type === 'LoadBalancer' && p.service.loadBalancerClass ? { loadBalancerClass: p.service.loadBalancerClass } : {}),
      ...(p.service.type === 'LoadBalancer' && p.service.loadBalancerSourceRanges ? { loadBalancerSourceRanges: p.service.loadBalancerSourceRanges } : {}),
    },
  };
  return [serviceAccount, configMap, deployment, service].map(withSpecHash);
}

function withSpecHash(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [SPEC_HASH_ANNOTATION]: hash(o) } } };
}
