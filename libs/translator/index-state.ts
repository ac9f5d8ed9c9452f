// The inputs indexed by kind and namespace/name, each object parsed once. Objects of all member
// clusters share one namespace space: on a duplicate kind/namespace/name the object of the cluster
// whose id sorts first wins, so the outcome does not depend on arrival order.
import type { z } from 'zod';
import type { Endpoint } from '../contracts/envelopes.ts';
import type { KubeObject, ObjectIdentity, ServiceEndpoints, StoredObject, TranslatorInput } from './api.ts';

export type { ObjectIdentity } from './api.ts';
import {
  GATEWAY_GROUP, Gateway, GatewayClass, GRPCRoute, HTTPRoute, Namespace, ReferenceGrant, parseObject, type Parsed,
} from './objects.ts';
import { BackendTLSPolicy, ConfigMap, Secret, TLSRoute } from './tls-objects.ts';
import { TCPRoute, UDPRoute } from './l4-objects.ts';
import { ListenerSet } from './listener-set-objects.ts';


export interface ObjectRecord<T> {
  id: ObjectIdentity;
  object: KubeObject;
  parsed: Parsed<T>;
}

export interface ServicePortState {
  port: number;
  name: string;
  appProtocol?: string;
  /** Ready endpoints of every member cluster, each tagged with its cluster. */
  endpoints: Array<Endpoint & { cluster: string }>;
}

export interface ServiceState {
  namespace: string;
  name: string;
  ports: Map<number, ServicePortState>;
}

export interface TranslatorState {
  gatewayClasses: Map<string, ObjectRecord<GatewayClass>>;
  gateways: Map<string, ObjectRecord<Gateway>>;
  httpRoutes: Map<string, ObjectRecord<HTTPRoute>>;
  grpcRoutes: Map<string, ObjectRecord<GRPCRoute>>;
  tlsRoutes: Map<string, ObjectRecord<TLSRoute>>;
  tcpRoutes: Map<string, ObjectRecord<TCPRoute>>;
  udpRoutes: Map<string, ObjectRecord<UDPRoute>>;
  /** ListenerSets and XListenerSets, by "<kind>/<namespace>/<name>". */
  listenerSets: Map<string, ObjectRecord<ListenerSet>>;
  backendTLSPolicies: Map<string, ObjectRecord<BackendTLSPolicy>>;
  /** Core Secrets and ConfigMaps (certificates, CA bundles), by "<namespace>/<name>". */
  secrets: Map<string, ObjectRecord<Secret>>;
  configMaps: Map<string, ObjectRecord<ConfigMap>>;
  /** Valid ReferenceGrants by the namespace they grant access into. */
  referenceGrants: Map<string, ReferenceGrant[]>;
  /** Namespace labels by namespace name. */
  namespaceLabels: Map<string, Record<string, string>>;
  services: Map<string, ServiceState>;
}

interface KindSpec {
  versions: string[];
  namespaced: boolean;
  schema: z.ZodType<unknown>;
}

const GW = (v: string) => `${GATEWAY_GROUP}/${v}`;

// The served versions the translator understands; other versions of these kinds are not ours to read.
const KINDS: Record<string, KindSpec> = {
  GatewayClass: { versions: [GW('v1'), GW('v1beta1')], namespaced: false, schema: GatewayClass },
  Gateway: { versions: [GW('v1'), GW('v1beta1')], namespaced: true, schema: Gateway },
  HTTPRoute: { versions: [GW('v1'), GW('v1beta1')], namespaced: true, schema: HTTPRoute },
  GRPCRoute: { versions: [GW('v1')], namespaced: true, schema: GRPCRoute },
  ReferenceGrant: { versions: [GW('v1'), GW('v1beta1')], namespaced: true, schema: ReferenceGrant },
  Namespace: { versions: ['v1'], namespaced: false, schema: Namespace },
  TLSRoute: { versions: [GW('v1'), GW('v1alpha3'), GW('v1alpha2')], namespaced: true, schema: TLSRoute },
  BackendTLSPolicy: { versions: [GW('v1'), GW('v1alpha3')], namespaced: true, schema: BackendTLSPolicy },
  Secret: { versions: ['v1'], namespaced: true, schema: Secret },
  ConfigMap: { versions: ['v1'], namespaced: true, schema: ConfigMap },
  TCPRoute: { versions: [GW('v1'), GW('v1alpha2')], namespaced: true, schema: TCPRoute },
  UDPRoute: { versions: [GW('v1'), GW('v1alpha2')], namespaced: true, schema: UDPRoute },
  ListenerSet: { versions: [GW('v1')], namespaced: true, schema: ListenerSet },
  XListenerSet: { versions: ['gateway.networking.x-k8s.io/v1alpha1'], namespaced: true, schema: ListenerSet },
};

export function objectKey(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function identify(stored: StoredObject, spec: KindSpec): ObjectIdentity {
  const { metadata } = stored.object;
  return {
    cluster: stored.origin.cluster,
    apiVersion: stored.object.apiVersion,
    kind: stored.object.kind,
    namespace: spec.namespaced ? metadata?.namespace || 'default' : '',
    name: String(metadata?.name ?? ''),
    generation: typeof metadata?.generation === 'number' ? metadata.generation : 1,
  };
}

function byClusterThenKey(a: StoredObject, b: StoredObject): number {
  return a.origin.cluster < b.origin.cluster ? -1 : a.origin.cluster > b.origin.cluster ? 1 : 0;
}

function indexObjects(objects: StoredObject[]): Map<string, Map<string, ObjectRecord<unknown>>> {
  const byKind = new Map<string, Map<string, ObjectRecord<unknown>>>(Object.keys(KINDS).map((k) => [k, new Map()]));
  for (const stored of [...objects].sort(byClusterThenKey)) {
    const spec = KINDS[stored.object?.kind];
    if (!spec || !spec.versions.includes(stored.object.apiVersion)) continue;
    const id = identify(stored, spec);
    if (!id.name) continue;
    const records = byKind.get(id.kind)!;
    const key = objectKey(id.namespace, id.name);
    if (records.has(key)) continue;
    records.set(key, { id, object: stored.object, parsed: parseObject(spec.schema, stored.object) });
  }
  return byKind;
}

function indexServices(services: ServiceEndpoints[]): Map<string, ServiceState> {
  const out = new Map<string, ServiceState>();
  const sorted = [...services].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  for (const svc of sorted) {
    const key = objectKey(svc.namespace, svc.name);
    let state = out.get(key);
    if (!state) out.set(key, (state = { namespace: svc.namespace, name: svc.name, ports: new Map() }));
    for (const p of svc.ports) {
      let port = state.ports.get(p.port);
      // The first cluster to define a port also defines its name and appProtocol.
      if (!port) state.ports.set(p.port, (port = { port: p.port, name: p.name, appProtocol: p.appProtocol, endpoints: [] }));
      for (const ep of p.endpoints) if (ep.ready) port.endpoints.push({ ...ep, cluster: svc.cluster });
    }
  }
  return out;
}

export function indexState(input: TranslatorInput): TranslatorState {
  const byKind = indexObjects(input.objects);
  const typed = <T>(kind: string) => byKind.get(kind) as Map<string, ObjectRecord<T>>;

  const referenceGrants = new Map<string, ReferenceGrant[]>();
  for (const record of typed<ReferenceGrant>('ReferenceGrant').values()) {
    if (!record.parsed.ok) continue;
    const ns = record.id.namespace;
    referenceGrants.set(ns, [...(referenceGrants.get(ns) ?? []), record.parsed.value]);
  }
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const record of typed<Namespace>('Namespace').values()) {
    if (record.parsed.ok) namespaceLabels.set(record.id.name, record.parsed.value.metadata.labels);
  }
  return {
    gatewayClasses: typed('GatewayClass'),
    gateways: typed('Gateway'),
    httpRoutes: typed('HTTPRoute'),
    grpcRoutes: typed('GRPCRoute'),
    tlsRoutes: typed('TLSRoute'),
    backendTLSPolicies: typed('BackendTLSPolicy'),
    secrets: typed('Secret'),
    configMaps: typed('ConfigMap'),
    tcpRoutes: typed('TCPRoute'),
    udpRoutes: typed('UDPRoute'),
    listenerSets: new Map(['ListenerSet', 'XListenerSet'].flatMap((kind) => [...typed<ListenerSet>(kind)].map(([key, r]) => [`${kind}/${key}`, r] as const))),
    referenceGrants,
    namespaceLabels,
    services: indexServices(input.services),
  };
}
