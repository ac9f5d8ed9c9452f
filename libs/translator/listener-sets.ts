// ListenerSets (GEP-1713): listeners offered to a parent Gateway by another object, possibly from
// another namespace. A Gateway takes them only when spec.allowedListeners admits the ListenerSet's
// namespace (None by default). The listeners of an allowed ListenerSet join the Gateway's, after the
// Gateway's own, ListenerSets ordered by creationTimestamp then namespace/name; conflicts are then
// settled in that order (conflicts.ts), so the Gateway's listeners win. Routes attach to them with a
// parentRef naming the ListenerSet, never through a parentRef naming the Gateway.
import type { StatusReport } from './api.ts';
import { markConflicts } from './conflicts.ts';
import { listenerModel, listenerStatus, matchesSelector, type GatewayModel, type ListenerModel, type ListenerOwner } from './gateway.ts';
import type { ObjectIdentity, ObjectRecord, TranslatorState } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { ListenerSet } from './listener-set-objects.ts';
import { GATEWAY_GROUP, type ParentRef } from './objects.ts';
import type { RouteModel } from './routes.ts';
import { notOk, ok, report, stampFor, type Verdict } from './status.ts';

export const X_GATEWAY_GROUP = 'gateway.networking.x-k8s.io';

export interface ListenerSetModel {
  id: ObjectIdentity;
  owner: ListenerOwner;
  /** "<namespace>/<name>" of the parent Gateway. */
  parent: string;
  creationTimestamp: string;
  /** The schema error, when the ListenerSet could not be read. */
  invalid?: string;
  /** Why the parent Gateway does not take it, when it does not. */
  notAllowed?: Verdict;
  listeners: ListenerModel[];
}

function ownerOf(record: ObjectRecord<ListenerSet>): ListenerOwner {
  const { kind, namespace, name } = record.id;
  return { group: kind === 'XListenerSet' ? X_GATEWAY_GROUP : GATEWAY_GROUP, kind, namespace, name, key: `${kind}/${namespace}/${name}` };
}

function parentKey(record: ObjectRecord<ListenerSet>): string | undefined {
  if (!record.parsed.ok) {
    const ref = (record.object.spec as { parentRef?: { name?: unknown; namespace?: unknown } } | undefined)?.parentRef;
    if (typeof ref?.name !== 'string') return undefined;
    return objectKey(typeof ref.namespace === 'string' ? ref.namespace : record.id.namespace, ref.name);
  }
  const ref = record.parsed.value.spec.parentRef;
  if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') return undefined;
  return objectKey(ref.namespace ?? record.id.namespace, ref.name);
}

function allowedBy(gateway: GatewayModel, namespace: string, state: TranslatorState): Verdict | undefined {
  const record = state.gateways.get(gateway.key);
  if (!record?.parsed.ok || gateway.invalid !== undefined) return notOk('ParentNotAccepted', `Gateway ${gateway.key} is not valid`);
  const { from, selector } = record.parsed.value.spec.allowedListeners.namespaces;
  const labels = { 'kubernetes.io/metadata.name': namespace, ...state.namespaceLabels.get(namespace) };
  const allowed = from === 'All' || (from === 'Same' && namespace === gateway.id.namespace) || (from === 'Selector' && selector !== undefined && matchesSelector(labels, selector));
  return allowed ? undefined : notOk('NotAllowed', `Gateway ${gateway.key} does not allow ListenerSets from namespace ${namespace} (allowedListeners.namespaces.from: ${from})`);
}

const byPrecedence = (a: ListenerSetModel, b: ListenerSetModel) =>
  a.creationTimestamp < b.creationTimestamp ? -1 : a.creationTimestamp > b.creationTimestamp ? 1
    : a.owner.key < b.owner.key ? -1 : a.owner.key > b.owner.key ? 1 : 0;

/** The ListenerSets whose parentRef names `gateway`, in precedence order. */
export function listenerSetsOf(gateway: GatewayModel, state: TranslatorState): ListenerSetModel[] {
  const out: ListenerSetModel[] = [];
  for (const record of state.listenerSets.values()) {
    if (parentKey(record) !== gateway.key) continue;
    const owner = ownerOf(record);
    const base = { id: record.id, owner, parent: gateway.key, creationTimestamp: '', listeners: [] as ListenerModel[] };
    if (!record.parsed.ok) {
      out.push({ ...base, invalid: record.parsed.message });
      continue;
    }
    const { metadata, spec } = record.parsed.value;
    out.push({
      ...base,
      creationTimestamp: metadata.creationTimestamp ?? '',
      notAllowed: allowedBy(gateway, record.id.namespace, state),
      listeners: spec.listeners.map((l) => ({ ...listenerModel(l), owner })),
    });
  }
  return out.sort(byPrecedence);
}

/**
 * The Gateway with the listeners of its allowed ListenerSets appended and every conflict marked, then
 * `settle` applied to the whole (resolving listener TLS); `sets` get their settled listeners back.
 */
export function mergeListenerSets(
  gateway: GatewayModel, sets: ListenerSetModel[], settle: (g: GatewayModel) => GatewayModel = (g) => g,
): { gateway: GatewayModel; sets: ListenerSetModel[] } {
  const taken = sets.filter((s) => s.invalid === undefined && s.notAllowed === undefined);
  const merged = settle({ ...gateway, listeners: markConflicts([...gateway.listeners, ...taken.flatMap((s) => s.listeners)]) });
  return {
    gateway: merged,
    sets: sets.map((s) => (taken.includes(s) ? { ...s, listeners: merged.listeners.filter((l) => l.owner?.key === s.owner.key) } : s)),
  };
}

/** Whether the ListenerSet is attached: allowed, and some listener of it can be programmed. */
export function isAttached(set: ListenerSetModel): boolean {
  return set.invalid === undefined && set.notAllowed === undefined && set.listeners.some((l) => l.usable);
}

/** The ListenerSet's status: Accepted/Programmed and one entry per listener. */
export function listenerSetReport(set: ListenerSetModel, attachedRoutes: Map<string, number>, now: string): StatusReport {
  const stamp = stampFor(set.id.generation, now);
  let accepted: Verdict;
  let programmed: Verdict;
  if (set.invalid !== undefined) {
    accepted = programmed = notOk('Invalid', set.invalid);
  } else if (set.notAllowed) {
    accepted = programmed = set.notAllowed;
  } else {
    const usable = set.listeners.filter((l) => l.usable).length;
    accepted = usable === set.listeners.length ? ok('Accepted')
      : usable > 0 ? ok('ListenersNotValid', 'some listeners are not valid; the others are programmed')
      : notOk('ListenersNotValid', 'no listener is valid');
    programmed = usable > 0 ? ok('Programmed') : notOk('ListenersNotValid', 'no listener can be programmed');
  }
  const listeners = set.notAllowed || set.invalid !== undefined ? [] : set.listeners.map((l) => listenerStatus(l, attachedRoutes, stamp));
  return report(set.id, { conditions: [stamp('Accepted', accepted), stamp('Programmed', programmed)], listeners }, [set.parent]);
}

/**
 * Which part of `gateway` a route's parentRef names: the Gateway itself ("gateway"), one of its
 * ListenerSets (their listeners are in the merged model), or nothing of it (undefined).
 */
export function refParent(route: RouteModel, ref: ParentRef, gateway: GatewayModel): 'gateway' | ListenerOwner | undefined {
  const namespace = ref.namespace ?? route.id.namespace;
  if (ref.group === GATEWAY_GROUP && ref.kind === 'Gateway') return objectKey(namespace, ref.name) === gateway.key ? 'gateway' : undefined;
  const listener = gateway.listeners.find(
    (l) => l.owner && l.owner.group === ref.group && l.owner.kind === ref.kind && l.owner.namespace === namespace && l.owner.name === ref.name,
  );
  return listener?.owner;
}
