// The route configuration as proxyless gRPC clients must see it. @grpc/grpc-js-xds validates a
// RouteConfiguration as a whole and NACKs all of it for one route it cannot use, so the variant
// differs from Envoy's configuration exactly where grpc-js-xds (1.14,
// src/xds-resource-type/route-config-resource-type.ts) would reject it:
// - a redirect or direct_response route (only `route` and non_forwarding actions are accepted)
//   becomes a route whose fault filter aborts the call with the HTTP status Envoy would have
//   answered, which the client maps to a gRPC code the way it maps Envoy's answer (500 → UNKNOWN);
// - a request no route matches fails UNAVAILABLE in grpc-js-xds but gets a 404 from Envoy, which a
//   gRPC client sees as UNIMPLEMENTED: every virtual host ends with a catch-all aborting with 404,
//   and a `*` virtual host catches hosts no other one matches;
// - typed_per_filter_config (on virtual hosts, routes, weighted clusters) naming a filter gRPC does
//   not know (CORS, local rate limit) is rejected: it is dropped (it only matters to Envoy's
//   filters). A route's fault filter configuration (a RouteOption's faults) is kept: gRPC clients
//   run that filter and inject the same aborts and delays;
// - a retry_policy without a positive backoff base or with num_retries < 1 is rejected: the
//   translator never emits one (RouteOption/VirtualHostOption retries need numRetries >= 1 and a
//   backoff base > 0), and the variant keeps retry policies as they are.
// Path specifiers are already ones gRPC accepts (Gantry never emits path_separated_prefix), and
// fields gRPC ignores (header mutations, rewrites, mirrors, CORS policies) are left as they are.
import { pack } from '../../xds/encode.ts';
import type { Route, RouteConfiguration, VirtualHost } from '../../xds/types.ts';
import { UNAVAILABLE_CLUSTER } from '../names.ts';
import { FAULT_FILTER } from './common.ts';

/** A route that fails every call it matches with what Envoy would have answered (`httpStatus`). */
function abortRoute(match: Route['match'], httpStatus: number, name?: string): Route {
  return {
    ...(name ? { name } : {}),
    match,
    route: { cluster: UNAVAILABLE_CLUSTER },
    typed_per_filter_config: {
      [FAULT_FILTER]: pack('envoy.extensions.filters.http.fault.v3.HTTPFault', {
        abort: { http_status: httpStatus, percentage: { numerator: 100, denominator: 'HUNDRED' } },
      }),
    },
  };
}

const NOT_FOUND = 404;
// One object for every virtual host: messages are never changed once built, and this one would
// otherwise cost an encode (its HTTPFault) per virtual host.
let noRoute: Route | undefined;
const catchAll = (): Route => (noRoute ??= abortRoute({ prefix: '/' }, NOT_FOUND, 'gantry/no-route'));

/** Whether gRPC clients accept the route as Envoy gets it: the variant is then the route itself. */
function acceptedAsIs(route: Route): boolean {
  return route.redirect == null && route.direct_response == null && route.typed_per_filter_config == null && route.match?.grpc == null
    && !(route.route?.weighted_clusters?.clusters ?? []).some((c) => c.typed_per_filter_config != null);
}

function grpcRoute(route: Route): Route {
  if (acceptedAsIs(route)) return route;
  const { redirect, direct_response, typed_per_filter_config, ...rest } = route;
  // Every request of a gRPC client is gRPC: the content-type match adds nothing there.
  const match = { ...route.match };
  delete match.grpc;
  if (redirect == null && direct_response == null) {
    const fault = typed_per_filter_config?.[FAULT_FILTER];
    const kept: Route = fault ? { ...rest, match, typed_per_filter_config: { [FAULT_FILTER]: fault } } : { ...rest, match };
    const action = rest.route;
    const weighted = action?.weighted_clusters;
    if (!weighted) return kept;
    const clusters = (weighted.clusters ?? []).map(({ typed_per_filter_config: _, ...c }) => c);
    return { ...kept, route: { ...action, weighted_clusters: { ...weighted, clusters } } };
  }
  const status = direct_response?.status ?? redirectStatus(redirect?.response_code);
  return abortRoute(match, status, rest.name);
}

/** RedirectAction.response_code as the HTTP status Envoy sends (MOVED_PERMANENTLY by default). */
function redirectStatus(code: unknown): number {
  const codes: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };
  return codes[String(code ?? 'MOVED_PERMANENTLY')] ?? 301;
}

/**
 * Variants by the virtual host they were made from: the translator hands over the same virtual
 * host object while it is unchanged (envoy/route-config.ts), so only changed ones are rebuilt, and
 * the variant keeps its identity too (the encoder memoizes on it).
 */
const variants = new WeakMap<VirtualHost, VirtualHost>();

function grpcVirtualHost(vh: VirtualHost): VirtualHost {
  let variant = variants.get(vh);
  if (variant) return variant;
  const { typed_per_filter_config, ...rest } = vh;
  variant = { ...rest, routes: (vh.routes ?? []).map(grpcRoute).concat([catchAll()]) };
  variants.set(vh, variant);
  return variant;
}

let noHost: VirtualHost | undefined;

export function grpcVariant(config: RouteConfiguration, name: string): RouteConfiguration {
  const hosts = (config.virtual_hosts ?? []).map(grpcVirtualHost);
  if (!hosts.some((h) => h.domains?.includes('*'))) hosts.push(noHost ??= { name: 'gantry/no-host', domains: ['*'], routes: [catchAll()] });
  return { ...config, name, virtual_hosts: hosts };
}
