// The translator's contract: a pure function from the state of the world (Kubernetes objects and
// Service endpoints) to one xDS snapshot per Gateway and one status report per object. No I/O.
import type { ServicePortEndpoints } from '../contracts/envelopes.ts';
import type { ClusterLoadAssignment, Cluster, Listener, RouteConfiguration, Secret } from '../xds/types.ts';

/** A Kubernetes object as read (YAML file or API server): shape checked later, by kind. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  [key: string]: unknown;
}

/** Where an object came from, so that errors can name it (file and document index). */
export interface ObjectOrigin {
  cluster: string;
  file?: { path: string; document: number };
}

export interface StoredObject {
  object: KubeObject;
  origin: ObjectOrigin;
}

export interface ServiceEndpoints {
  cluster: string;
  namespace: string;
  name: string;
  serviceType: string;
  ports: ServicePortEndpoints[];
}

export interface TranslatorInput {
  objects: StoredObject[];
  services: ServiceEndpoints[];
}

export interface TranslateOptions {
  /** GatewayClasses whose spec.controllerName equals this are ours. */
  controllerName: string;
  /** Gateway status.addresses when spec.addresses is empty. */
  defaultAddress: string;
  /**
   * lastTransitionTime of every condition (ISO 8601). The translator is pure, so it cannot read the
   * clock: the service passes the time of the translation cycle, and the reporter keeps the previous
   * lastTransitionTime of a condition whose status did not change. Defaults to the epoch, which is
   * only acceptable in tests.
   */
  now?: string;
  /**
   * IP addresses the proxy can bind (its local interfaces): a Gateway asking for another one in
   * spec.addresses is Programmed=False/AddressNotUsable. Reading interfaces is I/O, so the caller
   * computes the set; undefined treats every well-formed IP address as usable.
   */
  usableAddresses?: string[];
}

/** The xDS resources of one Gateway, as typed Envoy messages. */
export interface GatewaySnapshot {
  gateway: string; // "<namespace>/<name>"
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  secrets: Secret[];
  /** Route configuration variants for proxyless gRPC (no redirects/direct responses/path_separated_prefix). */
  grpcRoutes: RouteConfiguration[];
  /** Per HTTP listener port: hostnames it accepts and the API listener template (name left empty). */
  apiListeners: Array<{ port: number; hostnames: string[]; template: Listener }>;
}

/** Who an object is, for its status report. */
export interface ObjectIdentity {
  cluster: string;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  generation: number;
}

/** An object's computed status, to be written back by the reporter. */
export interface StatusReport extends ObjectIdentity {
  status: Record<string, unknown>;
  /** Gateways ("ns/name") whose snapshot this status depends on. */
  gateways: string[];
}

export interface TranslateResult {
  snapshots: Map<string, GatewaySnapshot>;
  /**
   * Gateways of ours that could not be translated (invalid spec): the last good snapshot should
   * stay served, so a typo in a Gateway does not take its traffic down.
   */
  retained: string[];
  reports: StatusReport[];
}
