// Which Gateway API objects a route configuration programs: Gantry names every Envoy route
// `<Kind>/<namespace>/<name>/rule/<i>/match/<j>` (libs/translator/names.ts), so a NACKed
// RouteConfiguration can be traced back to the HTTPRoutes and GRPCRoutes whose rules it holds.
// Pure; used only when a proxy rejects routes, so nothing is cached.
import { decode } from '../xds/encode.ts';
import { ROUTE, typeNameOf } from '../xds/type-urls.ts';
import type { GatewaySnapshot } from './snapshot.ts';

const ROUTE_NAME = /^([A-Za-z]+)\/([^/]+)\/([^/]+)\/rule\//;

/** `<Kind>/<namespace>/<name>` of an Envoy route name Gantry generated; undefined for others. */
export function routeObjectOf(envoyRouteName: string): string | undefined {
  const m = ROUTE_NAME.exec(envoyRouteName);
  return m ? `${m[1]}/${m[2]}/${m[3]}` : undefined;
}

/**
 * The objects whose rules the named route configurations of `snap` hold (Envoy's and the gRPC
 * variants), sorted. Names the snapshot does not have are skipped.
 */
export function routeObjectsOf(snap: GatewaySnapshot | undefined, routeConfigNames: readonly string[]): string[] {
  if (!snap) return [];
  const out = new Set<string>();
  const own = snap.manifest.resources[ROUTE] ?? {};
  for (const name of routeConfigNames) {
    const hash = Object.hasOwn(own, name) ? own[name] : Object.hasOwn(snap.manifest.grpcRoutes, name) ? snap.manifest.grpcRoutes[name] : undefined;
    const bytes = hash === undefined ? undefined : snap.blobs.get(hash);
    if (!bytes) continue;
    const config = decode(typeNameOf(ROUTE), bytes) as { virtual_hosts?: Array<{ routes?: Array<{ name?: string }> }> };
    for (const vh of config.virtual_hosts ?? []) {
      for (const r of vh.routes ?? []) {
        const object = r.name ? routeObjectOf(r.name) : undefined;
        if (object) out.add(object);
      }
    }
  }
  return [...out].sort();
}
