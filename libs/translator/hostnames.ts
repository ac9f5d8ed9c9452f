// Hostname intersection between a listener and a route, as the Gateway API defines it: a wildcard
// "*.example.com" stands for one or more labels before ".example.com", never "example.com" itself.

/** The hostname that stands for "any host" (a listener or route without hostnames). */
export const ANY_HOST = '*';

function wildcardSuffix(h: string): string | undefined {
  return h.startsWith('*.') ? h.slice(1) : undefined; // ".example.com"
}

/** Whether `specific` (exact or wildcard) is covered by the wildcard suffix `suffix`. */
function covered(specific: string, suffix: string): boolean {
  return specific.endsWith(suffix) && specific.length > suffix.length + (specific.startsWith('*.') ? 1 : 0);
}

/** The more specific of two hostnames when one contains the other, otherwise undefined. */
export function intersectHostname(listener: string | undefined, route: string): string | undefined {
  if (listener === undefined || listener === ANY_HOST) return route;
  if (listener === route) return route;
  const ls = wildcardSuffix(listener);
  const rs = wildcardSuffix(route);
  if (ls && covered(route, ls)) return route;
  if (rs && covered(listener, rs)) return listener;
  return undefined;
}

/**
 * The hostnames a route serves through a listener: the route's hostnames narrowed to the listener's,
 * the listener's own hostname when the route names none, and "*" when neither does.
 */
export function effectiveHostnames(listener: string | undefined, routeHostnames: string[]): string[] {
  if (routeHostnames.length === 0) return [listener ?? ANY_HOST];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersectHostname(listener, h);
    if (i !== undefined) out.add(i);
  }
  return [...out].sort();
}
