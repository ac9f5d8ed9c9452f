// The IR of one Gateway: its HTTP ports, each with one virtual host per effective hostname holding
// the attached routes in precedence order, and the clusters those routes send traffic to.
import type { Attachment } from './attachment.ts';
import type { ResolvedRule } from './backends.ts';
import type { GatewayModel } from './gateway.ts';
import { ANY_HOST } from './hostnames.ts';
import type { ClusterIR, GatewayIR, HttpPortIR, RouteIR } from './ir.ts';
import { comparePrecedence, type Precedence } from './precedence.ts';
import type { RouteModel } from './routes.ts';
import { ruleTraffic } from './rule-traffic.ts';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function portIR(port: number, gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[]): HttpPortIR {
  const hostnames = [...new Set(gateway.listeners.filter((l) => l.usable && l.port === port).map((l) => l.hostname ?? ANY_HOST))].sort(byString);
  // A route reaching one hostname through two listeners of the port must appear once.
  const hosts = new Map<string, Map<string, { precedence: Precedence; route: RouteIR }>>();
  for (const { route, listener, hostnames: routeHosts } of attachments) {
    if (listener.port !== port) continue;
    const resolved = resolve(route);
    for (const hostname of routeHosts) {
      if (!hosts.has(hostname)) hosts.set(hostname, new Map());
      const entries = hosts.get(hostname)!;
      for (const rule of route.rules) {
        if (rule.compiled?.problem) continue; // left out; the route's status says why
        const { action, filters } = ruleTraffic(rule, resolved[rule.index], listener);
        rule.matches.forEach(({ match, precedence }, j) => {
          // A named rule is named by its name in Envoy (stats, logs); the key stays positional.
          const name = `${route.key}/rule/${rule.name ?? rule.index}/match/${j}`;
          entries.set(`${route.key}/${rule.index}/${j}`, { precedence, route: { name, match, action, ...(filters ? { filters } : {}) } });
        });
      }
    }
  }
  const virtualHosts = [...hosts.keys()].sort(byString).map((hostname) => ({
    hostname,
    routes: [...hosts.get(hostname)!.values()].sort((a, b) => comparePrecedence(a.precedence, b.precedence)).map((e) => e.route),
  }));
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
