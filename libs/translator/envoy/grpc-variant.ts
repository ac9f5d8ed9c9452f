// The route configuration as proxyless gRPC clients must see it. @grpc/grpc-js-xds validates a
// RouteConfiguration as a whole and NACKs all of it for one route it cannot use, so the variant
// differs from Envoy's configuration exactly where grpc-js-xds (1.14,
// src/xds-resource-type/route-config-resource-type.ts) would reject it:
// - a redirect or direct_response route (only `route` and non_forwarding actions are accepted)
//   sends the call to the cluster without endpoints instead, so that call fails UNAVAILABLE;
// - typed_per_filter_config (on virtual hosts, routes, weighted clusters) naming a filter gRPC does
//   not know (CORS) is rejected: it is dropped (it only matters to Envoy's filters);
// - a retry_policy without a positive backoff base or with num_retries < 1 is rejected: the
//   translator never emits one, and the variant keeps retry policies as they are.
// Path specifiers are already ones gRPC accepts (Gantry never emits path_separated_prefix), and
// fields gRPC ignores (header mutations, rewrites, mirrors, CORS policies) are left as they are.
import type { Route, RouteConfiguration, VirtualHost } from '../../xds/types.ts';
import { UNAVAILABLE_CLUSTER } from '../names.ts';

function grpcRoute(route: Route): Route {
  const { redirect, direct_response, typed_per_filter_config, ...rest } = route;
  // Every request of a gRPC client is gRPC: the content-type match adds nothing there.
  const match = { ...route.match };
  delete match.grpc;
  if (redirect == null && direct_response == null) {
    const action = rest.route;
    const weighted = action?.weighted_clusters;
    if (!weighted) return { ...rest, match };
    const clusters = (weighted.clusters ?? []).map(({ typed_per_filter_config: _, ...c }) => c);
    return { ...rest, match, route: { ...action, weighted_clusters: { ...weighted, clusters } } };
  }
  return { ...rest, match, route: { cluster: UNAVAILABLE_CLUSTER } };
}

function grpcVirtualHost(vh: VirtualHost): VirtualHost {
  const { typed_per_filter_config, ...rest } = vh;
  return { ...rest, routes: (vh.routes ?? []).map(grpcRoute) };
}

export function grpcVariant(config: RouteConfiguration, name: string): RouteConfiguration {
  return { ...config, name, virtual_hosts: (config.virtual_hosts ?? []).map(grpcVirtualHost) };
}
