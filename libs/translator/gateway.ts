// Gateways and their listeners: which listeners can be programmed, which routes each one admits,
// and the Gateway's status once the routes are attached.
import type { ObjectIdentity, ObjectRecord, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { RouteKind } from './ir.ts';
import { GATEWAY_GROUP, salvageGatewayClassName, type Gateway, type GatewayListener, type LabelSelector } from './objects.ts';
import { notOk, ok, stampFor, type Verdict } from './status.ts';

export const SUPPORTED_ROUTE_KINDS: readonly RouteKind[] = ['HTTPRoute', 'GRPCRoute'];

/** Protocols a listener may have today; others are reported and left out of the snapshot. */
const SUPPORTED_PROTOCOLS = new Set(['HTTP']);

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
  addresses: Array<{ type: string; value: string }>;
}

function admittedKinds(listener: GatewayListener): { kinds: RouteKind[]; invalid: string[] } {
  if (listener.allowedRoutes.kinds === undefined) return { kinds: [...SUPPORTED_ROUTE_KINDS], invalid: [] };
  const kinds: RouteKind[] = [];
  const invalid: string[] = [];
  for (const { group, kind } of listener.allowedRoutes.kinds) {
    const supported = group === GATEWAY_GROUP && (SUPPORTED_ROUTE_KINDS as readonly string[]).includes(kind);
    if (supported && !kinds.includes(kind as RouteKind)) kinds.push(kind as RouteKind);
    else if (!supported) invalid.push(`${group}/${kind}`);
  }
  return { kinds, invalid };
}

function listenerModel(listener: GatewayListener): ListenerModel {
  const base = { name: listener.name, port: listener.port, protocol: listener.protocol, hostname: listener.hostname, allowedRoutes: listener.allowedRoutes };
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
  return { id: record.id, key, className: spec.gatewayClassName, listeners: spec.listeners.map(listenerModel), addresses: spec.addresses };
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
  if (!listener.usable || !listener.kinds.includes(kind)) return false;
  const { from, selector } = listener.allowedRoutes.namespaces;
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === gateway.id.namespace;
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
}

/**
 * The Gateway's whole status. Programmed=True is written before the snapshot is published: the
 * service publishes reports only after the snapshot they describe.
 */
export function gatewayStatus({ gateway, attachedRoutes, defaultAddress, now }: GatewayStatusInput): Record<string, unknown> {
  const stamp = stampFor(gateway.id.generation, now);
  if (gateway.invalid !== undefined) {
    return {
      conditions: [stamp('Accepted', notOk('Invalid', gateway.invalid)), stamp('Programmed', notOk('Invalid', gateway.invalid))],
      listeners: [],
    };
  }
  const usable = gateway.listeners.filter((l) => l.usable).length;
  const accepted = usable === gateway.listeners.length ? ok('Accepted')
    : usable > 0 ? ok('ListenersNotValid', 'some listeners are not valid; the others are programmed')
    : notOk('ListenersNotValid', 'no listener is valid');
  const programmed = usable > 0 ? ok('Programmed') : notOk('Invalid', 'no listener can be programmed');
  const addresses = gateway.addresses.length > 0 ? gateway.addresses : [{ type: 'IPAddress', value: defaultAddress }];
  const listeners = gateway.listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.kinds.map((kind) => ({ group: GATEWAY_GROUP, kind })),
    attachedRoutes: attachedRoutes.get(l.name) ?? 0,
    conditions: [
      stamp('Accepted', l.accepted),
      stamp('ResolvedRefs', l.resolvedRefs),
      stamp('Programmed', l.usable ? ok('Programmed') : notOk('Invalid', l.accepted.message)),
      stamp('Conflicted', notOk('NoConflicts', '')),
    ],
  }));
  return { addresses, conditions: [stamp('Accepted', accepted), stamp('Programmed', programmed)], listeners };
}
