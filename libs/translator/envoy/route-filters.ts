// Route filters (filters.ts IR) → fields of an Envoy Route, RouteAction and RedirectAction.
//
// Envoy constructs, and why:
// - Header modifiers: request/response_headers_to_add with append_action OVERWRITE_IF_EXISTS_OR_ADD
//   (set) or APPEND_IF_EXISTS_OR_ADD (add), and *_headers_to_remove; per backendRef the same fields of
//   the weighted cluster entry.
// - URLRewrite path: ReplaceFullPath is a regex_rewrite of the whole path ("^/.*$"; the query string
//   is kept). ReplacePrefixMatch is a prefix_rewrite per Envoy route: a PathPrefix "/foo" is emitted
//   as the exact path "/foo" (rewritten to the replacement, or "/" for an empty one) and the prefix
//   "/foo/" (rewritten to the replacement with exactly one "/" after it), which gives the spec's
//   segment-wise table: /foo/bar → /xyz/bar, /foo → /xyz, /foo/ → /xyz/, and with "/" → /bar.
// - RequestRedirect: RedirectAction. The port is settled by filters.ts (redirectFor); when it is
//   left out of Location, the request's own Host port is already gone (the connection manager
//   strips any port from Host), so Envoy writes none.
// - RequestMirror: request_mirror_policies, the share as runtime_fraction in millionths.
// - Timeouts: request → route timeout (0 disables it); backendRequest → retry_policy.per_try_timeout.
// - Retry: retry_policy (retriable-status-codes with the codes, attempts, backoff as base interval).
// - CORS: typed_per_filter_config for envoy.filters.http.cors (the connection manager has the filter).
// - RouteOption settings (route-options.ts): idle timeout → RouteAction.idle_timeout; retry conditions
//   → retry_policy.retry_on as given; faults → typed_per_filter_config for envoy.filters.http.fault
//   (HTTPFault, shares in millionths); local rate limit → typed_per_filter_config for
//   envoy.filters.http.local_ratelimit (a token bucket, enabled and enforced for every request,
//   429 when empty). Virtual hosts take the same per-filter configurations (envoy/route-config.ts).
import { pack } from '../../xds/encode.ts';
import type { Any, Route, RouteAction, RouteMatch } from '../../xds/types.ts';
import type { HeaderValueOption } from '../../../protos/generated/envoy/config/core/v3/HeaderValueOption.ts';
import type { RedirectAction } from '../../../protos/generated/envoy/config/route/v3/RedirectAction.ts';
import type { RetryPolicy } from '../../../protos/generated/envoy/config/route/v3/RetryPolicy.ts';
import type { StringMatcher } from '../../../protos/generated/envoy/type/matcher/v3/StringMatcher.ts';
import type { CorsIR, HeaderMutationIR, PathRewriteIR, RedirectIR, RetryIR, RouteFiltersIR } from '../filters.ts';
import { duration, FAULT_FILTER, LOCAL_RATE_LIMIT_FILTER } from './common.ts';
import type { FaultsIR, LocalRateLimitIR } from '../filters.ts';

export const CORS_FILTER = 'envoy.filters.http.cors';

function headersToAdd(m: HeaderMutationIR): HeaderValueOption[] {
  return [
    ...m.set.map((h): HeaderValueOption => ({ header: { key: h.name, value: h.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...m.add.map((h): HeaderValueOption => ({ header: { key: h.name, value: h.value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
}

type HeaderFields = Pick<Route, 'request_headers_to_add' | 'request_headers_to_remove' | 'response_headers_to_add' | 'response_headers_to_remove'>;

/** Header changes as the fields a Route or a weighted cluster entry carries. */
export function headerFields(request?: HeaderMutationIR, response?: HeaderMutationIR): HeaderFields {
  const out: HeaderFields = {};
  if (request) {
    const add = headersToAdd(request);
    if (add.length > 0) out.request_headers_to_add = add;
    if (request.remove.length > 0) out.request_headers_to_remove = request.remove;
  }
  if (response) {
    const add = headersToAdd(response);
    if (add.length > 0) out.response_headers_to_add = add;
    if (response.remove.length > 0) out.response_headers_to_remove = response.remove;
  }
  return out;
}

const trimSlashes = (s: string) => s.replace(/\/+$/, '');

/** ReplacePrefixMatch on one Envoy route of a PathPrefix match (see the header comment). */
function prefixReplacement(match: RouteMatch, value: string): string {
  const replacement = trimSlashes(value);
  return match.prefix !== undefined ? `${replacement}/` : replacement || '/';
}

function urlRewrite(match: RouteMatch, path: PathRewriteIR): Pick<RouteAction, 'prefix_rewrite' | 'regex_rewrite'> {
  if (path.type === 'ReplacePrefixMatch') return { prefix_rewrite: prefixReplacement(match, path.value) };
  return { regex_rewrite: { pattern: { regex: '^/.*$' }, substitution: path.value } };
}

const REDIRECT_CODES = {
  301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT',
} as const;

export function redirectAction(match: RouteMatch, r: RedirectIR): RedirectAction {
  const out: RedirectAction = { response_code: REDIRECT_CODES[r.statusCode] };
  if (r.scheme !== undefined) out.scheme_redirect = r.scheme;
  if (r.hostname !== undefined) out.host_redirect = r.hostname;
  if (r.port !== undefined) out.port_redirect = r.port;
  if (r.path?.type === 'ReplaceFullPath') out.path_redirect = r.path.value;
  else if (r.path) out.prefix_rewrite = prefixReplacement(match, r.path.value);
  return out;
}

export function retryPolicy(retry: RetryIR | undefined, backendRequestTimeoutMs: number | undefined): RetryPolicy | undefined {
  if (!retry && backendRequestTimeoutMs === undefined) return undefined;
  const policy: RetryPolicy = {};
  if (retry) {
    const retryOn = retry.retryOn ?? [...(retry.codes.length > 0 ? ['retriable-status-codes'] : []), 'connect-failure', 'refused-stream', 'reset'];
    policy.retry_on = retryOn.join(',');
    if (retry.codes.length > 0) policy.retriable_status_codes = retry.codes;
    if (retry.attempts !== undefined) policy.num_retries = { value: retry.attempts };
    if (retry.backoffMs !== undefined && retry.backoffMs > 0) policy.retry_back_off = { base_interval: duration(retry.backoffMs) };
  }
  // 0 disables the timeout, which for Envoy is leaving per_try_timeout unset.
  if (backendRequestTimeoutMs !== undefined && backendRequestTimeoutMs > 0) policy.per_try_timeout = duration(backendRequestTimeoutMs);
  return policy;
}

/** The RouteAction fields a forwarding rule's filters set, for one Envoy route (`match`). */
export function forwardingFields(match: RouteMatch, f: RouteFiltersIR): Partial<RouteAction> {
  const out: Partial<RouteAction> = {};
  if (f.hostRewrite !== undefined) out.host_rewrite_literal = f.hostRewrite;
  if (f.pathRewrite) Object.assign(out, urlRewrite(match, f.pathRewrite));
  if (f.mirrors.length > 0) {
    out.request_mirror_policies = f.mirrors.map((m) => ({
      cluster: m.cluster,
      ...(m.perMillion < 1_000_000 ? { runtime_fraction: { default_value: { numerator: m.perMillion, denominator: 'MILLION' as const } } } : {}),
    }));
  }
  if (f.requestTimeoutMs !== undefined) out.timeout = duration(f.requestTimeoutMs);
  if (f.idleTimeoutMs !== undefined) out.idle_timeout = duration(f.idleTimeoutMs);
  const retry = retryPolicy(f.retry, f.backendRequestTimeoutMs);
  if (retry) out.retry_policy = retry;
  return out;
}

/** An allowed origin: exact (case-insensitive), or with "*" matching any characters, dots included. */
function originMatcher(origin: string): StringMatcher {
  if (!origin.includes('*')) return { exact: origin, ignore_case: true };
  const regex = origin.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return { safe_regex: { regex } };
}

function corsPolicy(c: CorsIR): Any {
  const policy = {
    allow_origin_string_match: c.allowOrigins.map(originMatcher),
    ...(c.allowMethods.length > 0 ? { allow_methods: c.allowMethods.join(', ') } : {}),
    ...(c.allowHeaders.length > 0 ? { allow_headers: c.allowHeaders.join(', ') } : {}),
    ...(c.exposeHeaders.length > 0 ? { expose_headers: c.exposeHeaders.join(', ') } : {}),
    max_age: String(c.maxAgeSeconds),
    ...(c.allowCredentials ? { allow_credentials: { value: true } } : {}),
    // A preflight from an origin that is not allowed is answered by the gateway, not the backend.
    forward_not_matching_preflights: { value: false },
  };
  return pack('envoy.extensions.filters.http.cors.v3.CorsPolicy', policy);
}

const millionths = (numerator: number) => ({ numerator, denominator: 'MILLION' as const });

function faultConfig(f: FaultsIR): Any {
  return pack('envoy.extensions.filters.http.fault.v3.HTTPFault', {
    ...(f.delay ? { delay: { fixed_delay: duration(f.delay.fixedDelayMs), percentage: millionths(f.delay.perMillion) } } : {}),
    ...(f.abort ? { abort: { http_status: f.abort.httpStatus, percentage: millionths(f.abort.perMillion) } } : {}),
  });
}

const EVERY_REQUEST = { default_value: { numerator: 100, denominator: 'HUNDRED' as const }, runtime_key: 'local_rate_limit_enabled' };

function localRateLimitConfig(l: LocalRateLimitIR): Any {
  return pack('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', {
    stat_prefix: 'local_rate_limit',
    token_bucket: { max_tokens: l.maxTokens, tokens_per_fill: { value: l.tokensPerFill }, fill_interval: duration(l.fillIntervalMs) },
    filter_enabled: EVERY_REQUEST,
    filter_enforced: { ...EVERY_REQUEST, runtime_key: 'local_rate_limit_enforced' },
  });
}

/** typed_per_filter_config of a route or virtual host: CORS, faults, local rate limit; undefined when none. */
export function perFilterConfig(f: { cors?: CorsIR; faults?: FaultsIR; localRateLimit?: LocalRateLimitIR }): Route['typed_per_filter_config'] | undefined {
  if (!f.cors && !f.faults && !f.localRateLimit) return undefined;
  const out: Record<string, Any> = {};
  if (f.cors) out[CORS_FILTER] = corsPolicy(f.cors);
  if (f.faults) out[FAULT_FILTER] = faultConfig(f.faults);
  if (f.localRateLimit) out[LOCAL_RATE_LIMIT_FILTER] = localRateLimitConfig(f.localRateLimit);
  return out;
}

/** Route-level fields (headers, CORS, faults, local rate limit) that apply whatever the action. */
export function routeFields(f: RouteFiltersIR | undefined): Partial<Route> {
  if (!f) return {};
  const out: Partial<Route> = headerFields(f.requestHeaders, f.responseHeaders);
  const typed = perFilterConfig(f);
  if (typed) out.typed_per_filter_config = typed;
  return out;
}
