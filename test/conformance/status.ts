// Status assertions of the conformance cases (README: "expectedStatus entries", "expectedListeners
// entries"), evaluated against the translator's reports: an object's status is the report for it.
// Each check returns the problems it found; none means it passed.
import type { KubeObject, StatusReport } from '../../libs/translator/api.ts';
import { CONTROLLER, keyOf, type ListenersEntry, type StatusEntry } from './cases.ts';

const GW_GROUP = 'gateway.networking.k8s.io';
const ALL_READY = [{ type: 'ResolvedRefs', status: 'True' }, { type: 'Accepted', status: 'True' }, { type: 'Programmed', status: 'True' }];

interface Cond { type?: string; status?: string; reason?: string; observedGeneration?: number }
interface WantCond { type: string; status: string; reason?: string }
interface Ref { group?: string; kind?: string; namespace?: string; name?: string }
interface Listener { name?: string; attachedRoutes?: number; supportedKinds?: Array<{ group?: string; kind?: string }>; conditions?: Cond[] }
interface Parent { parentRef?: Ref; controllerName?: string; conditions?: Cond[] }
interface Ancestor { ancestorRef?: Ref; controllerName?: string; conditions?: Cond[] }
interface Status {
  conditions?: Cond[]; addresses?: Array<{ type?: string; value?: string }>; listeners?: Listener[];
  parents?: Parent[]; ancestors?: Ancestor[]; attachedListenerSets?: number;
}

const list = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);
const fmt = (c: Cond | WantCond) => `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}${'observedGeneration' in c && c.observedGeneration !== undefined ? `@g${c.observedGeneration}` : ''}`;
const fmtAll = (cs: Array<Cond | WantCond>) => `[${cs.map(fmt).join(', ')}]`;
const fmtRef = (r: Ref | undefined) => `${r?.group ?? '<unset>'}/${r?.kind ?? '<unset>'} ${r?.namespace ?? '<unset>'}/${r?.name}`;

/** findConditionInList: same type; same status unless "<any>"; same reason when one is given. */
const has = (want: WantCond, actual: Cond[]) =>
  actual.some((c) => c.type === want.type && (want.status === '<any>' || c.status === want.status) && (!want.reason || c.reason === want.reason));
const missing = (want: WantCond[] | undefined, actual: Cond[]) => list(want).filter((w) => !has(w, actual));

export class StatusView {
  private readonly reports = new Map<string, StatusReport>();
  constructor(reports: StatusReport[], private readonly inputs: Map<string, KubeObject>) {
    for (const r of reports) this.reports.set(keyOf(r.kind, r.namespace, r.name), r);
  }

  /** The object's status, or undefined when the translator gave no report for it. */
  status(kind: string, namespace: string | undefined, name: string): Status | undefined {
    return this.reports.get(keyOf(kind, namespace, name))?.status as Status | undefined;
  }

  generation(kind: string, namespace: string | undefined, name: string): number {
    const key = keyOf(kind, namespace, name);
    return this.inputs.get(key)?.metadata.generation ?? this.reports.get(key)?.generation ?? 1;
  }

  declaredListeners(kind: string, namespace: string | undefined, name: string): number {
    const spec = this.inputs.get(keyOf(kind, namespace, name))?.spec as { listeners?: unknown[] } | undefined;
    return list(spec?.listeners).length;
  }
}

function stale(conds: Cond[], gen: number, what: string): string[] {
  const bad = conds.filter((c) => c.observedGeneration !== gen);
  return bad.length ? [`${what}: conditions without observedGeneration ${gen}: ${fmtAll(bad)}`] : [];
}

function listenerProblems(st: Status, want: WantCond[], names: string[] | 'all', declared: number): string[] {
  const ls = list(st.listeners);
  const out: string[] = [];
  let targets = ls;
  if (names === 'all') {
    // Upstream passes vacuously on an empty list; a Gateway that declares listeners and reports none is not ready.
    if (ls.length === 0 && declared > 0) out.push(`status.listeners is empty but spec declares ${declared} listener(s)`);
  } else {
    targets = [];
    for (const n of names) {
      const l = ls.find((x) => x.name === n);
      if (!l) out.push(`listener "${n}" not in status.listeners (have ${ls.map((x) => x.name).join(', ') || 'none'})`);
      else targets.push(l);
    }
  }
  for (const l of targets) {
    const miss = missing(want, list(l.conditions));
    if (miss.length) out.push(`listener "${l.name}": expected ${fmtAll(miss)}, has ${fmtAll(list(l.conditions))}`);
  }
  return out;
}

function parentMismatch(p: Parent, ref: Ref, controller: string, want: WantCond[], routeNs: string, nsRequired: boolean): string | undefined {
  const a = p.parentRef ?? {};
  const tag = `[${fmtRef(a)}]`;
  if (a.name !== ref.name) return `${tag} other parent`;
  if (p.controllerName !== controller) return `${tag} controllerName ${p.controllerName}`;
  for (const f of ['group', 'kind'] as const) if (a[f] !== ref[f]) return `${tag} parentRef.${f} must be set explicitly to ${ref[f]}`;
  const wantNs = ref.namespace || routeNs;
  if (a.namespace === undefined) {
    if (nsRequired || routeNs !== wantNs) return `${tag} parentRef.namespace must be set to ${wantNs}`;
  } else if (a.namespace !== wantNs) return `${tag} parentRef.namespace differs`;
  const miss = missing(want, list(p.conditions));
  return miss.length ? `${tag} missing ${fmtAll(miss)}, has ${fmtAll(list(p.conditions))}` : undefined;
}

function refMatches(r: Ref | undefined, want: Ref): boolean {
  return r?.name === want.name && (r?.namespace === undefined || r.namespace === want.namespace);
}

export function checkStatus(e: StatusEntry, view: StatusView): string[] {
  const st = view.status(e.kind, e.namespace, e.name);
  if (!st) return [`${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}: the translator reported no status`];
  const gen = view.generation(e.kind, e.namespace, e.name);
  const conds = list(st.conditions);
  const ownConditions = () => stale(conds, gen, 'status.conditions');
  const addressProblems = () =>
    e.addressRequired !== false && !list(st.addresses).some((a) => a && a.type)
      ? [`status.addresses has no entry with a type (got ${JSON.stringify(st.addresses ?? [])})`] : [];
  const declared = view.declaredListeners(e.kind, e.namespace, e.name);

  switch (e.assertion) {
    case 'WaitForGatewayAddress':
      return [...ownConditions(), ...addressProblems()];
    case 'GatewayAndRoutesMustBeAccepted':
      return [...ownConditions(), ...addressProblems(), ...listenerProblems(st, e.allListenersConditions ?? ALL_READY, 'all', declared)];
    case 'ParentListenersMustBeReady':
      return listenerProblems(st, e.allListenersConditions ?? ALL_READY, 'all', declared);
    case 'ListenersMustHaveConditions': {
      const names = e.listenerNames === undefined || e.listenerNames === 'all' || (e.listenerNames.length === 1 && e.listenerNames[0] === 'all')
        ? 'all' as const : e.listenerNames;
      return listenerProblems(st, e.listenerConditions ?? [], names, declared);
    }
    case 'GatewayMustHaveCondition':
    case 'GatewayClassMustHaveCondition':
    case 'ListenerSetMustHaveCondition': {
      const miss = missing(e.conditions, conds);
      return [...ownConditions(), ...(miss.length ? [`expected ${fmtAll(miss)}, has ${fmtAll(conds)}`] : [])];
    }
    case 'ConditionsHaveLatestObservedGeneration': {
      const field = st.parents !== undefined || e.kind.endsWith('Route') ? 'parents'
        : st.ancestors !== undefined || e.kind.endsWith('Policy') ? 'ancestors' : undefined;
      const all = field === 'parents' ? list(st.parents).flatMap((p) => list(p.conditions))
        : field === 'ancestors' ? list(st.ancestors).flatMap((a) => list(a.conditions)) : conds;
      if (all.length === 0) return [`the object has no conditions${field ? ` under status.${field}` : ''}`];
      return stale(all, gen, `status.${field ?? 'conditions'}`);
    }
    case 'RouteParentsMustMatch': {
      const parents = list(st.parents);
      const out = parents.flatMap((p) => stale(list(p.conditions), gen, `parent ${fmtRef(p.parentRef)}`));
      const expected = e.parents
        ? e.parents.map((x) => ({ ref: x.parentRef, controller: x.controllerName, conditions: x.conditions }))
        : e.parent ? [{ ref: e.parent, controller: undefined, conditions: e.conditions }] : [];
      if (expected.length === 0) return ['entry names no parent'];
      for (const x of expected) {
        const controller = !x.controller || x.controller === '<controllerName>' ? CONTROLLER : x.controller;
        const why = parents.map((p) => parentMismatch(p, x.ref, controller, list(x.conditions), e.namespace ?? 'default', e.parentNamespaceRequired === true));
        if (!why.includes(undefined)) {
          out.push(`no status.parents entry for ${fmtRef(x.ref)} with controllerName ${controller} and ${fmtAll(list(x.conditions))}: ${why.join('; ') || 'status.parents is empty'}`);
        }
      }
      return out;
    }
    case 'RouteMustHaveCondition': {
      if (!e.parent) return ['entry names no parent'];
      const hits = list(st.parents).filter((p) => refMatches(p.parentRef, e.parent!));
      const miss = list(e.conditions).filter((w) => !hits.some((p) => has(w, list(p.conditions))));
      if (!miss.length) return [];
      const found = hits.map((p) => `${fmtRef(p.parentRef)}: ${fmtAll(list(p.conditions))}`).join('; ') || 'no such parent';
      return [`parent ${e.parent.namespace}/${e.parent.name}: expected ${fmtAll(miss)}, found ${found}`];
    }
    case 'RouteMustHaveNoAcceptedParents': {
      const parents = list(st.parents);
      if (parents.length > 1) return [`expected no parents or exactly one with Accepted=False, got ${parents.length}`];
      if (parents.length === 1 && !has({ type: 'Accepted', status: 'False' }, list(parents[0].conditions))) {
        return [`the single parent ${fmtRef(parents[0].parentRef)} is not Accepted=False: ${fmtAll(list(parents[0].conditions))}`];
      }
      return [];
    }
    case 'GatewayMustHaveZeroRoutes': {
      const ls = list(st.listeners);
      return ls.length === 0 || (ls.length === 1 && (ls[0].attachedRoutes ?? 0) === 0)
        ? [] : [`expected no listeners or one with attachedRoutes 0, got ${ls.map((l) => `${l.name}:${l.attachedRoutes}`).join(', ')}`];
    }
    case 'GatewayMustHaveAttachedListenerSets': {
      const got = st.attachedListenerSets ?? 0;
      return got === e.attachedListenerSets ? [] : [`status.attachedListenerSets is ${got}, expected ${e.attachedListenerSets}`];
    }
    case 'PolicyAncestorMustHaveCondition': {
      if (!e.ancestor) return ['entry names no ancestor'];
      const hits = list(st.ancestors).filter((a) => refMatches(a.ancestorRef, e.ancestor!));
      const miss = list(e.conditions).filter((w) => !hits.some((a) => has(w, list(a.conditions))));
      if (!miss.length) return [];
      const found = hits.map((a) => `${fmtRef(a.ancestorRef)}: ${fmtAll(list(a.conditions))}`).join('; ') || 'no such ancestor';
      return [`ancestor ${e.ancestor.namespace}/${e.ancestor.name}: expected ${fmtAll(miss)}, found ${found}`];
    }
  }
}

export function checkListeners(e: ListenersEntry, view: StatusView): string[] {
  const st = view.status(e.kind, e.namespace, e.name);
  if (!st) return [`${e.kind} ${e.namespace}/${e.name}: the translator reported no status`];
  const ls = list(st.listeners);
  const out: string[] = [];
  if (ls.length !== e.listeners.length) out.push(`status.listeners has ${ls.length} entries (${ls.map((l) => l.name).join(', ')}), expected ${e.listeners.length}`);
  for (const want of e.listeners) {
    const got = ls.find((l) => l.name === want.name);
    const tag = `listener "${want.name}"`;
    if (!got) { out.push(`${tag} missing`); continue; }
    if ((got.attachedRoutes ?? 0) !== (want.attachedRoutes ?? 0)) out.push(`${tag}: attachedRoutes ${got.attachedRoutes}, expected ${want.attachedRoutes ?? 0}`);
    const kinds = new Set(list(got.supportedKinds).map((k) => `${k.group ?? GW_GROUP}/${k.kind}`));
    if (list(want.supportedKinds).length === 0 && kinds.size > 0) out.push(`${tag}: supportedKinds must be empty, got ${[...kinds].join(', ')}`);
    for (const k of list(want.supportedKinds)) {
      if (!kinds.has(`${k.group ?? GW_GROUP}/${k.kind}`)) out.push(`${tag}: supportedKinds lacks ${k.kind} (got ${[...kinds].join(', ') || 'none'})`);
    }
    const miss = missing(want.conditions, list(got.conditions));
    if (miss.length) out.push(`${tag}: expected ${fmtAll(miss)}, has ${fmtAll(list(got.conditions))}`);
  }
  return out;
}
