// What one rule does with a request on one listener: the action (forward, redirect, direct response)
// and the filters applied on the way. A redirect is settled here because its Location port depends
// on the listener the request came in on.
import type { ResolvedRule } from './backends.ts';
import { redirectFor, type MirrorIR, type RouteFiltersIR } from './filters.ts';
import type { ListenerModel } from './gateway.ts';
import type { ActionIR } from './ir.ts';
import type { RuleModel } from './routes.ts';

export function ruleTraffic(
  rule: RuleModel, resolved: ResolvedRule, listener: Pick<ListenerModel, 'port' | 'protocol'>,
): { action: ActionIR; filters?: RouteFiltersIR } {
  const compiled = rule.compiled;
  if (compiled?.redirect) {
    // Header filters still apply to the redirect response; nothing reaches a backend.
    const { responseHeaders, cors } = compiled.filters;
    const filters: RouteFiltersIR = { mirrors: [], ...(responseHeaders ? { responseHeaders } : {}), ...(cors ? { cors } : {}) };
    return { action: { type: 'redirect', redirect: redirectFor(compiled.redirect, listener) }, filters };
  }
  if (!compiled) return { action: resolved.action };
  return { action: resolved.action, filters: routeFilters(compiled.filters, resolved.mirrors) };
}

/** Most rules have no filters: they share one object rather than each hold an empty one. */
const NO_FILTERS: RouteFiltersIR = Object.freeze({ mirrors: Object.freeze([]) as unknown as MirrorIR[] });

function routeFilters(filters: Omit<RouteFiltersIR, 'mirrors'>, mirrors: MirrorIR[] | undefined): RouteFiltersIR {
  for (const key in filters) if (filters[key as keyof typeof filters] !== undefined) return { ...filters, mirrors: mirrors ?? [] };
  return mirrors?.length ? { mirrors } : NO_FILTERS;
}
