// Route rule filters, timeouts and retries, judged and compiled to the IR (kind-agnostic: HTTPRoute
// and GRPCRoute share it, each with the filter types its API allows). A rule the translator cannot
// honour as written gets a problem: the rule is then left out of Envoy's configuration, and the
// route says why (Accepted=False when every rule has one, PartiallyInvalid=True otherwise), with the
// spec's reasons: UnsupportedValue, or IncompatibleFilters for filter combinations.
//
// What is decided here, and where Envoy sees it (envoy/route-filters.ts):
// - RequestHeaderModifier/ResponseHeaderModifier: set = overwrite or add, add = append, remove.
// - RequestRedirect: the rule answers with a redirect (its backendRefs are not used); the Location
//   port is settled per listener by redirectFor() below, following the spec's defaults.
// - URLRewrite: hostname and path (full path, or the matched prefix, segment-wise).
// - RequestMirror: a copy of a share of the requests to another backend.
// - CORS: answered by Envoy's CORS filter, per route.
// - ExtensionRef to a RouteOption (gateway.gantry.dev): the option's settings apply to the rule
//   (route-options.ts resolves it; a missing or invalid one fails like an unknown kind). Any other
//   kind never resolves: ResolvedRefs=False InvalidKind, and the requests the filter would have
//   processed get a 500 (the spec forbids skipping it).
import type { ListenerModel } from './gateway.ts';
import type { RouteKind } from './ir.ts';
import {
  durationMs, type Cors, type HeaderModifier, type HttpHeader, type PathModifier, type RouteFilter, type RouteRetry, type RouteTimeouts,
} from './filter-objects.ts';
import { notOk, type Verdict } from './status.ts';
import { GANTRY_GROUP } from './upstream-objects.ts';

export interface HeaderMutationIR {
  /** Replace any value the header had (or add it). */
  set: HttpHeader[];
  /** Append to the values the header has (or add it). */
  add: HttpHeader[];
  remove: string[];
}

export interface PathRewriteIR {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

/** A redirect as the Location it makes. `port` present = written into Location; absent = none. */
export interface RedirectIR {
  scheme?: 'http' | 'https';
  hostname?: string;
  port?: number;
  path?: PathRewriteIR;
  statusCode: 301 | 302 | 303 | 307 | 308;
}

/** A RequestRedirect filter as written, before the listener settles its port. */
export interface RedirectSpec {
  scheme?: 'http' | 'https';
  hostname?: string;
  port?: number;
  path?: PathRewriteIR;
  statusCode: RedirectIR['statusCode'];
}

export interface CorsIR {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAgeSeconds: number;
}

export interface RetryIR {
  /** Envoy retry_on conditions (a RouteOption's); absent: the Gateway API's (codes, connect failures, resets). */
  retryOn?: string[];
  codes: number[];
  attempts?: number;
  backoffMs?: number;
}

/** Fault injection (a RouteOption's): shares in millionths. */
export interface FaultsIR {
  abort?: { perMillion: number; httpStatus: number };
  delay?: { perMillion: number; fixedDelayMs: number };
}

/** A token bucket of each proxy (Envoy's local rate limit: not shared between proxies). */
export interface LocalRateLimitIR {
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
}

export interface MirrorIR {
  cluster: string;
  /** Share of the requests copied, in millionths (1_000_000 = all). */
  perMillion: number;
}

/** What a route's filters, timeouts and retries do, once every reference is resolved. */
export interface RouteFiltersIR {
  requestHeaders?: HeaderMutationIR;
  responseHeaders?: HeaderMutationIR;
  hostRewrite?: string;
  pathRewrite?: PathRewriteIR;
  mirrors: MirrorIR[];
  cors?: CorsIR;
  /** 0 = no timeout. */
  requestTimeoutMs?: number;
  backendRequestTimeoutMs?: number;
  retry?: RetryIR;
  /** RouteOption settings with no Gateway API counterpart (route-options.ts). 0 = no idle timeout. */
  idleTimeoutMs?: number;
  faults?: FaultsIR;
  localRateLimit?: LocalRateLimitIR;
}

/** Per-backendRef filters: the header changes Envoy can make per weighted cluster. */
export interface BackendFiltersIR {
  requestHeaders?: HeaderMutationIR;
  responseHeaders?: HeaderMutationIR;
}

/** A RequestMirror whose backendRef is yet to be resolved (backends.ts). */
export interface MirrorSpec {
  backendRef: NonNullable<RouteFilter['requestMirror']>['backendRef'];
  perMillion: number;
}

export interface CompiledRuleFilters {
  /** Everything but mirrors, which need their backend resolved. */
  filters: Omit<RouteFiltersIR, 'mirrors'>;
  mirrors: MirrorSpec[];
  redirect?: RedirectSpec;
  /** ExtensionRef filters: unresolvable, so the rule answers 500 and ResolvedRefs=False. */
  unresolvedExtension?: Verdict;
  /** RouteOptions the rule's ExtensionRef filters name, in filter order (resolved by route-options.ts). */
  optionRefs?: Array<{ name: string; where: string }>;
  /** Per backendRef (same order): header filters, or the unresolvable ExtensionRef that fails it. */
  backends: Array<BackendFiltersIR & { unresolvedExtension?: Verdict }>;
  /** Why the rule cannot be programmed as written. */
  problem?: Verdict;
}

const FILTER_FIELD: Record<string, keyof RouteFilter> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  CORS: 'cors',
  ExtensionRef: 'extensionRef',
  ExternalAuth: 'externalAuth',
};

/** The filter types each route kind's API defines, and those Envoy can apply per backendRef. */
const RULE_FILTERS: Record<'HTTPRoute' | 'GRPCRoute', string[]> = {
  HTTPRoute: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS'],
  GRPCRoute: ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef'],
};
const BACKEND_FILTERS = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'ExtensionRef'];
/** Filters the spec allows more than once in a rule. */
const REPEATABLE = new Set(['RequestMirror', 'ExtensionRef']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

class RuleProblem extends Error {
  constructor(readonly verdict: Verdict) {
    super(verdict.message);
  }
}
const unsupported = (message: string) => new RuleProblem(notOk('UnsupportedValue', message));
const incompatible = (message: string) => new RuleProblem(notOk('IncompatibleFilters', message));

/** Header names are case-insensitive: the first of equivalent names wins, as the spec says. */
export function headerMutation(m: HeaderModifier): HeaderMutationIR {
  const seen = new Set<string>();
  const firstOf = (headers: HttpHeader[]) =>
    headers.filter((h) => {
      const key = h.name.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const set = firstOf(m.set);
  const add = firstOf(m.add);
  return { set, add, remove: [...new Set(m.remove.map((n) => n.toLowerCase()))] };
}

function pathRewrite(path: PathModifier, where: string, pathTypes: string[]): PathRewriteIR {
  if (path.type === 'ReplaceFullPath') {
    if (path.replaceFullPath === undefined) throw unsupported(`${where}.path: type ReplaceFullPath needs replaceFullPath`);
    return { type: 'ReplaceFullPath', value: path.replaceFullPath };
  }
  if (path.type === 'ReplacePrefixMatch') {
    if (path.replacePrefixMatch === undefined) throw unsupported(`${where}.path: type ReplacePrefixMatch needs replacePrefixMatch`);
    const other = pathTypes.find((t) => t !== 'PathPrefix');
    if (other !== undefined) {
      throw unsupported(`${where}.path: ReplacePrefixMatch only works with PathPrefix matches, and this rule has a ${other} match`);
    }
    return { type: 'ReplacePrefixMatch', value: path.replacePrefixMatch };
  }
  throw unsupported(`${where}.path.type: "${path.type}" is not supported; use ReplaceFullPath or ReplacePrefixMatch`);
}

function redirectSpec(r: NonNullable<RouteFilter['requestRedirect']>, where: string, pathTypes: string[]): RedirectSpec {
  if (r.scheme !== undefined && r.scheme !== 'http' && r.scheme !== 'https') {
    throw unsupported(`${where}.scheme: "${r.scheme}" is not supported; use http or https`);
  }
  if (!REDIRECT_CODES.has(r.statusCode)) {
    throw unsupported(`${where}.statusCode: ${r.statusCode} is not supported; use 301, 302, 303, 307 or 308`);
  }
  const out: RedirectSpec = { statusCode: r.statusCode as RedirectSpec['statusCode'] };
  if (r.scheme !== undefined) out.scheme = r.scheme;
  if (r.hostname !== undefined) out.hostname = r.hostname;
  if (r.port !== undefined) out.port = r.port;
  if (r.path !== undefined) out.path = pathRewrite(r.path, `${where}`, pathTypes);
  return out;
}

export function cors(c: Cors): CorsIR {
  return {
    allowOrigins: c.allowOrigins,
    allowMethods: c.allowMethods,
    allowHeaders: c.allowHeaders,
    exposeHeaders: c.exposeHeaders,
    allowCredentials: c.allowCredentials === true,
    maxAgeSeconds: c.maxAge,
  };
}

/** A mirror's share in millionths: percent, or fraction, or everything. */
export function mirrorPerMillion(m: NonNullable<RouteFilter['requestMirror']>): number {
  if (m.fraction) return Math.round((m.fraction.numerator * 1_000_000) / m.fraction.denominator);
  if (m.percent !== undefined) return m.percent * 10_000;
  return 1_000_000;
}

const isRouteOption = (ref: NonNullable<RouteFilter['extensionRef']>) => ref.group === GANTRY_GROUP && ref.kind === 'RouteOption';

function extensionVerdict(ref: NonNullable<RouteFilter['extensionRef']>, where: string): Verdict {
  if (isRouteOption(ref)) return notOk('InvalidKind', `${where}.extensionRef: a RouteOption applies to a whole rule; name it in the rule's filters, not a backendRef's`);
  return notOk('InvalidKind', `${where}.extensionRef: ${ref.group || 'core'}/${ref.kind} ${ref.name} is not a filter kind Gantry knows; the requests it would process get a 500`);
}

/** The filter's own field, checked to be present (the CRD's CEL rules say so, but input may skip them). */
function filterBody<K extends keyof RouteFilter>(f: RouteFilter, where: string): NonNullable<RouteFilter[K]> {
  const field = FILTER_FIELD[f.type] as K;
  const body = f[field];
  if (body === undefined) throw unsupported(`${where}: a ${f.type} filter needs its "${String(field)}" field`);
  return body as NonNullable<RouteFilter[K]>;
}

function timeoutsOf(t: RouteTimeouts | undefined): Pick<RouteFiltersIR, 'requestTimeoutMs' | 'backendRequestTimeoutMs'> {
  if (!t) return {};
  const out: Pick<RouteFiltersIR, 'requestTimeoutMs' | 'backendRequestTimeoutMs'> = {};
  if (t.request !== undefined) out.requestTimeoutMs = durationMs(t.request);
  if (t.backendRequest !== undefined) out.backendRequestTimeoutMs = durationMs(t.backendRequest);
  const { requestTimeoutMs: req, backendRequestTimeoutMs: backend } = out;
  if (req !== undefined && backend !== undefined && req !== 0 && (backend === 0 || backend > req)) {
    throw unsupported(`timeouts.backendRequest (${t.backendRequest}) must not be longer than timeouts.request (${t.request})`);
  }
  return out;
}

function retryOf(r: RouteRetry | undefined): RetryIR | undefined {
  if (!r) return undefined;
  const out: RetryIR = { codes: [...new Set(r.codes)].sort((a, b) => a - b) };
  if (r.attempts !== undefined) out.attempts = r.attempts;
  if (r.backoff !== undefined) out.backoffMs = durationMs(r.backoff);
  return out;
}

export interface RuleInput {
  filters: RouteFilter[];
  backendRefs: Array<{ filters?: RouteFilter[] }>;
  timeouts?: RouteTimeouts;
  retry?: RouteRetry;
}

/**
 * Judges and compiles one rule. `pathTypes` are the path match types of the rule's matches
 * (PathPrefix for a rule without matches), which ReplacePrefixMatch depends on.
 */
export function compileRuleFilters(kind: RouteKind, rule: RuleInput, pathTypes: string[]): CompiledRuleFilters {
  const allowed = RULE_FILTERS[kind as 'HTTPRoute' | 'GRPCRoute'] ?? [];
  const out: CompiledRuleFilters = { filters: {}, mirrors: [], backends: rule.backendRefs.map(() => ({})) };
  try {
    const seen = new Set<string>();
    rule.filters.forEach((f, i) => {
      const where = `filters[${i}]`;
      if (!allowed.includes(f.type)) {
        throw unsupported(`${where}.type: ${kind} filter type "${f.type}" is not supported; supported: ${allowed.join(', ')}`);
      }
      if (seen.has(f.type) && !REPEATABLE.has(f.type)) throw incompatible(`${where}: a rule may have only one ${f.type} filter`);
      seen.add(f.type);
      switch (f.type) {
        case 'RequestHeaderModifier': out.filters.requestHeaders = headerMutation(filterBody<'requestHeaderModifier'>(f, where)); break;
        case 'ResponseHeaderModifier': out.filters.responseHeaders = headerMutation(filterBody<'responseHeaderModifier'>(f, where)); break;
        case 'RequestRedirect': out.redirect = redirectSpec(filterBody<'requestRedirect'>(f, where), `${where}.requestRedirect`, pathTypes); break;
        case 'URLRewrite': {
          const body = filterBody<'urlRewrite'>(f, where);
          if (body.hostname !== undefined) out.filters.hostRewrite = body.hostname;
          if (body.path !== undefined) out.filters.pathRewrite = pathRewrite(body.path, `${where}.urlRewrite`, pathTypes);
          break;
        }
        case 'RequestMirror': {
          const body = filterBody<'requestMirror'>(f, where);
          const perMillion = mirrorPerMillion(body);
          if (perMillion > 0) out.mirrors.push({ backendRef: body.backendRef, perMillion });
          break;
        }
        case 'CORS': out.filters.cors = cors(filterBody<'cors'>(f, where)); break;
        case 'ExtensionRef': {
          const ref = filterBody<'extensionRef'>(f, where);
          if (isRouteOption(ref)) (out.optionRefs ??= []).push({ name: ref.name, where });
          else out.unresolvedExtension ??= extensionVerdict(ref, where);
          break;
        }
      }
    });
    if (out.redirect && seen.has('URLRewrite')) throw incompatible('RequestRedirect and URLRewrite filters cannot be used in the same rule');
    rule.backendRefs.forEach((ref, b) => {
      const target = out.backends[b];
      const seenHere = new Set<string>();
      (ref.filters ?? []).forEach((f, i) => {
        const where = `backendRefs[${b}].filters[${i}]`;
        if (!BACKEND_FILTERS.includes(f.type) || !allowed.includes(f.type)) {
          throw unsupported(`${where}.type: "${f.type}" is not supported on a backendRef; supported there: RequestHeaderModifier, ResponseHeaderModifier`);
        }
        if (seenHere.has(f.type) && !REPEATABLE.has(f.type)) throw incompatible(`${where}: a backendRef may have only one ${f.type} filter`);
        seenHere.add(f.type);
        if (f.type === 'RequestHeaderModifier') target.requestHeaders = headerMutation(filterBody<'requestHeaderModifier'>(f, where));
        else if (f.type === 'ResponseHeaderModifier') target.responseHeaders = headerMutation(filterBody<'responseHeaderModifier'>(f, where));
        else target.unresolvedExtension ??= extensionVerdict(filterBody<'extensionRef'>(f, where), where);
      });
    });
    Object.assign(out.filters, timeoutsOf(rule.timeouts));
    const retry = retryOf(rule.retry);
    if (retry) out.filters.retry = retry;
  } catch (err) {
    if (!(err instanceof RuleProblem)) throw err;
    out.problem = err.verdict;
  }
  return out;
}

const WELL_KNOWN_PORT: Record<string, number> = { http: 80, https: 443 };

/**
 * The Location a redirect makes on `listener`, by the spec's port rules: without a port, a redirect
 * that names a scheme goes to that scheme's well-known port, one that does not stays on the
 * listener's port; and the port is left out of Location when it is the scheme's well-known one.
 */
export function redirectFor(spec: RedirectSpec, listener: Pick<ListenerModel, 'port' | 'protocol'>): RedirectIR {
  const listenerScheme = listener.protocol === 'HTTPS' ? 'https' : 'http';
  const scheme = spec.scheme ?? listenerScheme;
  const port = spec.port ?? (spec.scheme !== undefined ? WELL_KNOWN_PORT[spec.scheme] : listener.port);
  const out: RedirectIR = { statusCode: spec.statusCode };
  if (spec.scheme !== undefined) out.scheme = spec.scheme;
  if (spec.hostname !== undefined) out.hostname = spec.hostname;
  if (port !== WELL_KNOWN_PORT[scheme]) out.port = port;
  if (spec.path !== undefined) out.path = spec.path;
  return out;
}

/** A rule that cannot be programmed is left out; the route's Accepted and PartiallyInvalid say why. */
export function ruleVerdicts(rules: Array<{ problem?: Verdict }>): { accepted?: Verdict; partiallyInvalid?: Verdict } {
  const bad = rules.map((r, i) => ({ i, problem: r.problem })).filter((r) => r.problem !== undefined);
  if (bad.length === 0) return {};
  const detail = bad.map((r) => `rule ${r.i}: ${r.problem!.message}`).join('; ');
  if (bad.length === rules.length) return { accepted: notOk(bad[0].problem!.reason, detail) };
  return { partiallyInvalid: { status: 'True', reason: 'UnsupportedValue', message: `rules left out: ${detail}` } };
}
