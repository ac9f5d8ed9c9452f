// The IR of one Gateway: its HTTP ports, each with its virtual hosts holding the attached routes in
// precedence order, and the clusters those routes send traffic to.
//
// Listener isolation (Gateway API "HTTP listener isolation"): a request belongs to the most specific
// listener of the port whose hostname matches its Host, and only the routes attached to that listener
// may answer it. Envoy picks a virtual host by domain the same way (exact, then the longest "*."
// suffix, then "*"), so every listener hostname and every effective route hostname becomes a domain,
// and the virtual host of a domain holds the routes of the listener that owns it: the most specific
// listener hostname covering it. A route hostname reached through a less specific listener than its
// owner (a route on the hostname-less listener naming "a.example.com" while a "*.example.com"
// listener exists) is shadowed and left out. A listener hostname always gets its virtual host, even
// without routes, so that its hosts get 404 rather than the routes of a less specific listener.
//
// Inside one virtual host, the routes of every hostname of the owning listener that covers the domain
// compete: the Gateway API gives precedence to the route with the most specific matching hostname
// ("characters in a matching non-wildcard hostname", then "in a matching hostname"), then to the
// match precedence (precedence.ts). So "a.example.com" also serves the listener's "*.example.com"
// routes, after its own.
import type { Attachment } from './attachment.ts';
import type { ResolvedRule } from './backends.ts';
import type { GatewayModel } from './gateway.ts';
import { ANY_HOST, coveringHostnames, mostSpecificCovering, specificity } from './hostnames.ts';
import type { ClusterIR, GatewayIR, HttpPortIR, RouteIR, VirtualHostIR } from './ir.ts';
import { comparePrecedence, type Precedence } from './precedence.ts';
import type { RouteModel } from './routes.ts';
import { ruleTraffic } from './rule-traffic.ts';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Entry { key: string; precedence: Precedence; route: RouteIR }

/** The Envoy-routes-to-be of one attachment (they depend on the listener: redirect ports). */
function attachmentEntries({ route, listener }: Attachment, resolve: (r: RouteModel) => ResolvedRule[]): Entry[] {
  const resolved = resolve(route);
  const out: Entry[] = [];
  for (const rule of route.rules) {
    if (rule.compiled?.problem) continue; // left out; the route's status says why
    const { action, filters } = ruleTraffic(rule, resolved[rule.index], listener);
    rule.matches.forEach(({ match, precedence }, j) => {
      // A named rule is named by its name in Envoy (stats, logs); the key stays positional.
      const name = `${route.key}/rule/${rule.name ?? rule.index}/match/${j}`;
      out.push({ key: `${route.key}/${rule.index}/${j}`, precedence, route: { name, match, action, ...(filters ? { filters } : {}) } });
    });
  }
  return out;
}

function portIR(port: number, gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[]): HttpPortIR {
  const hostnames = [...new Set(gateway.listeners.filter((l) => l.usable && l.port === port).map((l) => l.hostname ?? ANY_HOST))].sort(byString);
  // Per listener hostname, per effective route hostname: the entries attached through it.
  const byListener = new Map<string, Map<string, Entry[]>>(hostnames.map((h) => [h, new Map()]));
  const owners = new Map<string, string>(hostnames.map((h) => [h, h])); // domain → owning listener hostname
  for (const a of attachments) {
    if (a.listener.port !== port) continue;
    const listenerHost = a.listener.hostname ?? ANY_HOST;
    const own = byListener.get(listenerHost);
    if (!own) continue;
    const entries = attachmentEntries(a, resolve);
    for (const h of a.hostnames) {
      const list = own.get(h);
      if (list) list.push(...entries);
      else own.set(h, [...entries]);
      // The listener's hostname covers its effective hostnames, so an owner always exists.
      if (mostSpecificCovering(h, hostnames) === listenerHost) owners.set(h, listenerHost);
    }
  }
  const virtualHosts: VirtualHostIR[] = [...owners.keys()].sort(byString).map((domain) => {
    const listenerHostname = owners.get(domain)!;
    const own = byListener.get(listenerHostname)!;
    // A route reaching the domain through several of its hostnames (or listeners) appears once, at
    // its most specific hostname.
    const chosen = new Map<string, Entry & { rank: number }>();
    for (const h of coveringHostnames(domain)) {
      const rank = specificity(h);
      for (const e of own.get(h) ?? []) {
        const seen = chosen.get(e.key);
        if (!seen || seen.rank < rank) chosen.set(e.key, { ...e, rank });
      }
    }
    const routes = [...chosen.values()]
      .sort((a, b) => b.rank - a.rank || comparePrecedence(a.precedence, b.precedence))
      .map((e) => e.route);
    return { hostname: domain, listenerHostname, routes };
  });
  return { port, hostnames, virtualHosts };
}

export function gatewayIR(gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[]): GatewayIR {
  const ports = [...new Set(gateway.listeners.filter((l) => l.usable).map((l) => l.port))].sort((a, b) => a - b);
  const clusters = new Map<string, ClusterIR>();
  for (const { route } of attachments) {
    for (const rule of resolve(route)) {
      for (const c of rule.clusters) {
        const seen = clusters.get(c.name);
        // One Service port used by an HTTPRoute and a GRPCRoute: HTTP/2 serves both.
        clusters.set(c.name, seen ? { ...seen, http2: seen.http2 || c.http2 } : c);
      }
    }
  }
  return {
    key: gateway.key,
    ports: ports.map((port) => portIR(port, gateway, attachments, resolve)),
    clusters: [...clusters.values()].sort((a, b) => byString(a.name, b.name)),
  };
}
