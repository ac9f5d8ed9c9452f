// translate(): the state of the world in, one xDS snapshot per Gateway and one status report per
// object of ours out. It reads top to bottom as the pipeline: index and parse the inputs, keep our
// classes and Gateways, read the routes, resolve their backends, then per Gateway attach routes,
// build the IR and turn it into Envoy resources; statuses last, as they depend on all of it.
//
// Each Gateway is translated by translateGateway() from its own model, the routes that name it, the
// Services and Upstreams those routes use, the options reaching it (a route's RouteOptions are in its
// model) and the shared state (classes, grants, namespaces, Secrets, ConfigMaps, ListenerSets,
// BackendTLSPolicies) only. A long-lived Translator remembers each Gateway's inputs
// by identity and reuses its translation while they are unchanged: one route change re-translates
// only the Gateways that route names, and inside them only what the route reaches (GatewayReuse:
// its attachment, the virtual hosts it is in). Identity is stable because parsed records and the models
// derived from them are cached by the input object, which the World keeps while it is unchanged.
import type { GatewaySnapshot, StatusReport, TranslateOptions, TranslateResult, TranslatorInput } from './api.ts';
import { attachRoutes, type AttachMemo, type RouteParentStatus } from './attachment.ts';
import { resolveRuleTraffic, type ResolvedRule } from './backends.ts';
import { apiListenerTemplate, socketListener } from './envoy/listeners.ts';
import { clusterSecrets, envoyCluster, loadAssignments, unavailableCluster } from './envoy/clusters.ts';
import { grpcVariant } from './envoy/grpc-variant.ts';
import { routeConfiguration } from './envoy/route-config.ts';
import { gatewayModel, gatewayStatus, withParametersChecked, type GatewayModel } from './gateway.ts';
import { acceptedClasses, gatewayClassReports } from './gatewayclass.ts';
import { objectKey, SHARED_KINDS, StateIndex, type ObjectRecord, type TranslatorState } from './index-state.ts';
import { grpcRouteConfigName, routeConfigName } from './names.ts';
import { grpcRouteModel, httpRouteModel, type RouteModel } from './routes.ts';
import { compareReports, ok, report, type Verdict } from './status.ts';
import { gatewayIR, type VirtualHostMemo } from './virtual-hosts.ts';
import { backendTlsIndex, backendTlsReports, type BackendTlsIndex } from './backend-tls.ts';
import { withGatewayTls } from './listener-tls.ts';
import { withTls } from './tls.ts';
import { tlsRouteModel } from './tls-routes.ts';
import { isL4Listener, l4IR, l4RouteModel } from './l4-routes.ts';
import { l4Listener } from './envoy/l4.ts';
import { isAttached, listenerSetReport, listenerSetsOf, mergeListenerSets, refParent, type ListenerSetModel } from './listener-sets.ts';
import { GATEWAY_GROUP } from './objects.ts';
import { upstreamReports, withUpstreamTargets, type UpstreamModel } from './upstreams.ts';
import { withRouteOptions } from './route-options.ts';
import { applyGatewayOptions, gatewayOptionsPlan } from './gateway-options.ts';
import { optionReports } from './option-status.ts';

export type { TranslateOptions, TranslateResult, TranslatorInput } from './api.ts';

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Models derived from a parsed record, kept for as long as the record is (it is cached by object). */
const models = new WeakMap<ObjectRecord<never>, unknown>();

function modelOf<R extends ObjectRecord<never>, M>(record: R, make: (r: R) => M): M {
  let model = models.get(record) as M | undefined;
  if (model === undefined) models.set(record, (model = make(record)));
  return model;
}

/** Gateways of our classes, including those that failed to parse but whose class is readable. */
function ourGateways(state: TranslatorState, classes: Set<string>): GatewayModel[] {
  return [...state.gateways.values()]
    .map((r) => withParametersChecked(modelOf(r as ObjectRecord<never>, () => gatewayModel(r)), state))
    .filter((g) => g.className !== undefined && classes.has(g.className))
    .sort(byKey);
}

const ROUTE_KINDS: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'UDPRoute', 'TLSRoute']);
const UPSTREAM = 'Upstream/';

/** Models of every route, or only of those whose "<kind>/<ns>/<name>" is in `only`. */
function routeModels(state: TranslatorState, only?: Set<string>): RouteModel[] {
  const of = <T>(records: Map<string, ObjectRecord<T>>, kind: string, make: (r: ObjectRecord<T>) => RouteModel) => {
    const picked = only
      ? [...only].filter((k) => k.startsWith(`${kind}/`)).flatMap((k) => records.get(k.slice(kind.length + 1)) ?? [])
      : [...records.values()];
    // RouteOptions give a route a model of its own (route-options.ts), kept while they are unchanged.
    return picked.map((r) => withRouteOptions(state, modelOf(r as ObjectRecord<never>, () => make(r))));
  };
  return [
    ...of(state.httpRoutes, 'HTTPRoute', httpRouteModel),
    ...of(state.grpcRoutes, 'GRPCRoute', grpcRouteModel),
    ...of(state.tcpRoutes, 'TCPRoute', (r) => l4RouteModel('TCPRoute', r)),
    ...of(state.udpRoutes, 'UDPRoute', (r) => l4RouteModel('UDPRoute', r)),
    ...of(state.tlsRoutes, 'TLSRoute', tlsRouteModel),
  ].sort(byKey);
}

/** The HTTPRoute or GRPCRoute "<kind>/<namespace>/<name>" as read from its object, before RouteOptions. */
function baseRouteModel(state: TranslatorState, key: string): RouteModel | undefined {
  const name = key.slice(key.indexOf('/') + 1);
  const http = key.startsWith('HTTPRoute/') ? state.httpRoutes.get(name) : undefined;
  if (http) return modelOf(http as ObjectRecord<never>, () => httpRouteModel(http));
  const grpc = key.startsWith('GRPCRoute/') ? state.grpcRoutes.get(name) : undefined;
  return grpc && modelOf(grpc as ObjectRecord<never>, () => grpcRouteModel(grpc));
}

/** "<group>/<kind>/<namespace>/<name>" of each parent a route names. */
function parentTargets(route: RouteModel): Set<string> {
  return new Set(route.parentRefs.map((ref) => `${ref.group}/${ref.kind}/${ref.namespace ?? route.id.namespace}/${ref.name}`));
}

function ownerTarget(owner: { group: string; kind: string; namespace: string; name: string }): string {
  return `${owner.group}/${owner.kind}/${owner.namespace}/${owner.name}`;
}

/** The routes naming `gateway` or one of its ListenerSets, in route-key order. */
function routesOf(gateway: GatewayModel, byParent: Map<string, RouteModel[]>): RouteModel[] {
  const targets = new Set([`${GATEWAY_GROUP}/Gateway/${gateway.key}`]);
  for (const l of gateway.listeners) if (l.owner) targets.add(ownerTarget(l.owner));
  const names = (r: RouteModel) => r.parentRefs.some((ref) => refParent(r, ref, gateway) !== undefined);
  // byParent's lists are in key order already: only routes of several targets need sorting.
  if (targets.size === 1) return (byParent.get([...targets][0]) ?? []).filter(names);
  const found = new Set<RouteModel>();
  for (const target of targets) for (const r of byParent.get(target) ?? []) found.add(r);
  return [...found].filter(names).sort(byKey);
}

/**
 * "<namespace>/<name>" of every Service or Upstream a route's backends may resolve to: what
 * resolveRuleTraffic (backends.ts) looks up, the rules' backendRefs and RequestMirror targets (any
 * kind: a superset only costs a needless re-translation). withUpstreamTargets adds the Services of
 * Kube Upstreams, which depend on the state.
 */
const serviceRefs = new WeakMap<RouteModel, string[]>();

function servicesOf(route: RouteModel): string[] {
  let keys = serviceRefs.get(route);
  if (keys) return keys;
  const found = new Set<string>();
  const add = (ref: { name: string; namespace?: string }) => found.add(objectKey(ref.namespace ?? route.id.namespace, ref.name));
  for (const rule of route.rules) {
    rule.backendRefs.forEach(add);
    for (const mirror of rule.compiled?.mirrors ?? []) add(mirror.backendRef);
  }
  keys = [...found].sort();
  serviceRefs.set(route, keys);
  return keys;
}

function sameRefs(a: readonly unknown[] | undefined, b: readonly unknown[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Per backend key, the Service state and the Upstream record a resolution reads. */
function backendsOf(state: TranslatorState, keys: string[]): unknown[] {
  return keys.flatMap((k) => [state.services.get(k), state.upstreams.get(k)]);
}

/** backendsOf(state, keys) equals `known`, without building it (checked for every route use). */
function sameBackends(state: TranslatorState, keys: string[], known: unknown[]): boolean {
  return known.length === 2 * keys.length && keys.every((k, i) => state.services.get(k) === known[2 * i] && state.upstreams.get(k) === known[2 * i + 1]);
}

interface Resolution {
  shared: number;
  /** backendsOf the keys the route refers to, as resolved against. */
  backends: unknown[];
  rules: ResolvedRule[];
}

/**
 * Backend resolution depends on the route, the Services it refers to and the shared state only,
 * not on the Gateway: done once per route, and kept while those are unchanged, so that a resolved
 * route keeps its identity across translations (what attachment and IR memoize on).
 */
function backendResolver(state: TranslatorState, shared: number, memo: WeakMap<RouteModel, Resolution>): { resolve: (r: RouteModel) => ResolvedRule[]; resolvedRefs: (r: RouteModel) => Verdict } {
  const resolve = (route: RouteModel) => {
    const keys = withUpstreamTargets(state, servicesOf(route));
    const known = memo.get(route);
    if (known && known.shared === shared && sameBackends(state, keys, known.backends)) return known.rules;
    const from = { kind: route.kind, namespace: route.id.namespace };
    const rules = route.rules.map((rule) => resolveRuleTraffic(state, from, rule));
    memo.set(route, { shared, backends: backendsOf(state, keys), rules });
    return rules;
  };
  const resolvedRefs = (route: RouteModel) => resolve(route).find((r) => r.problem)?.problem ?? ok('ResolvedRefs');
  return { resolve, resolvedRefs };
}

export interface GatewayTranslation {
  /** Absent for a Gateway that could not be read: there is nothing to program. */
  snapshot?: GatewaySnapshot;
  attachedRoutes: Map<string, number>;
  parents: Map<string, RouteParentStatus[]>;
}

export interface GatewayContext {
  state: TranslatorState;
  controllerName: string;
  now: string;
  resolve: (r: RouteModel) => ResolvedRule[];
  resolvedRefs: (r: RouteModel) => Verdict;
  /** BackendTLSPolicies, resolved once for every Gateway. */
  backendTls: BackendTlsIndex;
}

/**
 * What a Gateway's previous translation leaves for the next one of the same Gateway model in the
 * same shared state: its routes' attachments and its virtual hosts. `translateGateway` reads the
 * previous one and fills the next.
 */
export interface GatewayReuse {
  attach: AttachMemo;
  virtualHosts: VirtualHostMemo;
}

export const noReuse = (): GatewayReuse => ({ attach: new Map(), virtualHosts: new Map() });

/** One Gateway: `routes` are the routes whose parentRefs name it. */
export function translateGateway(
  gateway: GatewayModel, routes: RouteModel[], ctx: GatewayContext, previous: GatewayReuse = noReuse(), next: GatewayReuse = noReuse(),
): GatewayTranslation {
  const { attachments: attached, attachedRoutes, parents } = attachRoutes(gateway, routes, ctx, { previous: previous.attach, next: next.attach, deps: ctx.resolve });
  if (gateway.invalid !== undefined || gateway.rejected) return { attachedRoutes, parents };
  const attachments = attached.filter((a) => a.listener.usable); // only programmed listeners reach Envoy
  // TCP and UDP listeners get a layer-4 proxy (l4-routes.ts); the others an HTTP connection manager.
  const l4 = l4IR(gateway, attachments, ctx.resolve, ctx.state);
  const httpGateway = { ...gateway, listeners: gateway.listeners.filter((l) => !isL4Listener(l)) };
  const http = attachments.filter((a) => !isL4Listener(a.listener) && a.route.kind !== 'TLSRoute');
  // VirtualHostOptions and ListenerOptions go on the IR afterwards, so its memos do not depend on them.
  const ir = applyGatewayOptions(gatewayIR(httpGateway, http, ctx.resolve, { previous: previous.virtualHosts, next: next.virtualHosts }), gatewayOptionsPlan(ctx.state, gateway));
  const clusterByName = new Map([...l4.clusters, ...ir.clusters, unavailableCluster].map((c) => [c.name, c]));
  const clusterIRs = [...clusterByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const routeConfigs = ir.ports.map((port) => routeConfiguration(routeConfigName(gateway.key, port.port), port));
  const snapshot: GatewaySnapshot = {
    gateway: gateway.key,
    listeners: [...ir.ports.map((port) => socketListener(gateway.key, port)), ...l4.ports.map((port) => l4Listener(gateway.key, port))],
    routes: routeConfigs,
    clusters: clusterIRs.map(envoyCluster),
    endpoints: loadAssignments(clusterIRs),
    secrets: clusterSecrets(clusterIRs),
    grpcRoutes: routeConfigs.map((config, i) => grpcVariant(config, grpcRouteConfigName(gateway.key, ir.ports[i].port))),
    apiListeners: ir.ports.map((port) => ({ port: port.port, hostnames: port.hostnames, template: apiListenerTemplate(gateway.key, port) })),
  };
  // HTTPS and TLS listeners, their certificates, and BackendTLSPolicies (tls.ts).
  return { snapshot: withTls(snapshot, gateway, attachments, ctx, ir), attachedRoutes, parents };
}

interface GatewayMemo {
  declared: GatewayModel;
  shared: number;
  merged: { gateway: GatewayModel; sets: ListenerSetModel[] };
  /** The routes naming the Gateway (or its ListenerSets). */
  named: RouteModel[];
  /** Services and Upstreams those routes refer to (keys), for finding the Gateways their changes affect. */
  services: string[];
  deps: unknown[];
  result: GatewayTranslation;
  reports: StatusReport[];
  /** For the next translation of the same merged Gateway (see GatewayReuse). */
  reuse: GatewayReuse;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

/**
 * Translation with memory, fed by a StateIndex that is updated one object at a time. Each call
 * re-translates only the Gateways the changes since the last call can affect: a changed Gateway,
 * the Gateways a changed route names (before and after the change), the Gateways using a changed
 * Service or Upstream (or the Service of a Kube Upstream they use); every Gateway when a shared kind
 * (classes, grants, namespaces, Secrets, ConfigMaps, ListenerSets, BackendTLSPolicies) changed. The result equals a fresh translation of the same
 * state; `changed` names the Gateways whose snapshot is new or gone.
 */
export class Translator {
  private index: StateIndex | undefined;
  private readonly memos = new Map<string, GatewayMemo>();
  private readonly routeReports = new Map<string, StatusReport>();
  /** Route key → the Gateways whose translation gives it a parent status. */
  private readonly routeGateways = new Map<string, Set<string>>();
  /** Service or Upstream key → the Gateways whose routes use it. */
  private readonly gatewaysByService = new Map<string, Set<string>>();
  private readonly byParent = new Map<string, RouteModel[]>();
  private readonly routeByKey = new Map<string, RouteModel>();
  private sharedVersion = 0;
  private readonly resolutions = new WeakMap<RouteModel, Resolution>();
  private readonly upstreamReports = new WeakMap<UpstreamModel, StatusReport>();

  constructor(private readonly opts: TranslateOptions) {}

  /** Translates a whole input (a fresh index; models and snapshots still reused by identity). */
  translate(input: TranslatorInput, now?: string): TranslateResult & { changed: Set<string> } {
    return this.translateIndex(StateIndex.of(input), now);
  }

  translateIndex(index: StateIndex, now = this.opts.now ?? new Date(0).toISOString()): TranslateResult & { changed: Set<string> } {
    const changes = index.drainChanges();
    const full = this.index !== index;
    this.index = index;
    const dirty = new Set<string>();
    if (full || [...changes.objects].some((k) => SHARED_KINDS.has(k.slice(0, k.indexOf('/'))))) {
      this.sharedVersion++;
      for (const key of index.gateways.keys()) dirty.add(key);
      for (const key of this.memos.keys()) dirty.add(key);
    }
    if (full) this.rebuildRoutes(index);
    else this.applyRouteChanges(index, changes.objects, dirty);
    for (const key of changes.objects) if (key.startsWith('Gateway/')) dirty.add(key.slice('Gateway/'.length));
    for (const svc of changes.services) for (const gw of this.gatewaysByService.get(svc) ?? []) dirty.add(gw);
    for (const key of changes.objects) if (key.startsWith(UPSTREAM)) for (const gw of this.gatewaysByService.get(key.slice(UPSTREAM.length)) ?? []) dirty.add(gw);

    const { opts } = this;
    const classes = acceptedClasses(index, opts.controllerName);
    const ctx: GatewayContext = {
      state: index, controllerName: opts.controllerName, now, ...backendResolver(index, this.sharedVersion, this.resolutions), backendTls: backendTlsIndex(index),
    };
    const ours = new Map(ourGateways(index, classes).map((g) => [g.key, g]));
    const changed = new Set<string>();
    const routesToReport = new Set<string>();
    for (const key of new Set([...dirty, ...this.memos.keys()])) {
      const declared = ours.get(key);
      const before = this.memos.get(key);
      if (before && declared && !dirty.has(key)) continue;
      const memo = declared ? this.translateOne(declared, before, index, ctx, now) : undefined;
      if (memo === before) continue;
      this.forget(key, before);
      if (memo) this.remember(key, memo);
      // A route's report changes only where its parent statuses from this Gateway did (they keep
      // their identity while its attachment is reused).
      const parentsBefore = before?.result.parents;
      const parentsAfter = memo?.result.parents;
      for (const [routeKey, p] of parentsBefore ?? []) if (parentsAfter?.get(routeKey) !== p) routesToReport.add(routeKey);
      for (const [routeKey, p] of parentsAfter ?? []) if (parentsBefore?.get(routeKey) !== p) routesToReport.add(routeKey);
      if (memo?.result.snapshot !== before?.result.snapshot) changed.add(key);
    }
    for (const routeKey of routesToReport) this.reportRoute(routeKey);

    const snapshots = new Map<string, GatewaySnapshot>();
    const retained: string[] = [];
    const reports: StatusReport[] = [];
    const gatewaysByClass = new Map<string, string[]>();
    for (const [key, memo] of this.memos) {
      if (memo.result.snapshot) snapshots.set(key, memo.result.snapshot);
      else retained.push(key);
      reports.push(...memo.reports);
      const cls = memo.merged.gateway.className!;
      const ofClass = gatewaysByClass.get(cls);
      if (ofClass) ofClass.push(key);
      else gatewaysByClass.set(cls, [key]);
    }
    for (const r of this.routeReports.values()) reports.push(r); // tens of thousands: no spread
    reports.push(...gatewayClassReports(index, classes, gatewaysByClass, now));
    reports.push(...backendTlsReports(ctx.backendTls, snapshots, opts.controllerName, now));
    for (const r of upstreamReports(index, now, this.upstreamReports)) reports.push(r);
    reports.push(...optionReports(index, {
      route: (key) => baseRouteModel(index, key),
      gateway: (key) => this.memos.get(key)?.merged.gateway,
      gatewaysOfRoute: (key) => this.routeGateways.get(key) ?? [],
    }, now));
    return { snapshots, retained, reports, changed };
  }

  private rebuildRoutes(index: StateIndex): void {
    this.byParent.clear();
    this.routeByKey.clear();
    for (const route of routeModels(index)) this.addRoute(route);
  }

  /** Updates the route index for changed route objects and marks the Gateways they named or name. */
  private applyRouteChanges(index: StateIndex, keys: Set<string>, dirty: Set<string>): void {
    const current = new Map(routeModels(index, keys).map((r) => [r.key, r]));
    for (const key of keys) {
      if (!ROUTE_KINDS.has(key.slice(0, key.indexOf('/')))) continue;
      const before = this.routeByKey.get(key);
      const after = current.get(key);
      if (before === after) continue;
      for (const route of [before, after]) {
        if (!route) continue;
        for (const target of parentTargets(route)) for (const gw of this.gatewaysOfTarget(target)) dirty.add(gw);
      }
      if (before) this.removeRoute(before);
      if (after) this.addRoute(after);
    }
  }

  /** The Gateways a parentRef target can mean: a Gateway, or the Gateway owning a ListenerSet. */
  private gatewaysOfTarget(target: string): string[] {
    const prefix = `${GATEWAY_GROUP}/Gateway/`;
    if (target.startsWith(prefix)) return [target.slice(prefix.length)];
    return [...this.memos].filter(([, m]) => m.merged.gateway.listeners.some((l) => l.owner && ownerTarget(l.owner) === target)).map(([k]) => k);
  }

  private addRoute(route: RouteModel): void {
    this.routeByKey.set(route.key, route);
    for (const target of parentTargets(route)) {
      const list = this.byParent.get(target);
      if (!list) {
        this.byParent.set(target, [route]);
        continue;
      }
      // Kept in key order (binary search for the place), which is the order routesOf() returns.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid].key < route.key) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, route);
    }
  }

  private removeRoute(route: RouteModel): void {
    this.routeByKey.delete(route.key);
    for (const target of parentTargets(route)) {
      const list = this.byParent.get(target)?.filter((r) => r !== route);
      if (list?.length) this.byParent.set(target, list);
      else this.byParent.delete(target);
    }
  }

  private forget(key: string, memo: GatewayMemo | undefined): void {
    this.memos.delete(key);
    if (!memo) return;
    for (const svc of memo.services) this.gatewaysByService.get(svc)?.delete(key);
    for (const route of memo.named) this.routeGateways.get(route.key)?.delete(key);
  }

  private remember(key: string, memo: GatewayMemo): void {
    this.memos.set(key, memo);
    for (const svc of memo.services) addTo(this.gatewaysByService, svc, key);
    for (const route of memo.named) addTo(this.routeGateways, route.key, key);
  }

  /** A route's status: its parent statuses from every Gateway that gives it one, in Gateway order. */
  private reportRoute(routeKey: string): void {
    const route = this.routeByKey.get(routeKey);
    const gateways = [...(this.routeGateways.get(routeKey) ?? [])].sort();
    const parents: RouteParentStatus[] = [];
    const keys: string[] = [];
    for (const gw of gateways) {
      const p = this.memos.get(gw)?.result.parents.get(routeKey);
      if (!p) continue;
      parents.push(...p);
      keys.push(gw);
    }
    if (!route || keys.length === 0) {
      this.routeReports.delete(routeKey);
      return;
    }
    // A route of one Gateway (the common case) shares that Gateway's statuses rather than copy them.
    const own = keys.length === 1 ? this.memos.get(keys[0])!.result.parents.get(routeKey)! : parents;
    this.routeReports.set(routeKey, report(route.id, { parents: own }, keys));
  }

  private translateOne(declared: GatewayModel, before: GatewayMemo | undefined, state: TranslatorState, ctx: GatewayContext, now: string): GatewayMemo {
    // The listeners of the ListenerSets the Gateway allows join its own, conflicts settled, then
    // the TLS of every listener is resolved (listener-tls.ts): all from shared inputs.
    const merged = before && before.declared === declared && before.shared === this.sharedVersion
      ? before.merged
      : mergeListenerSets(declared, listenerSetsOf(declared, state), (g) => withGatewayTls(g, state));
    const named = routesOf(merged.gateway, this.byParent);
    const services = withUpstreamTargets(state, [...new Set(named.flatMap(servicesOf))].sort());
    const options = state.optionLinks.targeting(`Gateway/${merged.gateway.key}`); // VirtualHostOptions, ListenerOptions
    const deps = [merged.gateway, this.sharedVersion, ...named, ...backendsOf(state, services), ...options];
    if (before && sameRefs(before.deps, deps)) return before;

    const { gateway, sets } = merged;
    const reuse = noReuse();
    const result = translateGateway(gateway, named, ctx, before?.merged === merged ? before.reuse : noReuse(), reuse);
    const reports = [
      report(gateway.id, gatewayStatus({
        gateway, attachedRoutes: result.attachedRoutes, defaultAddress: this.opts.defaultAddress, now,
        usableAddresses: this.opts.usableAddresses, attachedListenerSets: sets.filter(isAttached).length,
      }), [gateway.key]),
      ...sets.map((set) => listenerSetReport(set, result.attachedRoutes, now)),
    ];
    return { declared, shared: this.sharedVersion, merged, named, services, deps, result, reports, reuse };
  }
}

/** A one-off translation (the CLI, tests): a fresh Translator, nothing remembered. */
export function translate(input: TranslatorInput, opts: TranslateOptions): TranslateResult {
  const result = new Translator(opts).translate(input);
  return { snapshots: result.snapshots, retained: result.retained, reports: result.reports.sort(compareReports) };
}
