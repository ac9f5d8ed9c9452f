// IR virtual hosts and routes → an Envoy RouteConfiguration.
import type { HeaderMatcher, Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost } from '../../xds/types.ts';
import type { StringMatcher } from '../../../protos/generated/envoy/type/matcher/v3/StringMatcher.ts';
import { compact, type HttpPortIR, type MatchIR, type PathMatchIR, type RouteIR, type StringMatchIR, type VirtualHostIR, type WeightedClusterIR } from '../ir.ts';
import { NO_BACKEND_STATUS } from '../backends.ts';
import { forwardingFields, headerFields, perFilterConfig, redirectAction, retryPolicy, routeFields } from './route-filters.ts';
import type { VirtualHostOptionsIR } from '../options.ts';
import { ANY_HOST } from '../hostnames.ts';

function stringMatcher(m: Pick<StringMatchIR, 'type' | 'value'>): StringMatcher {
  return m.type === 'Exact' ? { exact: m.value } : { safe_regex: { regex: m.value } };
}

/**
 * PathPrefix matches whole segments. path_separated_prefix says exactly that, but proxyless gRPC
 * clients reject it, so "/foo" becomes the exact path "/foo" plus the prefix "/foo/".
 */
function pathSpecifiers(path: PathMatchIR): RouteMatch[] {
  switch (path.type) {
    case 'Exact': return [{ path: path.value }];
    case 'StringPrefix': return [{ prefix: path.value }];
    case 'RegularExpression': return [{ safe_regex: { regex: path.value } }];
    case 'PathPrefix': return path.value === '/' ? [{ prefix: '/' }] : [{ path: path.value }, { prefix: `${path.value}/` }];
  }
}

function routeMatches(match: MatchIR): RouteMatch[] {
  const headers: HeaderMatcher[] = match.headers.map((h) => ({ name: h.name, string_match: stringMatcher(h) }));
  if (match.method) headers.push({ name: ':method', string_match: { exact: match.method } });
  const queryParams = match.queryParams.map((q) => ({ name: q.name, string_match: stringMatcher(q) }));
  // Fields are added to the path specifier in one fixed order, never by spreading it: objects built
  // the same way share a hidden class, which keeps tens of thousands of them small and fast to read.
  return pathSpecifiers(match.path).map((m) => {
    if (headers.length > 0) m.headers = headers;
    if (queryParams.length > 0) m.query_parameters = queryParams;
    if (match.grpcOnly) m.grpc = {};
    return m;
  });
}

/**
 * The forwarding part of a route. Per-backendRef header filters need a weighted cluster entry to
 * live on, so a single backend with filters is still a one-entry weighted_clusters.
 */
function forwardAction(clusters: WeightedClusterIR[], grpcOnly: boolean): RouteAction {
  // gRPC streams may live for hours; Envoy's default 15s route timeout would cut them.
  const plain = clusters.length === 1 && clusters[0].requestHeaders === undefined && clusters[0].responseHeaders === undefined;
  const action: RouteAction = plain
    ? { cluster: clusters[0].cluster }
    : { weighted_clusters: { clusters: clusters.map((c) => ({ name: c.cluster, weight: { value: c.weight }, ...headerFields(c.requestHeaders, c.responseHeaders) })) } };
  if (grpcOnly) action.timeout = { seconds: 0 };
  return action;
}

/** Share of the requests, in millionths, a route matching with probability `weight / total` takes. */
function share(weight: number, total: number): { default_value: { numerator: number; denominator: 'MILLION' } } {
  return { default_value: { numerator: Math.round((weight * 1_000_000) / total), denominator: 'MILLION' } };
}

/**
 * One Envoy route per path specifier of the match. A rule some of whose backendRefs could not be
 * resolved must answer 500 for their share of the traffic. Envoy's weighted clusters can only send
 * a share to a cluster (a cluster without endpoints answers 503, not 500), so the rule becomes two
 * routes with the same match: the first takes the failed share (runtime_fraction, in millionths,
 * drawn per request) and answers 500 directly; the rest fall through to the second, which forwards.
 */
function envoyRoutes(route: RouteIR): Route[] {
  let routes = envoyRoutesOf.get(route);
  if (!routes) envoyRoutesOf.set(route, (routes = compact(buildEnvoyRoutes(route))));
  return routes;
}

/**
 * Envoy routes by the IR route and virtual hosts by the IR virtual host they were made from: the
 * IR of an unchanged route or virtual host keeps its identity across translations (virtual-hosts.ts),
 * so only what changed is rebuilt, and the Envoy objects keep their identity too (the gRPC variant
 * and the encoder memoize on it).
 */
const envoyRoutesOf = new WeakMap<RouteIR, Route[]>();
const virtualHostsOf = new WeakMap<VirtualHostIR, { port: number; vh: VirtualHost }>();

function buildEnvoyRoutes(route: RouteIR): Route[] {
  const { action, filters, match } = route;
  const common = routeFields(filters);
  // The routes of one match (a PathPrefix gives two) share the parts that do not depend on the path.
  const forwarding = action.type === 'forward' ? forwardAction(action.clusters, match.grpcOnly) : undefined;
  return routeMatches(match).flatMap((m): Route[] => {
    switch (action.type) {
      case 'directResponse': return [Object.assign({ name: route.name, match: m, direct_response: { status: action.status } }, common)];
      case 'redirect': return [Object.assign({ name: route.name, match: m, redirect: redirectAction(m, action.redirect) }, common)];
      case 'forward': {
        const fields = filters ? forwardingFields(m, filters) : {};
        const forward: Route = Object.assign({
          name: route.name, match: m, route: Object.keys(fields).length > 0 ? Object.assign({}, forwarding, fields) : forwarding,
        }, common);
        if (!action.failedWeight) return [forward];
        const total = action.failedWeight + action.clusters.reduce((sum, c) => sum + c.weight, 0);
        const failed: Route = {
          name: `${route.name}/unresolved-backends`,
          match: { ...m, runtime_fraction: share(action.failedWeight, total) },
          direct_response: { status: NO_BACKEND_STATUS },
        };
        return [failed, forward];
      }
    }
  });
}

function domains(hostname: string, port: number): string[] {
  return hostname === ANY_HOST ? [ANY_HOST] : [hostname, `${hostname}:${port}`];
}

/**
 * A VirtualHostOption's settings on the virtual host. Envoy lets a route's own retry policy and
 * per-filter configuration replace the virtual host's, and the route configuration says that a
 * route's header changes win over the virtual host's (routeConfiguration below).
 */
function virtualHostOptions(vh: VirtualHost, o: VirtualHostOptionsIR): void {
  Object.assign(vh, headerFields(o.headerManipulation?.request, o.headerManipulation?.response));
  const typed = perFilterConfig(o);
  if (typed) vh.typed_per_filter_config = typed;
  const retry = o.retries && retryPolicy(o.retries, o.retries.perTryTimeoutMs);
  if (retry) vh.retry_policy = retry;
  if (o.includeRequestAttemptCount !== undefined) vh.include_request_attempt_count = o.includeRequestAttemptCount;
  if (o.includeAttemptCountInResponse !== undefined) vh.include_attempt_count_in_response = o.includeAttemptCountInResponse;
}

function virtualHost(ir: VirtualHostIR, port: number): VirtualHost {
  const known = virtualHostsOf.get(ir);
  if (known?.port === port) return known.vh;
  const vh: VirtualHost = { name: ir.hostname, domains: domains(ir.hostname, port), routes: compact(ir.routes.flatMap(envoyRoutes)) };
  if (ir.options) virtualHostOptions(vh, ir.options);
  virtualHostsOf.set(ir, { port, vh });
  return vh;
}

/**
 * Envoy applies a route's header changes before its virtual host's, so by default the virtual host's
 * win; a more specific setting should. Only set when some virtual host changes headers, so a
 * configuration without VirtualHostOptions stays as it was.
 */
function withHeaderPrecedence(config: RouteConfiguration, hosts: VirtualHostIR[]): RouteConfiguration {
  if (hosts.some((vh) => vh.options?.headerManipulation)) config.most_specific_header_mutations_wins = true;
  return config;
}

/** HTTP 421 Misdirected Request: the connection (its SNI) was for another listener than the Host. */
export const MISDIRECTED_STATUS = 421;

/** Hosts of another listener than the filter chain's: answered 421, so SNI and Host must agree. */
function misdirectedVirtualHost(hostname: string, port: number): VirtualHost {
  return {
    name: `misdirected/${hostname}`,
    domains: domains(hostname, port),
    routes: [{ name: 'misdirected', match: { prefix: '/' }, direct_response: { status: MISDIRECTED_STATUS } }],
  };
}

/** Requests for no virtual host, or matching no route, get Envoy's own 404. */
export function routeConfiguration(name: string, port: HttpPortIR): RouteConfiguration {
  return withHeaderPrecedence({ name, virtual_hosts: port.virtualHosts.map((vh) => virtualHost(vh, port.port)) }, port.virtualHosts);
}

/**
 * The route configuration of one HTTPS listener's filter chain (chosen by SNI): the virtual hosts its
 * listener owns (virtual-hosts.ts), and 421 for the hosts of every other listener of the port and,
 * unless the listener has no hostname, for any other host. A request whose Host belongs to another
 * listener than its SNI therefore never reaches that listener's routes.
 */
export function listenerRouteConfiguration(name: string, port: HttpPortIR, listenerHostname: string): RouteConfiguration {
  const own = port.virtualHosts.filter((vh) => vh.listenerHostname === listenerHostname);
  const others = [...new Set([...port.hostnames, ANY_HOST])].filter((h) => h !== listenerHostname).sort();
  const hosts = [...own.map((vh) => virtualHost(vh, port.port)), ...others.map((h) => misdirectedVirtualHost(h, port.port))];
  return withHeaderPrecedence({ name, virtual_hosts: hosts }, own);
}
