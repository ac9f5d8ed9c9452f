// The status of every RouteOption, VirtualHostOption and ListenerOption: `status.conditions` of the
// object itself (the kinds are Gantry's own, so no other controller shares the status).
//
// - Accepted=False, reason Invalid: the spec does not parse, or fails a check the schema cannot
//   make (the message names the field). The option then applies nowhere; a rule whose ExtensionRef
//   names it answers 500 (route-options.ts).
// - Accepted=False, reason NotAllowed or TargetNotFound: no targetRef reaches anything, because it
//   names another namespace (options reach only their own), or an object, rule (RouteOption
//   sectionName) or HTTP/HTTPS listener (sectionName of the other kinds) that does not exist. A
//   Gateway must be of a GatewayClass of this controller.
// - Accepted=True, reason Accepted: valid, and the message says what it applies to (targetRefs that
//   reach nothing are listed as ignored). A RouteOption without targetRefs is Accepted: it applies
//   where an ExtensionRef filter names it.
// - Conflicted=True, reason Overridden: some field of spec.options lost, on some target, to an
//   option ranked before it (options.ts); False/NoConflicts otherwise.
import type { StatusReport } from './api.ts';
import type { GatewayModel } from './gateway.ts';
import { isHttpListener, gatewayOptionsPlan } from './gateway-options.ts';
import type { TranslatorState } from './index-state.ts';
import type { OptionRecord } from './option-index.ts';
import { compileOption, type Override } from './options.ts';
import { routeOptionsPlan } from './route-options.ts';
import type { RouteModel } from './routes.ts';
import { notOk, ok, report, stampFor, type Verdict } from './status.ts';

export interface OptionStatusContext {
  /** The route of a key "<Kind>/<namespace>/<name>", as read from its object (before options). */
  route(key: string): RouteModel | undefined;
  /** A Gateway of ours ("<namespace>/<name>"), its ListenerSets merged. */
  gateway(key: string): GatewayModel | undefined;
  /** The Gateways ("<namespace>/<name>") a route is attached to. */
  gatewaysOfRoute(key: string): Iterable<string>;
}

const LISTED = 8;

/** At most LISTED items, then how many more: statuses stay readable with many targets. */
function listed(items: string[]): string {
  const head = items.slice(0, LISTED).join(', ');
  return items.length > LISTED ? `${head} and ${items.length - LISTED} more` : head;
}

/** What the options of every target lost to one another, by losing option. */
function overridesByOption(state: TranslatorState, ctx: OptionStatusContext): Map<OptionRecord, Override[]> {
  const out = new Map<OptionRecord, Override[]>();
  const add = (list: Override[]) => {
    for (const o of list) {
      const known = out.get(o.loser);
      if (known) known.push(o);
      else out.set(o.loser, [o]);
    }
  };
  const routes = new Set(state.optionLinks.routesNamingAny());
  for (const target of state.optionLinks.targets()) {
    if (target.startsWith('Gateway/')) {
      const gateway = ctx.gateway(target.slice('Gateway/'.length));
      const plan = gateway && gatewayOptionsPlan(state, gateway);
      for (const merged of [...(plan?.virtualHosts.values() ?? []), ...(plan?.listeners.values() ?? [])]) add(merged.overrides);
    } else {
      routes.add(target);
    }
  }
  for (const key of routes) {
    const route = ctx.route(key);
    for (const rule of (route && routeOptionsPlan(state, route)?.rules) ?? []) add(rule.overrides);
  }
  return out;
}

interface Reach {
  accepted: Verdict;
  gateways: Set<string>;
}

function reach(state: TranslatorState, record: OptionRecord, ctx: OptionStatusContext): Reach {
  const gateways = new Set<string>();
  if (!record.parsed.ok) return { accepted: notOk('Invalid', record.parsed.message), gateways };
  const compiled = compileOption(record);
  if (!compiled.ok) return { accepted: notOk('Invalid', compiled.message), gateways };
  const { namespace, name, kind } = record.id;
  const found: string[] = [];
  const problems: Array<{ reason: string; message: string }> = [];
  record.parsed.value.spec.targetRefs.forEach((t, i) => {
    const where = `spec.targetRefs[${i}]`;
    const what = `${t.kind} ${namespace}/${t.name}`;
    if (t.namespace !== undefined && t.namespace !== namespace) {
      problems.push({ reason: 'NotAllowed', message: `${where}: ${t.kind} ${t.namespace}/${t.name} is in another namespace; an option reaches only its own namespace's objects` });
      return;
    }
    if (t.kind === 'Gateway') {
      const gateway = ctx.gateway(`${namespace}/${t.name}`);
      if (!gateway) {
        problems.push({ reason: 'TargetNotFound', message: `${where}: no ${what} of a GatewayClass of this controller` });
      } else if (t.sectionName !== undefined && !gateway.listeners.some((l) => !l.owner && l.name === t.sectionName && isHttpListener(l))) {
        problems.push({ reason: 'TargetNotFound', message: `${where}: ${what} has no HTTP or HTTPS listener named ${t.sectionName}` });
      } else {
        found.push(t.sectionName === undefined ? what : `${what} listener ${t.sectionName}`);
        gateways.add(gateway.key);
      }
      return;
    }
    const routeKey = `${t.kind}/${namespace}/${t.name}`;
    const route = ctx.route(routeKey);
    if (!route) {
      problems.push({ reason: 'TargetNotFound', message: `${where}: ${what} not found` });
    } else if (t.sectionName !== undefined && !route.rules.some((r) => r.name === t.sectionName)) {
      problems.push({ reason: 'TargetNotFound', message: `${where}: ${what} has no rule named ${t.sectionName}` });
    } else {
      found.push(t.sectionName === undefined ? what : `${what} rule ${t.sectionName}`);
      for (const gw of ctx.gatewaysOfRoute(routeKey)) gateways.add(gw);
    }
  });
  if (kind === 'RouteOption') {
    for (const routeKey of [...state.optionLinks.routesNaming(`${namespace}/${name}`)].sort()) {
      const route = ctx.route(routeKey);
      if (!route) continue;
      found.push(`${route.kind} ${route.id.namespace}/${route.id.name} (ExtensionRef)`);
      for (const gw of ctx.gatewaysOfRoute(routeKey)) gateways.add(gw);
    }
  }
  const ignored = problems.map((p) => p.message).join('; ');
  if (found.length === 0 && problems.length > 0) return { accepted: notOk(problems[0].reason, ignored), gateways };
  if (found.length === 0) return { accepted: ok('Accepted', 'applies to the HTTPRoute and GRPCRoute rules whose ExtensionRef filters name it (none does yet)'), gateways };
  return { accepted: ok('Accepted', `applies to ${listed(found)}${ignored ? `; ignored: ${ignored}` : ''}`), gateways };
}

function conflicted(lost: Override[] | undefined): Verdict {
  if (!lost?.length) return notOk('NoConflicts', '');
  const each = lost.map((o) => `spec.options.${o.field} on ${o.target} (${o.winner.id.kind} ${o.winner.id.namespace}/${o.winner.id.name} takes precedence)`);
  return { status: 'True', reason: 'Overridden', message: `overridden: ${listed(each)}` };
}

/** One report per option object (every one is ours: the kinds are Gantry's). */
export function optionReports(state: TranslatorState, ctx: OptionStatusContext, now: string): StatusReport[] {
  const records = [...state.routeOptions.values(), ...state.virtualHostOptions.values(), ...state.listenerOptions.values()] as OptionRecord[];
  if (records.length === 0) return [];
  const overrides = overridesByOption(state, ctx);
  return records.map((record) => {
    const stamp = stampFor(record.id.generation, now);
    const { accepted, gateways } = reach(state, record, ctx);
    const conditions = [stamp('Accepted', accepted)];
    if (accepted.status === 'True') conditions.push(stamp('Conflicted', conflicted(overrides.get(record))));
    return report(record.id, { conditions }, [...gateways]);
  });
}
