// The Kubernetes resources Gantry's edge services read and write: for each kind, its group, the
// versions Gantry understands (the translator's, newest first: the first one the cluster serves is
// watched) and its plural, which the API paths need.
import { GANTRY_GROUP } from '../manifests/resources.ts';

export interface KubeKind {
  kind: string;
  group: string;
  versions: readonly string[];
  plural: string;
  namespaced: boolean;
  /** Has a status subresource the reporter writes. */
  status: boolean;
}

const GW = 'gateway.networking.k8s.io';
const GWX = 'gateway.networking.x-k8s.io';

/** Gantry's own Upstream (deploy/crds/gantry/upstreams.yaml); endpoint-discovery writes the discovered ones. */
export const UPSTREAM_KIND = {
  kind: 'Upstream', group: GANTRY_GROUP, versions: ['v1alpha1'], plural: 'upstreams', namespaced: true, status: true,
} as const satisfies KubeKind;
const GANTRY = 'gateway.gantry.dev';

/** What the watcher follows in full: every Gateway API kind the translator reads, and Namespaces (label selectors). */
export const WATCHED_KINDS: readonly KubeKind[] = [
  { kind: 'GatewayClass', group: GW, versions: ['v1', 'v1beta1'], plural: 'gatewayclasses', namespaced: false, status: true },
  { kind: 'Gateway', group: GW, versions: ['v1', 'v1beta1'], plural: 'gateways', namespaced: true, status: true },
  { kind: 'HTTPRoute', group: GW, versions: ['v1', 'v1beta1'], plural: 'httproutes', namespaced: true, status: true },
  { kind: 'GRPCRoute', group: GW, versions: ['v1'], plural: 'grpcroutes', namespaced: true, status: true },
  { kind: 'TLSRoute', group: GW, versions: ['v1', 'v1alpha3', 'v1alpha2'], plural: 'tlsroutes', namespaced: true, status: true },
  { kind: 'TCPRoute', group: GW, versions: ['v1', 'v1alpha2'], plural: 'tcproutes', namespaced: true, status: true },
  { kind: 'UDPRoute', group: GW, versions: ['v1', 'v1alpha2'], plural: 'udproutes', namespaced: true, status: true },
  { kind: 'ReferenceGrant', group: GW, versions: ['v1', 'v1beta1'], plural: 'referencegrants', namespaced: true, status: false },
  { kind: 'BackendTLSPolicy', group: GW, versions: ['v1', 'v1alpha3'], plural: 'backendtlspolicies', namespaced: true, status: true },
  { kind: 'ListenerSet', group: GW, versions: ['v1'], plural: 'listenersets', namespaced: true, status: true },
  { kind: 'XListenerSet', group: GWX, versions: ['v1alpha1'], plural: 'xlistenersets', namespaced: true, status: true },
  { kind: 'Namespace', group: '', versions: ['v1'], plural: 'namespaces', namespaced: false, status: false },
  // Gantry's own kinds. GatewayParameters: what the reporter provisions a Gateway's proxies with.
  { kind: 'GatewayParameters', group: GANTRY, versions: ['v1alpha1'], plural: 'gatewayparameters', namespaced: true, status: false },
  // Upstream: a route backend the translator reads (libs/translator/upstreams.ts); it reports Accepted.
  UPSTREAM_KIND,
  // Route, virtual host and listener options (libs/translator/option-objects.ts); each gets Accepted/Conflicted.
  { kind: 'RouteOption', group: GANTRY, versions: ['v1alpha1'], plural: 'routeoptions', namespaced: true, status: true },
  { kind: 'VirtualHostOption', group: GANTRY, versions: ['v1alpha1'], plural: 'virtualhostoptions', namespaced: true, status: true },
  { kind: 'ListenerOption', group: GANTRY, versions: ['v1alpha1'], plural: 'listeneroptions', namespaced: true, status: true },
];

/** What the secret watcher follows, publishing only the objects a Gateway or policy refers to. */
export const SECRET_KINDS: readonly KubeKind[] = [
  { kind: 'Secret', group: '', versions: ['v1'], plural: 'secrets', namespaced: true, status: false },
  { kind: 'ConfigMap', group: '', versions: ['v1'], plural: 'configmaps', namespaced: true, status: false },
];

/**
 * What endpoint-discovery follows: Services and their EndpointSlices (label kubernetes.io/service-name),
 * Namespaces (the per-namespace discovery switch) and Upstreams (the discovered ones it writes, and
 * hand-written ones whose names it must leave alone).
 */
export const ENDPOINT_KINDS = {
  service: { kind: 'Service', group: '', versions: ['v1'], plural: 'services', namespaced: true, status: false },
  endpointSlice: { kind: 'EndpointSlice', group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', namespaced: true, status: false },
  namespace: WATCHED_KINDS.find((k) => k.kind === 'Namespace')!,
  upstream: UPSTREAM_KIND,
} as const satisfies Record<string, KubeKind>;

/** What the reporter's Gateway provisioning watches (only its own objects, by label): rollout and address state. */
export const PROVISIONED_KINDS = {
  deployment: { kind: 'Deployment', group: 'apps', versions: ['v1'], plural: 'deployments', namespaced: true, status: false },
  service: ENDPOINT_KINDS.service,
} as const satisfies Record<string, KubeKind>;

export const kindByName = (kind: string): KubeKind | undefined => [...WATCHED_KINDS, ...SECRET_KINDS].find((k) => k.kind === kind);

export const apiVersionOf = (k: KubeKind, version: string) => (k.group ? `${k.group}/${version}` : version);

/** The path of a kind's collection across all namespaces (list and watch). */
export function collectionPath(k: KubeKind, version: string): string {
  return `${k.group ? `/apis/${k.group}` : '/api'}/${version}/${k.plural}`;
}
