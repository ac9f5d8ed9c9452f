// The route configuration as proxyless gRPC clients must see it. grpc-js-xds NACKs a whole route
// configuration that has a redirect or direct_response route, so those routes send the call to the
// cluster without endpoints instead, and the call fails UNAVAILABLE. Everything else is unchanged.
import type { Route, RouteConfiguration } from '../../xds/types.ts';
import { UNAVAILABLE_CLUSTER } from '../names.ts';

function grpcRoute(route: Route): Route {
  const { redirect, direct_response, ...rest } = route;
  // Every request of a gRPC client is gRPC: the content-type match adds nothing there.
  const match = { ...route.match };
  delete match.grpc;
  if (redirect == null && direct_response == null) return { ...rest, match };
  return { ...rest, match, route: { cluster: UNAVAILABLE_CLUSTER } };
}

export function grpcVariant(config: RouteConfiguration, name: string): RouteConfiguration {
  return {
    ...config,
    name,
    virtual_hosts: (config.virtual_hosts ?? []).map((vh) => ({ ...vh, routes: (vh.routes ?? []).map(grpcRoute) })),
  };
}
