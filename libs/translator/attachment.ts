// Route attachment: which listeners of a Gateway each route's parentRefs land on, with which
// hostnames, and the route's status towards that Gateway.
import { listenerAdmits, listenerKey, type GatewayModel, type ListenerModel, type ListenerOwner } from './gateway.ts';
import { effectiveHostnames } from './hostnames.ts';
import type { TranslatorState } from './index-state.ts';
import { refParent } from './listener-sets.ts';
import { GATEWAY_GROUP, type ParentRef } from './objects.ts';
import type { RouteModel } from './routes.ts';
import { ruleVerdicts } from './filters.ts';
import { notOk, ok, stampFor, type Condition, type Verdict } from './status.ts';
import { compact } from './ir.ts';

export interface Attachment {
  route: RouteModel;
  listener: ListenerModel;
  /** Effective hostnames: the route's narrowed to the listener's ("*" for any). */
  hostnames: string[];
}

export interface RouteParentStatus {
  parentRef: Required<Pick<ParentRef, 'group' | 'kind' | 'namespace' | 'name'>> & Pick<ParentRef, 'sectionName' | 'port'>;
  controllerName: string;
  conditions: Condition[];
}

/** The parentRef spelled out (group, kind and namespace defaulted), as status echoes it. */
export function canonicalParentRef(route: RouteModel, ref: ParentRef): RouteParentStatus['parentRef'] {
  const out: RouteParentStatus['parentRef'] = { group: ref.group, kind: ref.kind, namespace: ref.namespace ?? route.id.namespace, name: ref.name };
  if (ref.sectionName !== undefined) out.sectionName = ref.sectionName;
  if (ref.port !== undefined) out.port = ref.port;
  return out;
}

/** Whether `ref` names the Gateway `gatewayKey` ("<namespace>/<name>"). */
export function refersTo(route: RouteModel, ref: ParentRef, gatewayKey: string): boolean {
  return ref.group === GATEWAY_GROUP && ref.kind === 'Gateway' && `${ref.namespace ?? route.id.namespace}/${ref.name}` === gatewayKey;
}

function attachOne(
  gateway: GatewayModel, route: RouteModel, ref: ParentRef, parent: 'gateway' | ListenerOwner, state: TranslatorState,
): { accepted: Verdict; attachments: Attachment[] } {
  if (route.invalid !== undefined) return { accepted: notOk('UnsupportedValue', route.invalid), attachments: [] };
  const rules = ruleVerdicts(route.rules.map((r) => r.compiled ?? {}));
  if (rules.accepted) return { accepted: rules.accepted, attachments: [] };
  // A parentRef naming the Gateway reaches its own listeners only; one naming a ListenerSet, that set's.
  const named = gateway.listeners.filter(
    (l) => (parent === 'gateway' ? !l.owner : l.owner?.key === parent.key)
      && (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port),
  );
  if (named.length === 0) {
    const wanted = [ref.sectionName && `sectionName ${ref.sectionName}`, ref.port && `port ${ref.port}`].filter(Boolean).join(' and ');
    const what = parent === 'gateway' ? `Gateway ${gateway.key}` : `${parent.kind} ${parent.namespace}/${parent.name}`;
    return { accepted: notOk('NoMatchingParent', `${what} has no listener with ${wanted}`), attachments: [] };
  }
  const admitting = named.filter((l) => listenerAdmits(gateway, l, route.kind, route.id.namespace, state));
  if (admitting.length === 0) {
    return { accepted: notOk('NotAllowedByListeners', `no listener of Gateway ${gateway.key} admits this ${route.kind} from namespace ${route.id.namespace}`), attachments: [] };
  }
  const attachments = admitting
    .map((listener) => ({ route, listener, hostnames: effectiveHostnames(listener.hostname, route.hostnames) }))
    .filter((a) => a.hostnames.length > 0);
  if (attachments.length === 0) {
    return { accepted: notOk('NoMatchingListenerHostname', `no hostname of the route intersects a listener hostname of Gateway ${gateway.key}`), attachments: [] };
  }
  return { accepted: ok('Accepted'), attachments };
}

export interface GatewayAttachments {
  attachments: Attachment[];
  /** Routes attached per listener (listenerKey: the name, prefixed by its ListenerSet if any). */
  attachedRoutes: Map<string, number>;
  /** Per route key, its parent statuses for this Gateway, in parentRefs order. */
  parents: Map<string, RouteParentStatus[]>;
}

export interface AttachContext {
  state: TranslatorState;
  controllerName: string;
  now: string;
  /** A route's ResolvedRefs verdict (independent of the Gateway). */
  resolvedRefs: (route: RouteModel) => Verdict;
}

/** One route's attachment to one Gateway: where it lands and its parent statuses there. */
export interface RouteAttachment {
  attachments: Attachment[];
  /** Absent when no parentRef of the route names the Gateway. */
  statuses?: RouteParentStatus[];
  /** What it was computed from besides the Gateway and the shared state (see AttachMemo). */
  deps: unknown;
}

/**
 * The attachments of one Gateway model's routes from its previous translation, by route, so that a
 * route change re-attaches that route only. Valid for one Gateway model and one shared state: the
 * caller starts a new one when either changes. A route's entry is reused while the route and its
 * `deps` (what its backends resolved to) are the same; reused attachments keep their identity,
 * which later stages memoize on. Reused conditions keep the time they were stamped with: they are
 * unchanged, and the reporter keeps an unchanged condition's lastTransitionTime anyway.
 */
export type AttachMemo = Map<RouteModel, RouteAttachment>;

function attachRoute(gateway: GatewayModel, route: RouteModel, ctx: AttachContext, deps: unknown): RouteAttachment {
  const stamp = stampFor(route.id.generation, ctx.now);
  const attachments: Attachment[] = [];
  const statuses: RouteParentStatus[] = [];
  for (const ref of route.parentRefs) {
    const parent = refParent(route, ref, gateway);
    if (!parent) continue;
    const result = attachOne(gateway, route, ref, parent, ctx.state);
    attachments.push(...result.attachments);
    const conditions = [stamp('Accepted', result.accepted)];
    if (route.invalid === undefined) conditions.push(stamp('ResolvedRefs', ctx.resolvedRefs(route)));
    const partiallyInvalid = ruleVerdicts(route.rules.map((r) => r.compiled ?? {})).partiallyInvalid;
    if (partiallyInvalid) conditions.push(stamp('PartiallyInvalid', partiallyInvalid));
    statuses.push({ parentRef: canonicalParentRef(route, ref), controllerName: ctx.controllerName, conditions: compact(conditions) });
  }
  return statuses.length > 0 ? { attachments: compact(attachments), statuses: compact(statuses), deps } : { attachments: compact(attachments), deps };
}

/**
 * Attaches `routes` (those referring to `gateway`) to its listeners. With `memo` (see AttachMemo),
 * `deps(route)` names what the route's attachment depends on beyond the Gateway and shared state.
 */
export function attachRoutes(
  gateway: GatewayModel, routes: RouteModel[], ctx: AttachContext,
  memo?: { previous: AttachMemo; next: AttachMemo; deps: (route: RouteModel) => unknown },
): GatewayAttachments {
  const attachments: Attachment[] = [];
  const attachedTo = new Map<string, Set<string>>();
  const parents = new Map<string, RouteParentStatus[]>();
  for (const route of routes) {
    let attached: RouteAttachment;
    if (memo) {
      const deps = memo.deps(route);
      const before = memo.previous.get(route);
      attached = before && before.deps === deps ? before : attachRoute(gateway, route, ctx, deps);
      memo.next.set(route, attached);
    } else {
      attached = attachRoute(gateway, route, ctx, undefined);
    }
    attachments.push(...attached.attachments);
    for (const a of attached.attachments) {
      const key = listenerKey(a.listener);
      if (!attachedTo.has(key)) attachedTo.set(key, new Set());
      attachedTo.get(key)!.add(route.key);
    }
    if (attached.statuses) parents.set(route.key, attached.statuses);
  }
  const attachedRoutes = new Map([...attachedTo].map(([name, keys]) => [name, keys.size]));
  return { attachments, attachedRoutes, parents };
}
