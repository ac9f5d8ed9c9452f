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
  // Any listener hostname leaves the route's as they are: the same list when already in order.
  const sorted = routeHostnames.every((h, i) => i === 0 || routeHostnames[i - 1] < h);
  if ((listener === undefined || listener === ANY_HOST) && sorted) return routeHostnames;
  const out = new Set<string>();
  for (const h of routeHostnames) {
    const i = intersectHostname(listener, h);
    if (i !== undefined) out.add(i);
  }
  return [...out].sort();
}

/**
 * Whether every host `domain` stands for is also one `pattern` stands for: the same hostname, "*",
 * or a wildcard whose suffix ends `domain` ("*.example.com" covers "a.example.com" and
 * "*.a.example.com", not "example.com"). Envoy's domain matching and the Gateway API agree here.
 */
export function covers(pattern: string, domain: string): boolean {
  if (pattern === ANY_HOST || pattern === domain) return true;
  const suffix = wildcardSuffix(pattern);
  return suffix !== undefined && domain !== ANY_HOST && covered(domain, suffix);
}

/**
 * How specific a hostname is, the way Envoy ranks virtual host domains (and the Gateway API ranks
 * listeners and route hostnames): an exact name beats any wildcard, a longer wildcard a shorter one,
 * "*" comes last. Of two hostnames that both cover a host, the higher rank covers the other.
 */
export function specificity(hostname: string): number {
  if (hostname === ANY_HOST) return 0;
  return hostname.startsWith('*.') ? hostname.length : 1_000_000 + hostname.length;
}

/** The most specific of `candidates` covering `domain`, if any. */
export function mostSpecificCovering(domain: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const c of candidates) {
    if (covers(c, domain) && (best === undefined || specificity(c) > specificity(best))) best = c;
  }
  return best;
}

/** Every hostname that covers `domain` (see covers()): itself, the wildcards of its parent domains, "*". */
export function coveringHostnames(domain: string): string[] {
  if (domain === ANY_HOST) return [ANY_HOST];
  const out = [domain];
  // "a.b.c" is covered by "*.b.c" and "*.c"; "*.b.c" by "*.c".
  const name = domain.startsWith('*.') ? domain.slice(2) : domain;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) out.push(`*${name.slice(dot)}`);
  out.push(ANY_HOST);
  return out;
}
