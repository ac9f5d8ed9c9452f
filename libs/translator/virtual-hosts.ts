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
import { compact, type ClusterIR, type GatewayIR, type HttpPortIR, type RouteIR, type VirtualHostIR } from './ir.ts';
import { comparePrecedence, type Precedence } from './precedence.ts';
import type { RouteModel } from './routes.ts';
import { ruleTraffic } from './rule-traffic.ts';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `precedence` is the match's own object (routes.ts): it also says which match an entry is. */
interface Entry { precedence: Precedence; route: RouteIR }

/**
 * Entries by the attachment they came from, with the resolution they were made from: an attachment
 * reused across translations (attachment.ts AttachMemo) keeps its entries, and so their identity.
 */
const entriesOf = new WeakMap<Attachment, { resolved: ResolvedRule[]; entries: Entry[] }>();

/** The Envoy-routes-to-be of one attachment (they depend on the listener: redirect ports). */
function attachmentEntries(attachment: Attachment, resolve: (r: RouteModel) => ResolvedRule[]): Entry[] {
  const { route, listener } = attachment;
  const resolved = resolve(route);
  const known = entriesOf.get(attachment);
  if (known?.resolved === resolved) return known.entries;
  const out: Entry[] = [];
  for (const rule of route.rules) {
    if (rule.compiled?.problem) continue; // left out; the route's status says why
    const { action, filters } = ruleTraffic(rule, resolved[rule.index], listener);
    rule.matches.forEach(({ match, precedence }, j) => {
      // A named rule is named by its name in Envoy (stats, logs).
      const name = `${route.key}/rule/${rule.name ?? rule.index}/match/${j}`;
      const routeIR: RouteIR = { name, match, action };
      if (filters) routeIR.filters = filters;
      out.push({ precedence, route: routeIR });
    });
  }
  const entries = compact(out);
  entriesOf.set(attachment, { resolved, entries });
  return entries;
}

/**
 * The virtual hosts of a Gateway's previous translation, per port and domain, with what each was
 * built from: its owner and, per hostname covering the domain, the entry lists attached through
 * it. A virtual host whose inputs are unchanged (entry lists by identity) is reused as it was, so
 * one route change rebuilds only the virtual hosts that route reaches. Valid for one Gateway
 * model: the caller starts a new one when the model changes.
 */
export type VirtualHostMemo = Map<number, Map<string, VirtualHostInputs>>;

interface VirtualHostInputs {
  vh: VirtualHostIR;
  /** The owner, then for each covering hostname with entries: the hostname and its entry lists. */
  inputs: unknown[];
}

/** Whether `inputs` (see VirtualHostInputs) are what `own` holds for the domain now. */
function sameInputs(inputs: unknown[], listenerHostname: string, covering: string[], own: Map<string, Entry[][]>): boolean {
  if (inputs[0] !== listenerHostname) return false;
  let i = 1;
  for (const h of covering) {
    const lists = own.get(h);
    if (!lists) continue;
    if (inputs[i++] !== h) return false;
    for (const list of lists) if (inputs[i++] !== list) return false;
  }
  return i === inputs.length;
}

function inputsOf(listenerHostname: string, covering: string[], own: Map<string, Entry[][]>): unknown[] {
  const inputs: unknown[] = [listenerHostname];
  for (const h of covering) {
    const lists = own.get(h);
    if (!lists) continue;
    inputs.push(h);
    for (const list of lists) inputs.push(list); // one per route: too many, maybe, to spread
  }
  return compact(inputs);
}

function portIR(
  port: number, gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[],
  previous: VirtualHostMemo | undefined, next: VirtualHostMemo | undefined,
): HttpPortIR {
  const hostnames = [...new Set(gateway.listeners.filter((l) => l.usable && l.port === port).map((l) => l.hostname ?? ANY_HOST))].sort(byString);
  // Per listener hostname, per effective route hostname: the entry lists attached through it.
  const byListener = new Map<string, Map<string, Entry[][]>>(hostnames.map((h) => [h, new Map()]));
  const owners = new Map<string, string>(hostnames.map((h) => [h, h])); // domain → owning listener hostname
  for (const a of attachments) {
    if (a.listener.port !== port) continue;
    const listenerHost = a.listener.hostname ?? ANY_HOST;
    const own = byListener.get(listenerHost);
    if (!own) continue;
    const entries = attachmentEntries(a, resolve);
    for (const h of a.hostnames) {
      const lists = own.get(h);
      if (lists) lists.push(entries);
      else own.set(h, [entries]);
      // The listener's hostname covers its effective hostnames, so an owner always exists.
      if (mostSpecificCovering(h, hostnames) === listenerHost) owners.set(h, listenerHost);
    }
  }
  const before = previous?.get(port);
  const memo = new Map<string, VirtualHostInputs>();
  next?.set(port, memo);
  const virtualHosts: VirtualHostIR[] = [...owners.keys()].sort(byString).map((domain) => {
    const listenerHostname = owners.get(domain)!;
    const own = byListener.get(listenerHostname)!;
    const seen = before?.get(domain);
    const covering = coveringHostnames(domain);
    const reused = seen && sameInputs(seen.inputs, listenerHostname, covering, own)
      ? seen
      : { vh: virtualHost(domain, listenerHostname, covering, own), inputs: inputsOf(listenerHostname, covering, own) };
    memo.set(domain, reused);
    return reused.vh;
  });
  return { port, hostnames, virtualHosts };
}

function virtualHost(domain: string, listenerHostname: string, covering: string[], own: Map<string, Entry[][]>): VirtualHostIR {
  // A route reaching the domain through several of its hostnames (or listeners) appears once, at
  // its most specific hostname.
  const chosen = new Map<Precedence, Entry & { rank: number }>();
  for (const h of covering) {
    const rank = specificity(h);
    for (const entries of own.get(h) ?? []) {
      for (const e of entries) {
        const seen = chosen.get(e.precedence);
        if (!seen || seen.rank < rank) chosen.set(e.precedence, { precedence: e.precedence, route: e.route, rank });
      }
    }
  }
  const routes = [...chosen.values()]
    .sort((a, b) => b.rank - a.rank || comparePrecedence(a.precedence, b.precedence))
    .map((e) => e.route);
  return { hostname: domain, listenerHostname, routes };
}

/**
 * With `memo`, virtual hosts are reused from `memo.previous` (see VirtualHostMemo) and the ones of
 * this translation recorded in `memo.next`.
 */
export function gatewayIR(
  gateway: GatewayModel, attachments: Attachment[], resolve: (r: RouteModel) => ResolvedRule[],
  memo?: { previous: VirtualHostMemo; next: VirtualHostMemo },
): GatewayIR {
  const ports = [...new Set(gateway.listeners.filter((l) => l.usable).map((l) => l.port))].sort((a, b) => a - b);
  const clusters = new Map<string, ClusterIR>();
  for (const { route } of attachments) {
    for (const rule of resolve(route)) {
      for (const c of rule.clusters) {
        const seen = clusters.get(c.name);
        if (!seen) clusters.set(c.name, c);
        // One Service port used by an HTTPRoute and a GRPCRoute: HTTP/2 serves both.
        else if (c.http2 && !seen.http2) clusters.set(c.name, { ...seen, http2: true });
      }
    }
  }
  return {
    key: gateway.key,
    ports: ports.map((port) => portIR(port, gateway, attachments, resolve, memo?.previous, memo?.next)),
    clusters: [...clusters.values()].sort((a, b) => byString(a.name, b.name)),
  };
}
