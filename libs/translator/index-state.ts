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
import { GANTRY_GROUP, Upstream } from './upstream-objects.ts';
import { ListenerOption, OPTION_API_VERSION, RouteOption, VirtualHostOption } from './option-objects.ts';
import { OptionLinks } from './option-index.ts';
import { GatewayParameters } from './parameters-objects.ts';


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
  /** Gantry's Upstreams (gateway.gantry.dev), by "<namespace>/<name>". */
  upstreams: Map<string, ObjectRecord<Upstream>>;
  /** Gantry's option kinds (option-objects.ts), by "<namespace>/<name>", and what they reach. */
  routeOptions: Map<string, ObjectRecord<RouteOption>>;
  virtualHostOptions: Map<string, ObjectRecord<VirtualHostOption>>;
  listenerOptions: Map<string, ObjectRecord<ListenerOption>>;
  optionLinks: OptionLinks;
  /** GatewayParameters (libs/provisioning/parameters.ts), by "<namespace>/<name>": checked here, applied by the reporter. */
  gatewayParameters: Map<string, ObjectRecord<GatewayParameters>>;
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
  Upstream: { versions: [`${GANTRY_GROUP}/v1alpha1`], namespaced: true, schema: Upstream },
  GatewayParameters: { versions: [`${GANTRY_GROUP}/v1alpha1`], namespaced: true, schema: GatewayParameters },
  RouteOption: { versions: [OPTION_API_VERSION], namespaced: true, schema: RouteOption },
  VirtualHostOption: { versions: [OPTION_API_VERSION], namespaced: true, schema: VirtualHostOption },
  ListenerOption: { versions: [OPTION_API_VERSION], namespaced: true, schema: ListenerOption },
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

/**
 * Parsed records by the object they were read from. The World hands over the same object for as
 * long as it is unchanged, so an object is parsed once, not on every translation, and its record
 * (and what is derived from it downstream) keeps its identity.
 */
const records = new WeakMap<KubeObject, ObjectRecord<unknown>>();

function recordOf(stored: StoredObject, spec: KindSpec): ObjectRecord<unknown> {
  const id = identify(stored, spec);
  const cached = records.get(stored.object);
  if (cached && cached.id.cluster === id.cluster) return cached;
  const record = { id, object: stored.object, parsed: parseObject(spec.schema, stored.object) };
  records.set(stored.object, record);
  return record;
}

/** Service states of single-cluster Services by their input, kept for as long as it is unchanged. */
const serviceStates = new WeakMap<ServiceEndpoints, ServiceState>();

/** One Service's state from its endpoints in every member cluster (sorted by cluster id). */
function serviceState(parts: ServiceEndpoints[]): ServiceState {
  const cached = parts.length === 1 ? serviceStates.get(parts[0]) : undefined;
  if (cached) return cached;
  const state: ServiceState = { namespace: parts[0].namespace, name: parts[0].name, ports: new Map() };
  for (const svc of parts) {
    for (const p of svc.ports) {
      let port = state.ports.get(p.port);
      // The first cluster to define a port also defines its name and appProtocol.
      if (!port) state.ports.set(p.port, (port = { port: p.port, name: p.name, appProtocol: p.appProtocol, endpoints: [] }));
      for (const ep of p.endpoints) if (ep.ready) port.endpoints.push({ ...ep, cluster: svc.cluster });
    }
  }
  if (parts.length === 1) serviceStates.set(parts[0], state);
  return state;
}

/** The kinds whose maps every Gateway may read: a change to one of them re-translates them all. */
export const SHARED_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass', 'ReferenceGrant', 'Namespace', 'Secret', 'ConfigMap', 'BackendTLSPolicy', 'ListenerSet', 'XListenerSet', 'GatewayParameters',
]);

/** What changed since the last drain: "<kind>/<namespace>/<name>" object keys and Service keys. */
export interface StateChanges {
  objects: Set<string>;
  services: Set<string>;
}

const byCluster = <T>(parts: Map<string, T> | undefined): T[] =>
  [...(parts ?? new Map<string, T>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

/**
 * The translator's state, kept up to date one object at a time (applying an event costs O(1), not a
 * rebuild), with the keys changed since the last drain. Objects of several member clusters share
 * one namespace space: for a duplicate kind/namespace/name the copy of the cluster whose id sorts
 * first wins, so the outcome does not depend on arrival order.
 */
export class StateIndex implements TranslatorState {
  readonly gatewayClasses = new Map<string, ObjectRecord<GatewayClass>>();
  readonly gateways = new Map<string, ObjectRecord<Gateway>>();
  readonly httpRoutes = new Map<string, ObjectRecord<HTTPRoute>>();
  readonly grpcRoutes = new Map<string, ObjectRecord<GRPCRoute>>();
  readonly tlsRoutes = new Map<string, ObjectRecord<TLSRoute>>();
  readonly tcpRoutes = new Map<string, ObjectRecord<TCPRoute>>();
  readonly udpRoutes = new Map<string, ObjectRecord<UDPRoute>>();
  readonly listenerSets = new Map<string, ObjectRecord<ListenerSet>>();
  readonly backendTLSPolicies = new Map<string, ObjectRecord<BackendTLSPolicy>>();
  readonly secrets = new Map<string, ObjectRecord<Secret>>();
  readonly configMaps = new Map<string, ObjectRecord<ConfigMap>>();
  readonly referenceGrants = new Map<string, ReferenceGrant[]>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly services = new Map<string, ServiceState>();
  readonly upstreams = new Map<string, ObjectRecord<Upstream>>();
  readonly routeOptions = new Map<string, ObjectRecord<RouteOption>>();
  readonly virtualHostOptions = new Map<string, ObjectRecord<VirtualHostOption>>();
  readonly listenerOptions = new Map<string, ObjectRecord<ListenerOption>>();
  readonly optionLinks = new OptionLinks();
  readonly gatewayParameters = new Map<string, ObjectRecord<GatewayParameters>>();
  private readonly grants = new Map<string, ObjectRecord<ReferenceGrant>>();
  /** Per "<kind>/<namespace>/<name>", the copy each member cluster holds. */
  private readonly copies = new Map<string, Map<string, StoredObject>>();
  private readonly serviceParts = new Map<string, Map<string, ServiceEndpoints>>();
  private changes: StateChanges = { objects: new Set(), services: new Set() };

  static of(input: TranslatorInput): StateIndex {
    const index = new StateIndex();
    for (const o of input.objects) index.upsert(o);
    for (const s of input.services) index.upsertService(s);
    return index;
  }

  /** Adds or replaces an object; kinds and versions the translator does not read are ignored. */
  upsert(stored: StoredObject): void {
    const spec = KINDS[stored.object?.kind];
    if (!spec || !spec.versions.includes(stored.object.apiVersion)) return;
    const id = identify(stored, spec);
    if (!id.name) return;
    const key = `${id.kind}/${objectKey(id.namespace, id.name)}`;
    const copies = this.copies.get(key) ?? new Map<string, StoredObject>();
    copies.set(id.cluster, stored);
    this.copies.set(key, copies);
    this.settle(key, id.kind, objectKey(id.namespace, id.name));
  }

  remove(cluster: string, kind: string, namespace: string, name: string): void {
    const spec = KINDS[kind];
    if (!spec) return;
    const objKey = objectKey(spec.namespaced ? namespace || 'default' : '', name);
    const key = `${kind}/${objKey}`;
    const copies = this.copies.get(key);
    if (!copies?.delete(cluster)) return;
    if (copies.size === 0) this.copies.delete(key);
    this.settle(key, kind, objKey);
  }

  upsertService(svc: ServiceEndpoints): void {
    const key = objectKey(svc.namespace, svc.name);
    const parts = this.serviceParts.get(key) ?? new Map<string, ServiceEndpoints>();
    parts.set(svc.cluster, svc);
    this.serviceParts.set(key, parts);
    this.settleService(key);
  }

  removeService(cluster: string, namespace: string, name: string): void {
    const key = objectKey(namespace, name);
    const parts = this.serviceParts.get(key);
    if (!parts?.delete(cluster)) return;
    if (parts.size === 0) this.serviceParts.delete(key);
    this.settleService(key);
  }

  /** The keys changed since the last call; the next call starts empty. */
  drainChanges(): StateChanges {
    const out = this.changes;
    this.changes = { objects: new Set(), services: new Set() };
    return out;
  }

  /** Puts the record of the winning cluster's copy of `key` in its kind's map (or removes it). */
  private settle(key: string, kind: string, objKey: string): void {
    const spec = KINDS[kind];
    const winner = byCluster(this.copies.get(key))[0];
    const record = winner ? recordOf(winner, spec) : undefined;
    const [map, mapKey] = this.slot(kind, objKey);
    const before = map.get(mapKey);
    if (before === record) return;
    if (record) map.set(mapKey, record as ObjectRecord<never>);
    else map.delete(mapKey);
    this.changes.objects.add(key);
    // An option changes the translation of what it reaches: those keys count as changed too.
    for (const reached of this.optionLinks.settled(kind, key, before, record)) this.changes.objects.add(reached);
    if (kind === 'ReferenceGrant') this.refreshGrants(record?.id.namespace ?? objKey.split('/')[0]);
    if (kind === 'Namespace') {
      if (record?.parsed.ok) this.namespaceLabels.set(objKey, (record.parsed.value as Namespace).metadata.labels);
      else this.namespaceLabels.delete(objKey);
    }
  }

  private slot(kind: string, objKey: string): [Map<string, ObjectRecord<never>>, string] {
    const maps: Record<string, Map<string, ObjectRecord<never>>> = {
      GatewayClass: this.gatewayClasses, Gateway: this.gateways, HTTPRoute: this.httpRoutes, GRPCRoute: this.grpcRoutes,
      TLSRoute: this.tlsRoutes, TCPRoute: this.tcpRoutes, UDPRoute: this.udpRoutes, BackendTLSPolicy: this.backendTLSPolicies,
      Secret: this.secrets, ConfigMap: this.configMaps, ReferenceGrant: this.grants, Upstream: this.upstreams,
      RouteOption: this.routeOptions, VirtualHostOption: this.virtualHostOptions, ListenerOption: this.listenerOptions,
      GatewayParameters: this.gatewayParameters,
    } as unknown as Record<string, Map<string, ObjectRecord<never>>>;
    if (kind === 'ListenerSet' || kind === 'XListenerSet') return [this.listenerSets as Map<string, ObjectRecord<never>>, `${kind}/${objKey}`];
    if (kind === 'Namespace') return [this.namespaceRecords, objKey];
    return [maps[kind], objKey];
  }

  private readonly namespaceRecords = new Map<string, ObjectRecord<never>>();

  /** Valid ReferenceGrants of one namespace, in name order. */
  private refreshGrants(namespace: string): void {
    const grants = [...this.grants.values()]
      .filter((r) => r.id.namespace === namespace && r.parsed.ok)
      .sort((a, b) => (a.id.name < b.id.name ? -1 : 1))
      .map((r) => (r.parsed as { ok: true; value: ReferenceGrant }).value);
    if (grants.length > 0) this.referenceGrants.set(namespace, grants);
    else this.referenceGrants.delete(namespace);
  }

  private settleService(key: string): void {
    const parts = byCluster(this.serviceParts.get(key));
    if (parts.length === 0) this.services.delete(key);
    else this.services.set(key, serviceState(parts));
    this.changes.services.add(key);
  }
}

/** A one-off index of a whole input. */
export function indexState(input: TranslatorInput): StateIndex {
  return StateIndex.of(input);
}
