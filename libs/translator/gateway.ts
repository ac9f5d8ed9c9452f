// Gateways and their listeners: which listeners can be programmed, which routes each one admits,
// and the Gateway's status once the routes are attached.
import type { ObjectIdentity, ObjectRecord, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { RouteKind } from './ir.ts';
import type { GatewayTlsIR } from './listener-tls.ts';
import { GATEWAY_GROUP, salvageGatewayClassName, type Gateway, type GatewayListener, type GatewayTls, type LabelSelector, type ListenerTls } from './objects.ts';
import { addressStatus } from './addresses.ts';
import { parametersProblem, type ParametersRef } from './parameters-objects.ts';
import { notOk, ok, stampFor, type ConditionStamp, type Verdict } from './status.ts';

export const SUPPORTED_ROUTE_KINDS: readonly RouteKind[] = ['HTTPRoute', 'GRPCRoute'];

/** The route kinds each protocol admits (TLS listeners: TLSRoute, see listener-tls.ts). */
const PROTOCOL_ROUTE_KINDS: Record<string, readonly RouteKind[]> = {
  HTTP: SUPPORTED_ROUTE_KINDS,
  HTTPS: SUPPORTED_ROUTE_KINDS,
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

/** Protocols a listener may have today; others are reported and left out of the snapshot. */
const SUPPORTED_PROTOCOLS = new Set(Object.keys(PROTOCOL_ROUTE_KINDS));

export interface ListenerModel {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  /** Whether the listener is programmed into Envoy and may have routes attached. */
  usable: boolean;
  accepted: Verdict;
  resolvedRefs: Verdict;
  /** The route kinds it admits, all of them supported. */
  kinds: RouteKind[];
  allowedRoutes: GatewayListener['allowedRoutes'];
  /** spec.tls as written; listener-tls.ts resolves it (certificates, mode). */
  tls?: ListenerTls;
  /** The ListenerSet the listener comes from; absent for the Gateway's own listeners. */
  owner?: ListenerOwner;
  /** Conflicted=True (HostnameConflict/ProtocolConflict) when it lost to another listener (conflicts.ts). */
  conflicted?: Verdict;
}

/** A ListenerSet (or XListenerSet) whose listeners are merged into its parent Gateway. */
export interface ListenerOwner {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  /** "<kind>/<namespace>/<name>" */
  key: string;
}

/** Unique among a Gateway's merged listeners: the name, prefixed by the ListenerSet for theirs. */
export function listenerKey(l: Pick<ListenerModel, 'name' | 'owner'>): string {
  return l.owner ? `${l.owner.key}/${l.name}` : l.name;
}

export interface GatewayModel {
  id: ObjectIdentity;
  /** "<namespace>/<name>" */
  key: string;
  /** spec.gatewayClassName, when readable even from a Gateway that failed to parse. */
  className?: string;
  /** The schema error, when the Gateway could not be read; it then has no listeners. */
  invalid?: string;
  listeners: ListenerModel[];
  addresses: Array<{ type: string; value?: string }>;
  /** Accepted=False when the Gateway cannot be used as written (InvalidParameters). */
  rejected?: Verdict;
  /** spec.infrastructure.parametersRef, checked against the state by withParametersChecked. */
  parametersRef?: ParametersRef;
  /** spec.tls as written (frontend validation, backend client certificate). */
  tls?: GatewayTls;
  /** The Gateway's own ResolvedRefs (spec.tls.backend.clientCertificateRef), when it has refs. */
  resolvedRefs?: Verdict;
  /** The resolved TLS of its listeners and backends (listener-tls.ts). */
  tlsIR?: GatewayTlsIR;
}

function admittedKinds(listener: GatewayListener): { kinds: RouteKind[]; invalid: string[] } {
  const protocolKinds = PROTOCOL_ROUTE_KINDS[listener.protocol] ?? SUPPORTED_ROUTE_KINDS;
  if (listener.allowedRoutes.kinds === undefined) return { kinds: [...protocolKinds], invalid: [] };
  const kinds: RouteKind[] = [];
  const invalid: string[] = [];
  for (const { group, kind } of listener.allowedRoutes.kinds) {
    const supported = group === GATEWAY_GROUP && (protocolKinds as readonly string[]).includes(kind);
    if (supported && !kinds.includes(kind as RouteKind)) kinds.push(kind as RouteKind);
    else if (!supported) invalid.push(`${group}/${kind}`);
  }
  return { kinds, invalid };
}

export function listenerModel(listener: GatewayListener): ListenerModel {
  const base = { name: listener.name, port: listener.port, protocol: listener.protocol, hostname: listener.hostname, allowedRoutes: listener.allowedRoutes, tls: listener.tls };
  if (!SUPPORTED_PROTOCOLS.has(listener.protocol)) {
    return {
      ...base, usable: false, kinds: [],
      accepted: notOk('UnsupportedProtocol', `protocol ${listener.protocol} is not supported yet; supported: ${[...SUPPORTED_PROTOCOLS].join(', ')}`),
      resolvedRefs: ok('ResolvedRefs'),
    };
  }
  const { kinds, invalid } = admittedKinds(listener);
  return {
    ...base, usable: true, kinds,
    accepted: ok('Accepted'),
    resolvedRefs: invalid.length === 0
      ? ok('ResolvedRefs')
      : notOk('InvalidRouteKinds', `route kinds not supported: ${invalid.join(', ')}`),
  };
}

export function gatewayModel(record: ObjectRecord<Gateway>): GatewayModel {
  const key = objectKey(record.id.namespace, record.id.name);
  if (!record.parsed.ok) {
    return { id: record.id, key, className: salvageGatewayClassName(record.object), invalid: record.parsed.message, listeners: [], addresses: [] };
  }
  const { spec } = record.parsed.value;
  const model: GatewayModel = { id: record.id, key, className: spec.gatewayClassName, listeners: spec.listeners.map(listenerModel), addresses: spec.addresses, tls: spec.tls };
  if (spec.infrastructure?.parametersRef) model.parametersRef = spec.infrastructure.parametersRef;
  return model;
}

const checked = new WeakMap<GatewayModel, { parameters: unknown; model: GatewayModel }>();

/**
 * The model with its parametersRef resolved in the state: rejected with InvalidParameters when it
 * names no valid GatewayParameters of its namespace. The same model while that object is the same
 * (models are memo keys).
 */
export function withParametersChecked(model: GatewayModel, state: TranslatorState): GatewayModel {
  const ref = model.parametersRef;
  if (!ref || model.rejected) return model;
  const parameters = state.gatewayParameters.get(`${model.id.namespace}/${ref.name}`);
  const cached = checked.get(model);
  if (cached && cached.parameters === parameters) return cached.model;
  const problem = parametersProblem(ref, model.id.namespace, state, 'infrastructure.parametersRef');
  const out = problem ? { ...model, rejected: notOk('InvalidParameters', problem) } : model;
  checked.set(model, { parameters, model: out });
  return out;
}

export function matchesSelector(labels: Record<string, string>, selector: LabelSelector): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const { key, operator, values } of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const ok = operator === 'In' ? has && values.includes(labels[key])
      : operator === 'NotIn' ? !has || !values.includes(labels[key])
      : operator === 'Exists' ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}

/** Whether the listener admits a route of `kind` from `routeNamespace` (allowedRoutes). */
export function listenerAdmits(
  gateway: GatewayModel, listener: ListenerModel, kind: RouteKind, routeNamespace: string, state: TranslatorState,
): boolean {
  // A listener that is Accepted but cannot be programmed (unresolved refs) still counts its routes.
  if (listener.accepted.status !== 'True' || !listener.kinds.includes(kind)) return false;
  const { from, selector } = listener.allowedRoutes.namespaces;
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === (listener.owner?.namespace ?? gateway.id.namespace);
  if (!selector) return false;
  // Kubernetes sets this label on every namespace; it is implied when the Namespace object is absent.
  const labels = { 'kubernetes.io/metadata.name': routeNamespace, ...state.namespaceLabels.get(routeNamespace) };
  return matchesSelector(labels, selector);
}

export interface GatewayStatusInput {
  gateway: GatewayModel;
  attachedRoutes: Map<string, number>;
  defaultAddress: string;
  now: string;
  /** IP addresses the proxy can bind (TranslateOptions.usableAddresses); undefined: any. */
  usableAddresses?: readonly string[];
  /** status.attachedListenerSets: the accepted ListenerSets (listener-sets.ts). */
  attachedListenerSets?: number;
}

/** One entry of status.listeners, of a Gateway or a ListenerSet. */
export function listenerStatus(l: ListenerModel, attachedRoutes: Map<string, number>, stamp: ConditionStamp): Record<string, unknown> {
  const notProgrammed = l.conflicted ?? (l.accepted.status === 'False' ? notOk('Invalid', l.accepted.message) : notOk('Invalid', l.resolvedRefs.message));
  return {
    name: l.name,
    supportedKinds: l.kinds.map((kind) => ({ group: GATEWAY_GROUP, kind })),
    attachedRoutes: attachedRoutes.get(listenerKey(l)) ?? 0,
    conditions: [
      stamp('Accepted', l.accepted),
      stamp('ResolvedRefs', l.resolvedRefs),
      stamp('Programmed', l.usable ? ok('Programmed') : notOk(notProgrammed.reason, notProgrammed.message)),
      stamp('Conflicted', l.conflicted ?? notOk('NoConflicts', '')),
    ],
  };
}

/**
 * The Gateway's whole status. Programmed=True is written before the snapshot is published: the
 * service publishes reports only after the snapshot they describe.
 */
export function gatewayStatus({ gateway, attachedRoutes, defaultAddress, now, usableAddresses, attachedListenerSets }: GatewayStatusInput): Record<string, unknown> {
  const stamp = stampFor(gateway.id.generation, now);
  if (gateway.invalid !== undefined) {
    return {
      conditions: [stamp('Accepted', notOk('Invalid', gateway.invalid)), stamp('Programmed', notOk('Invalid', gateway.invalid))],
      listeners: [],
    };
  }
  const own = gateway.listeners.filter((l) => !l.owner);
  const usable = own.filter((l) => l.usable).length;
  const address = addressStatus(gateway.addresses, defaultAddress, usableAddresses);
  const accepted = gateway.rejected ?? address.accepted ?? (usable === own.length ? ok('Accepted')
    : usable > 0 ? ok('ListenersNotValid', 'some listeners are not valid; the others are programmed')
    : notOk('ListenersNotValid', 'no listener is valid'));
  const programmed = gateway.rejected ? notOk('Invalid', gateway.rejected.message)
    : address.programmed ?? (usable > 0 ? ok('Programmed') : notOk('Invalid', 'no listener can be programmed'));
  const listeners = own.map((l) => listenerStatus(l, attachedRoutes, stamp));
  const conditions = [stamp('Accepted', accepted), stamp('Programmed', programmed)];
  if (gateway.resolvedRefs) conditions.push(stamp('ResolvedRefs', gateway.resolvedRefs));
  const status: Record<string, unknown> = { addresses: address.addresses, conditions, listeners };
  if (attachedListenerSets !== undefined) status.attachedListenerSets = attachedListenerSets;
  return status;
}
