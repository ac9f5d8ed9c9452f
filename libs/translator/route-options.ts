// RouteOptions applied to the rules of an HTTPRoute or GRPCRoute. A rule gets, merged field by field
// (options.ts), the RouteOptions its ExtensionRef filters name (filter order), then those whose
// targetRefs name the route with that rule's name as sectionName, then those naming the whole route.
//
// The route's own Gateway API settings win over options where both say the same thing: a rule's
// timeouts.request, retry (and timeouts.backendRequest as the per-try timeout) and CORS filter are
// kept, and an option's header change to a header the rule's own filter also names is dropped. What
// the Gateway API has no field for (idle timeout, retry conditions, faults, local rate limit) comes
// from the option. A redirecting rule takes only response headers and CORS from them, as from its
// own filters (rule-traffic.ts).
//
// The result is a RouteModel of its own, kept while the route and the option objects it was built
// from are the same (by identity), so attachment, IR and Envoy memos downstream are reused exactly
// while nothing an option says for the route changed.
import type { HeaderMutationIR, RouteFiltersIR } from './filters.ts';
import { objectKey, type TranslatorState } from './index-state.ts';
import type { OptionRecord } from './option-index.ts';
import { compileOption, mergeOptions, sameItems, type Merged, type RouteOptionsIR } from './options.ts';
import type { RouteModel, RuleModel } from './routes.ts';
import { notOk, type Verdict } from './status.ts';

export interface RulePlan extends Merged<RouteOptionsIR> {
  /** An ExtensionRef to a RouteOption that is missing or invalid: the rule answers 500. */
  unresolved?: Verdict;
}

export interface RouteOptionsPlan {
  /** By rule index. */
  rules: RulePlan[];
  model: RouteModel;
}

/** How `record`'s targetRefs name `route`: by rule name (sectionName) and/or as a whole. */
function refsTo(record: OptionRecord, route: RouteModel): { sections: Set<string>; whole: boolean } {
  const sections = new Set<string>();
  let whole = false;
  if (!record.parsed.ok) return { sections, whole };
  for (const t of record.parsed.value.spec.targetRefs) {
    if (t.kind !== route.kind || t.name !== route.id.name || (t.namespace ?? record.id.namespace) !== route.id.namespace) continue;
    if (t.sectionName === undefined) whole = true;
    else sections.add(t.sectionName);
  }
  return { sections, whole };
}

/** The option's changes to headers the rule's own filter does not name, then the rule's. */
function underRule(rule: HeaderMutationIR | undefined, option: HeaderMutationIR): HeaderMutationIR {
  if (!rule) return option;
  const named = new Set([...rule.set, ...rule.add].map((h) => h.name.toLowerCase()).concat(rule.remove));
  const free = (h: { name: string }) => !named.has(h.name.toLowerCase());
  return {
    set: [...option.set.filter(free), ...rule.set],
    add: [...option.add.filter(free), ...rule.add],
    remove: [...option.remove.filter((n) => !named.has(n)), ...rule.remove],
  };
}

function withOptions(filters: Omit<RouteFiltersIR, 'mirrors'>, o: RouteOptionsIR): Omit<RouteFiltersIR, 'mirrors'> {
  const out = { ...filters };
  if (o.timeouts?.requestMs !== undefined && out.requestTimeoutMs === undefined) out.requestTimeoutMs = o.timeouts.requestMs;
  if (o.timeouts?.idleMs !== undefined) out.idleTimeoutMs = o.timeouts.idleMs;
  if (o.retries && !out.retry) {
    const { perTryTimeoutMs, ...retry } = o.retries;
    out.retry = retry;
    if (perTryTimeoutMs !== undefined && out.backendRequestTimeoutMs === undefined) out.backendRequestTimeoutMs = perTryTimeoutMs;
  }
  if (o.headerManipulation?.request) out.requestHeaders = underRule(out.requestHeaders, o.headerManipulation.request);
  if (o.headerManipulation?.response) out.responseHeaders = underRule(out.responseHeaders, o.headerManipulation.response);
  if (o.cors && !out.cors) out.cors = o.cors;
  if (o.faults) out.faults = o.faults;
  if (o.localRateLimit) out.localRateLimit = o.localRateLimit;
  return out;
}

function plan(state: TranslatorState, route: RouteModel, targeting: OptionRecord[]): RouteOptionsPlan {
  const refs = targeting.map((record) => ({ record, ...refsTo(record, route) }));
  const plans = route.rules.map((rule): RulePlan => {
    let unresolved: Verdict | undefined;
    const named: OptionRecord[] = [];
    for (const ref of rule.compiled?.optionRefs ?? []) {
      const key = objectKey(route.id.namespace, ref.name);
      const record = state.routeOptions.get(key) as OptionRecord | undefined;
      if (!record) unresolved ??= notOk('RouteOptionNotFound', `${ref.where}.extensionRef: RouteOption ${key} not found; the requests this rule matches get a 500`);
      else if (!compileOption(record).ok) unresolved ??= notOk('RouteOptionInvalid', `${ref.where}.extensionRef: RouteOption ${key} is invalid (see its status); the requests this rule matches get a 500`);
      else named.push(record);
    }
    const ranked = [
      ...named,
      ...refs.filter((r) => rule.name !== undefined && r.sections.has(rule.name)).map((r) => r.record),
      ...refs.filter((r) => r.whole).map((r) => r.record),
    ];
    const merged = mergeOptions<RouteOptionsIR>(ranked, `${route.kind} ${objectKey(route.id.namespace, route.id.name)} rule ${rule.name ?? rule.index}`);
    return unresolved ? { ...merged, unresolved } : merged;
  });
  const rules = route.rules.map((rule, i): RuleModel => {
    const { options, unresolved } = plans[i];
    if (!rule.compiled || (!options && !unresolved)) return rule;
    const compiled = { ...rule.compiled };
    if (options) compiled.filters = withOptions(compiled.filters, options);
    if (unresolved) compiled.unresolvedExtension ??= unresolved;
    return { ...rule, compiled };
  });
  return { rules: plans, model: rules.every((r, i) => r === route.rules[i]) ? route : { ...route, rules } };
}

const plans = new WeakMap<RouteModel, { inputs: unknown[]; plan: RouteOptionsPlan }>();

/**
 * The RouteOptions of `route` (a model read from its object alone): per rule, what applies and what
 * was overridden, and the route model with them applied. Undefined when no RouteOption concerns it.
 */
export function routeOptionsPlan(state: TranslatorState, route: RouteModel): RouteOptionsPlan | undefined {
  if (route.kind !== 'HTTPRoute' && route.kind !== 'GRPCRoute') return undefined;
  const targeting = state.optionLinks.targeting(route.key);
  const named = route.rules.flatMap((r) => r.compiled?.optionRefs ?? []);
  if (targeting.length === 0 && named.length === 0) return undefined;
  // What the plan reads from the state: the targeting options, and what each ExtensionRef names.
  const inputs = [...targeting, ...named.map((ref) => state.routeOptions.get(objectKey(route.id.namespace, ref.name)))];
  const known = plans.get(route);
  if (known && sameItems(known.inputs, inputs)) return known.plan;
  const out = plan(state, route, targeting);
  plans.set(route, { inputs, plan: out });
  return out;
}

/** `route` with the RouteOptions that reach it applied (the same object when none does). */
export function withRouteOptions(state: TranslatorState, route: RouteModel): RouteModel {
  return routeOptionsPlan(state, route)?.model ?? route;
}
