// IR virtual hosts and routes → an Envoy RouteConfiguration.
import type { HeaderMatcher, Route, RouteConfiguration, RouteMatch, VirtualHost } from '../../xds/types.ts';
import type { StringMatcher } from '../../../protos/generated/envoy/type/matcher/v3/StringMatcher.ts';
import type { ActionIR, HttpPortIR, MatchIR, PathMatchIR, RouteIR, StringMatchIR, VirtualHostIR } from '../ir.ts';
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
  const rest: RouteMatch = {};
  if (headers.length > 0) rest.headers = headers;
  if (match.queryParams.length > 0) rest.query_parameters = match.queryParams.map((q) => ({ name: q.name, string_match: stringMatcher(q) }));
  if (match.grpcOnly) rest.grpc = {};
  return pathSpecifiers(match.path).map((p) => ({ ...p, ...rest }));
}

function routeAction(action: ActionIR, grpcOnly: boolean): Pick<Route, 'route' | 'direct_response'> {
  if (action.type === 'directResponse') return { direct_response: { status: action.status } };
  // gRPC streams may live for hours; Envoy's default 15s route timeout would cut them.
  const timeout = grpcOnly ? { timeout: { seconds: 0 } } : {};
  if (action.clusters.length === 1) return { route: { cluster: action.clusters[0].cluster, ...timeout } };
  return {
    route: {
      weighted_clusters: { clusters: action.clusters.map((c) => ({ name: c.cluster, weight: { value: c.weight } })) },
      ...timeout,
    },
  };
}

function envoyRoutes(route: RouteIR): Route[] {
  const action = routeAction(route.action, route.match.grpcOnly);
  return routeMatches(route.match).map((match) => ({ name: route.name, match, ...action }));
}

function virtualHost(vh: VirtualHostIR, port: number): VirtualHost {
  return {
    name: vh.hostname,
    domains: vh.hostname === ANY_HOST ? [ANY_HOST] : [vh.hostname, `${vh.hostname}:${port}`],
    routes: vh.routes.flatMap(envoyRoutes),
  };
}

/** Requests for no virtual host, or matching no route, get Envoy's own 404. */
export function routeConfiguration(name: string, port: HttpPortIR): RouteConfiguration {
  return { name, virtual_hosts: port.virtualHosts.map((vh) => virtualHost(vh, port.port)) };
}
