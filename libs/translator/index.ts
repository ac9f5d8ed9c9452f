// translate(): the state of the world in, one xDS snapshot per Gateway and one status report per
// object of ours out. It reads top to bottom as the pipeline: index and parse the inputs, keep our
// classes and Gateways, read the routes, resolve their backends, then per Gateway attach routes,
// build the IR and turn it into Envoy resources; statuses last, as they depend on all of it.
//
// Each Gateway is translated by translateGateway() from its own model, the routes that name it and
// the shared state only, so that a later change can memoize per Gateway.
import type { GatewaySnapshot, StatusReport, TranslateOptions, TranslateResult, TranslatorInput } from './api.ts';
import { attachRoutes, type RouteParentStatus } from './attachment.ts';
import { resolveRuleTraffic, type ResolvedRule } from './backends.ts';
import { apiListenerTemplate, socketListener } from './envoy/listeners.ts';
import { edsCluster, loadAssignment, unavailableCluster } from './envoy/clusters.ts';
import { grpcVariant } from './envoy/grpc-variant.ts';
import { routeConfiguration } from './envoy/route-config.ts';
import { gatewayModel, gatewayStatus, type GatewayModel } from './gateway.ts';
import { acceptedClasses, gatewayClassReports } from './gatewayclass.ts';
import { indexState, type TranslatorState } from './index-state.ts';
import { grpcRouteConfigName, routeConfigName } from './names.ts';
import { grpcRouteModel, httpRouteModel, type RouteModel } from './routes.ts';
import { compareReports, ok, report, type Verdict } from './status.ts';
import { gatewayIR } from './virtual-hosts.ts';
import { backendTlsIndex, backendTlsReports, type BackendTlsIndex } from './backend-tls.ts';
import { withGatewayTls } from './listener-tls.ts';
import { withTls } from './tls.ts';
import { tlsRouteModel } from './tls-routes.ts';
import { isL4Listener, l4IR, l4RouteModels } from './l4-routes.ts';
import { l4Listener } from './envoy/l4.ts';
import { isAttached, listenerSetReport, listenerSetsOf, mergeListenerSets, refParent } from './listener-sets.ts';

export type { TranslateOptions, TranslateResult, TranslatorInput } from './api.ts';

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Gateways of our classes, including those that failed to parse but whose class is readable. */
function ourGateways(state: TranslatorState, classes: Set<string>): GatewayModel[] {
  return [...state.gateways.values()]
    .map(gatewayModel)
    .filter((g) => g.className !== undefined && classes.has(g.className))
    .sort(byKey);
}

function routeModels(state: TranslatorState): RouteModel[] {
  return [...[...state.httpRoutes.values()].map(httpRouteModel), ...[...state.grpcRoutes.values()].map(grpcRouteModel), ...l4RouteModels(state), ...[...state.tlsRoutes.values()].map(tlsRouteModel)].sort(byKey);
}

/** Backend resolution depends on the route only, not on the Gateway: done once per route. */
function backendResolver(state: TranslatorState): { resolve: (r: RouteModel) => ResolvedRule[]; resolvedRefs: (r: RouteModel) => Verdict } {
  const cache = new Map<string, ResolvedRule[]>();
  const resolve = (route: RouteModel) => {
    let rules = cache.get(route.key);
    if (!rules) {
      const from = { kind: route.kind, namespace: route.id.namespace };
      rules = route.rules.map((rule) => resolveRuleTraffic(state, from, rule));
      cache.set(route.key, rules);
    }
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

/** One Gateway: `routes` are the routes whose parentRefs name it. */
export function translateGateway(gateway: GatewayModel, routes: RouteModel[], ctx: GatewayContext): GatewayTranslation {
  const { attachments: attached, attachedRoutes, parents } = attachRoutes(gateway, routes, ctx);
  if (gateway.invalid !== undefined || gateway.rejected) return { attachedRoutes, parents };
  const attachments = attached.filter((a) => a.listener.usable); // only programmed listeners reach Envoy
  // TCP and UDP listeners get a layer-4 proxy (l4-routes.ts); the others an HTTP connection manager.
  const l4 = l4IR(gateway, attachments, ctx.resolve, ctx.state);
  const httpGateway = { ...gateway, listeners: gateway.listeners.filter((l) => !isL4Listener(l)) };
  const ir = gatewayIR(httpGateway, attachments.filter((a) => !isL4Listener(a.listener) && a.route.kind !== 'TLSRoute'), ctx.resolve);
  const clusterByName = new Map([...l4.clusters, ...ir.clusters, unavailableCluster].map((c) => [c.name, c]));
  const clusterIRs = [...clusterByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const routeConfigs = ir.ports.map((port) => routeConfiguration(routeConfigName(gateway.key, port.port), port));
  const snapshot: GatewaySnapshot = {
    gateway: gateway.key,
    listeners: [...ir.ports.map((port) => socketListener(gateway.key, port)), ...l4.ports.map((port) => l4Listener(gateway.key, port))],
    routes: routeConfigs,
    clusters: clusterIRs.map(edsCluster),
    endpoints: clusterIRs.map(loadAssignment),
    secrets: [],
    grpcRoutes: routeConfigs.map((config, i) => grpcVariant(config, grpcRouteConfigName(gateway.key, ir.ports[i].port))),
    apiListeners: ir.ports.map((port) => ({ port: port.port, hostnames: port.hostnames, template: apiListenerTemplate(gateway.key, port) })),
  };
  // HTTPS and TLS listeners, their certificates, and BackendTLSPolicies (tls.ts).
  return { snapshot: withTls(snapshot, gateway, attachments, ctx), attachedRoutes, parents };
}

export function translate(input: TranslatorInput, opts: TranslateOptions): TranslateResult {
  const now = opts.now ?? new Date(0).toISOString();
  const state = indexState(input);
  const classes = acceptedClasses(state, opts.controllerName);
  const gateways = ourGateways(state, classes);
  const routes = routeModels(state);
  const ctx: GatewayContext = { state, controllerName: opts.controllerName, now, ...backendResolver(state), backendTls: backendTlsIndex(state) };

  const snapshots = new Map<string, GatewaySnapshot>();
  const retained: string[] = [];
  const reports: StatusReport[] = [];
  const routeParents = new Map<string, { route: RouteModel; parents: RouteParentStatus[]; gateways: string[] }>();
  const gatewaysByClass = new Map<string, string[]>();

  for (const declared of gateways) {
    // The listeners of the ListenerSets the Gateway allows join its own, conflicts settled, then
    // the TLS of every listener is resolved (listener-tls.ts).
    const { gateway, sets } = mergeListenerSets(declared, listenerSetsOf(declared, state), (g) => withGatewayTls(g, state));
    const named = routes.filter((r) => r.parentRefs.some((ref) => refParent(r, ref, gateway) !== undefined));
    const result = translateGateway(gateway, named, ctx);
    if (result.snapshot) snapshots.set(gateway.key, result.snapshot);
    else retained.push(gateway.key);
    reports.push(report(gateway.id, gatewayStatus({
      gateway, attachedRoutes: result.attachedRoutes, defaultAddress: opts.defaultAddress, now,
      usableAddresses: opts.usableAddresses, attachedListenerSets: sets.filter(isAttached).length,
    }), [gateway.key]));
    for (const set of sets) reports.push(listenerSetReport(set, result.attachedRoutes, now));
    const cls = gateway.className!;
    gatewaysByClass.set(cls, [...(gatewaysByClass.get(cls) ?? []), gateway.key]);
    for (const route of named) {
      const parents = result.parents.get(route.key);
      if (!parents) continue;
      const entry = routeParents.get(route.key) ?? { route, parents: [], gateways: [] };
      entry.parents.push(...parents);
      entry.gateways.push(gateway.key);
      routeParents.set(route.key, entry);
    }
  }

  reports.push(...gatewayClassReports(state, classes, gatewaysByClass, now));
  for (const { route, parents, gateways: keys } of routeParents.values()) {
    reports.push(report(route.id, { parents }, keys));
  }
  reports.push(...backendTlsReports(ctx.backendTls, snapshots, opts.controllerName, now));
  return { snapshots, retained, reports: reports.sort(compareReports) };
}
