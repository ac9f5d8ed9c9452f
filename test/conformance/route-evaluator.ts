// What Envoy would do with one HTTP request, given a Gateway's configuration in config-dump JSON
// (`snapshotToJson`: proto3 JSON, camelCase). Follows Envoy's documented matching, step by step:
//   listener by port → filter chain (destination port, SNI: exact, then longest `*.` suffix, then
//   none; transport protocol) → HttpConnectionManager → RouteConfiguration (inline or RDS by name)
//   → virtual host by Host (exact, longest `*` suffix, longest `*` prefix, `*`; port stripped with
//   strip_any_host_port) → first route whose match holds (path/prefix/safe_regex/
//   path_separated_prefix ignoring the query, case_sensitive, headers, query_parameters, grpc) →
//   its action: route (cluster or weighted clusters; 503 when the cluster or its endpoints are
//   missing), redirect (Location built as Envoy builds it), direct_response; header mutations at
//   weighted-cluster, route, virtual-host and route-configuration level (in that order, each
//   removing before adding); prefix/regex path rewrites, host rewrites, request mirrors; the CORS
//   filter (envoy.filters.http.cors) with per-route CorsPolicy: preflights answered by the filter,
//   Access-Control-* headers added to backend responses (see `corsFilter`).
// It answers what the configuration says; features it does not model are listed in `unmodelled`
// so a caller can refuse to call the result a pass.

// Config-dump JSON is loosely typed: these are the fields read, all optional.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type J = any;

export interface EnvoyConfig {
  listeners: J[];
  routes: J[];
  clusters: J[];
  endpoints: J[];
}

export interface HttpRequest {
  port: number;
  /** https: a TLS connection, `sni` offered (a filter chain with a TLS transport socket is required). */
  scheme: 'http' | 'https';
  sni?: string;
  /** Host header / :authority, as sent (may carry a port). */
  host: string;
  /** Path with the query string, as sent. */
  path: string;
  method?: string;
  headers?: Record<string, string>;
}

export interface Backend {
  cluster: string;
  /** Share of the requests this route sends to the cluster (weights normalised; 1 for a single cluster). */
  share: number;
  /** `k8s/<ns>/<svc>/<port>` clusters name the Service. */
  service?: { namespace: string; name: string; port: number };
  endpoints: Array<{ address: string; port: number }>;
  /** Request seen by this backend (weighted-cluster header changes differ per backend). */
  request: UpstreamRequest;
  responseHeaders: Headers;
  /** Why this backend cannot answer (503), if it cannot. */
  unavailable?: string;
}

export interface UpstreamRequest { host: string; path: string; method: string; headers: Headers }

/** Lower-case name → values in order. */
export type Headers = Map<string, string[]>;

export interface Outcome {
  /** What answered: a backend route, a redirect or direct response, or Envoy's own error. */
  kind: 'route' | 'redirect' | 'direct' | 'error';
  /** HTTP status the client sees; for kind=route the one a healthy echo backend gives (200) or 503. */
  status: number;
  /** Why Envoy answered itself (kind=error), e.g. "no listener on port 8080". */
  reason?: string;
  listener?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  backends: Backend[];
  location?: string;
  /** Response headers the gateway added (redirects, direct responses; backends carry their own). */
  responseHeaders: Headers;
  mirrors: Array<{ cluster: string; percent: number }>;
  /** Configuration this evaluator saw but does not model (e.g. a CORS policy). */
  unmodelled: string[];
  /** Route timeout in seconds (Envoy's default 15; 0 = none), for kind=route. */
  timeoutSeconds?: number;
  /** The HttpConnectionManager used, for callers checking codec/upgrade settings. */
  hcm?: J;
  /** The CORS filter's verdict: a preflight it answered, or headers it adds to a backend's response. */
  cors?: { preflight: boolean; originAllowed: boolean; addToResponse: Headers };
}

const HCM = 'envoy.filters.network.http_connection_manager';
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const REDIRECT_CODES: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };
const list = (v: unknown): J[] => (Array.isArray(v) ? v : []);

function headersOf(h: Record<string, string> | undefined): Headers {
  const out: Headers = new Map();
  for (const [k, v] of Object.entries(h ?? {})) out.set(k.toLowerCase(), [...(out.get(k.toLowerCase()) ?? []), v]);
  return out;
}

export const headerValue = (h: Headers, name: string): string | undefined => h.get(name.toLowerCase())?.join(',');

const cloneHeaders = (h: Headers): Headers => new Map([...h].map(([k, v]) => [k, [...v]]));

function errorOutcome(status: number, reason: string, partial: Partial<Outcome> = {}): Outcome {
  return { kind: 'error', status, reason, backends: [], responseHeaders: new Map(), mirrors: [], unmodelled: [], ...partial };
}

// --- listener and filter chain ----------------------------------------------------------------

function chainServerNameRank(chain: J, sni: string | undefined): number {
  const names: string[] = list(chain.filterChainMatch?.serverNames);
  if (names.length === 0) return 0; // matches any SNI, lowest priority among matches
  if (!sni) return -1;
  const s = sni.toLowerCase();
  if (names.some((n) => n.toLowerCase() === s)) return 1_000_000;
  let best = -1;
  for (const n of names) {
    const lower = n.toLowerCase();
    if (lower.startsWith('*.') && s.endsWith(lower.slice(1)) && s.length > lower.length - 1) best = Math.max(best, lower.length);
  }
  return best;
}

/** Envoy's filter chain match: destination port, then server names, then transport protocol. */
export function selectFilterChain(listener: J, req: Pick<HttpRequest, 'port' | 'scheme' | 'sni'>): J | undefined {
  let chains = list(listener.filterChains);
  const withPort = chains.filter((c) => c.filterChainMatch?.destinationPort === req.port);
  chains = withPort.length ? withPort : chains.filter((c) => c.filterChainMatch?.destinationPort === undefined);
  const ranked = chains.map((c) => ({ c, rank: chainServerNameRank(c, req.scheme === 'https' ? req.sni : undefined) })).filter((x) => x.rank >= 0);
  const top = Math.max(-1, ...ranked.map((x) => x.rank));
  chains = ranked.filter((x) => x.rank === top).map((x) => x.c);
  const transport = req.scheme === 'https' ? 'tls' : 'raw_buffer';
  const exact = chains.filter((c) => c.filterChainMatch?.transportProtocol === transport);
  chains = exact.length ? exact : chains.filter((c) => !c.filterChainMatch?.transportProtocol);
  return chains[0] ?? listener.defaultFilterChain;
}

export function findListener(config: EnvoyConfig, port: number): J | undefined {
  return config.listeners.find((l) => l.address?.socketAddress?.portValue === port);
}

// --- virtual host -----------------------------------------------------------------------------

/** Envoy's virtual host selection: exact domain, then longest suffix wildcard, then longest prefix wildcard, then `*`. */
export function selectVirtualHost(routeConfig: J, host: string): J | undefined {
  const h = host.toLowerCase();
  const vhosts = list(routeConfig.virtualHosts);
  for (const vh of vhosts) if (list(vh.domains).some((d: string) => d.toLowerCase() === h)) return vh;
  let best: { vh: J; len: number } | undefined;
  for (const vh of vhosts) {
    for (const d of list(vh.domains) as string[]) {
      const dl = d.toLowerCase();
      if (dl.length > 1 && dl.startsWith('*') && h.endsWith(dl.slice(1)) && h.length > dl.length - 1) {
        if (!best || dl.length > best.len) best = { vh, len: dl.length };
      }
    }
  }
  if (best) return best.vh;
  for (const vh of vhosts) {
    for (const d of list(vh.domains) as string[]) {
      const dl = d.toLowerCase();
      if (dl.length > 1 && dl.endsWith('*') && h.startsWith(dl.slice(0, -1)) && h.length > dl.length - 1) {
        if (!best || dl.length > best.len) best = { vh, len: dl.length };
      }
    }
  }
  if (best) return best.vh;
  return vhosts.find((vh) => list(vh.domains).includes('*'));
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const i = host.lastIndexOf(':');
  return i >= 0 && /^\d+$/.test(host.slice(i + 1)) ? host.slice(0, i) : host;
}

// --- route match ------------------------------------------------------------------------------

/** Envoy RE2 patterns as JS regular expressions (RE2 is a subset for what routes use). */
function re(pattern: string, flags = ''): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), flags);
}

export function stringMatches(m: J, value: string): boolean {
  const ic = m.ignoreCase === true;
  const v = ic ? value.toLowerCase() : value;
  const norm = (s: string) => (ic ? s.toLowerCase() : s);
  if (m.exact !== undefined) return v === norm(m.exact);
  if (m.prefix !== undefined) return v.startsWith(norm(m.prefix));
  if (m.suffix !== undefined) return v.endsWith(norm(m.suffix));
  if (m.contains !== undefined) return v.includes(norm(m.contains));
  if (m.safeRegex !== undefined) return re(`^(?:${m.safeRegex.regex})$`).test(value);
  return false; // a StringMatcher without a specifier is invalid in Envoy
}

function splitPath(pathWithQuery: string): { path: string; query: string } {
  const q = pathWithQuery.indexOf('?');
  const noFrag = (s: string) => { const f = s.indexOf('#'); return f >= 0 ? s.slice(0, f) : s; };
  return q < 0 ? { path: noFrag(pathWithQuery), query: '' } : { path: pathWithQuery.slice(0, q), query: noFrag(pathWithQuery.slice(q + 1)) };
}

function queryParams(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (!out.has(name)) out.set(name, value); // Envoy matches the first value
  }
  return out;
}

function headerMatches(hm: J, headers: Headers): boolean {
  const values = headers.get(String(hm.name).toLowerCase());
  const joined = values?.join(',');
  let result: boolean;
  if (hm.presentMatch !== undefined) result = joined !== undefined ? hm.presentMatch !== false : hm.presentMatch === false ? true : false;
  else if (joined === undefined) result = hm.treatMissingHeaderAsEmpty === true ? matchValue(hm, '') : false;
  else result = matchValue(hm, joined);
  return hm.invertMatch === true ? !result : result;
}

function matchValue(hm: J, value: string): boolean {
  if (hm.stringMatch) return stringMatches(hm.stringMatch, value);
  if (hm.exactMatch !== undefined) return value === hm.exactMatch;
  if (hm.prefixMatch !== undefined) return value.startsWith(hm.prefixMatch);
  if (hm.suffixMatch !== undefined) return value.endsWith(hm.suffixMatch);
  if (hm.containsMatch !== undefined) return value.includes(hm.containsMatch);
  if (hm.safeRegexMatch) return re(`^(?:${hm.safeRegexMatch.regex})$`).test(value);
  if (hm.rangeMatch) { const n = Number(value); return Number.isInteger(n) && n >= Number(hm.rangeMatch.start) && n < Number(hm.rangeMatch.end); }
  return true; // no specifier: the header must be present
}

/** Length of the matched path prefix (for prefix_rewrite), or -1 when the route does not match. */
export function routeMatches(match: J, req: { path: string; query: string; headers: Headers }, unmodelled: string[]): number {
  const cs = match.caseSensitive !== false;
  const p = cs ? req.path : req.path.toLowerCase();
  const norm = (s: string) => (cs ? s : s.toLowerCase());
  let matched: number;
  if (match.prefix !== undefined) matched = p.startsWith(norm(match.prefix)) ? match.prefix.length : -1;
  else if (match.path !== undefined) matched = p === norm(match.path) ? req.path.length : -1;
  else if (match.safeRegex !== undefined) matched = re(`^(?:${match.safeRegex.regex})$`, cs ? '' : 'i').test(req.path) ? req.path.length : -1;
  else if (match.pathSeparatedPrefix !== undefined) {
    const pre = norm(match.pathSeparatedPrefix);
    matched = p === pre || p.startsWith(`${pre}/`) ? match.pathSeparatedPrefix.length : -1;
  } else if (match.connectMatcher !== undefined) matched = -1;
  else { unmodelled.push('route match without a path specifier'); matched = -1; }
  if (matched < 0) return -1;
  if (match.grpc !== undefined && !(headerValue(req.headers, 'content-type') ?? '').startsWith('application/grpc')) return -1;
  for (const hm of list(match.headers)) if (!headerMatches(hm, req.headers)) return -1;
  if (list(match.queryParameters).length) {
    const params = queryParams(req.query);
    for (const qm of list(match.queryParameters)) {
      const v = params.get(qm.name);
      if (qm.presentMatch !== undefined) { if ((v !== undefined) !== (qm.presentMatch !== false)) return -1; continue; }
      if (v === undefined || !stringMatches(qm.stringMatch ?? {}, v)) return -1;
    }
  }
  if (match.runtimeFraction !== undefined) unmodelled.push('route match runtime_fraction');
  if (list(match.dynamicMetadata).length || match.filterState !== undefined) unmodelled.push('route match on metadata/filter state');
  return matched;
}

// --- header mutations -------------------------------------------------------------------------

interface MutationLevel { add: J[]; remove: string[] }

/** One level of header_to_add/remove: removes first, then adds (Envoy's HeaderParser). */
export function applyHeaderMutations(headers: Headers, level: MutationLevel): void {
  for (const name of level.remove) headers.delete(name.toLowerCase());
  for (const opt of level.add) {
    const key = String(opt.header?.key ?? '').toLowerCase();
    const value = String(opt.header?.value ?? opt.header?.rawValue ?? '');
    if (!key) continue;
    let action: string = opt.appendAction ?? 'APPEND_IF_EXISTS_OR_ADD';
    if (opt.append !== undefined && opt.appendAction === undefined) action = opt.append === false ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD';
    const present = headers.has(key);
    if (opt.keepEmptyValue !== true && value === '') continue;
    switch (action) {
      case 'APPEND_IF_EXISTS_OR_ADD': headers.set(key, [...(headers.get(key) ?? []), value]); break;
      case 'ADD_IF_ABSENT': if (!present) headers.set(key, [value]); break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD': headers.set(key, [value]); break;
      case 'OVERWRITE_IF_EXISTS': if (present) headers.set(key, [value]); break;
    }
  }
}

const requestLevel = (o: J): MutationLevel => ({ add: list(o?.requestHeadersToAdd), remove: list(o?.requestHeadersToRemove) });
const responseLevel = (o: J): MutationLevel => ({ add: list(o?.responseHeadersToAdd), remove: list(o?.responseHeadersToRemove) });

// --- actions ----------------------------------------------------------------------------------

function rewritePath(path: string, action: J, matchedPrefix: number): string {
  if (action.prefixRewrite !== undefined) return action.prefixRewrite + path.slice(matchedPrefix);
  if (action.regexRewrite) {
    const substitution = String(action.regexRewrite.substitution ?? '').replace(/\\(\d)/g, '$$$1');
    return path.replace(re(action.regexRewrite.pattern.regex, 'g'), substitution);
  }
  return path;
}

function serviceOf(cluster: string): Backend['service'] {
  const m = /^k8s\/([^/]+)\/([^/]+)\/(\d+)$/.exec(cluster);
  return m ? { namespace: m[1], name: m[2], port: Number(m[3]) } : undefined;
}

function endpointsOf(config: EnvoyConfig, clusterName: string): { endpoints: Backend['endpoints']; unavailable?: string } {
  const cluster = config.clusters.find((c) => c.name === clusterName);
  if (!cluster) return { endpoints: [], unavailable: `cluster ${clusterName} is not in CDS` };
  let cla = cluster.loadAssignment;
  if (!cla) {
    const edsName = cluster.edsClusterConfig?.serviceName ?? clusterName;
    cla = config.endpoints.find((e) => e.clusterName === edsName);
    if (!cla) return { endpoints: [], unavailable: `no ClusterLoadAssignment ${edsName}` };
  }
  const endpoints = list(cla.endpoints).flatMap((loc) => list(loc.lbEndpoints))
    .filter((e) => !['UNHEALTHY', 'DRAINING', 'TIMEOUT'].includes(e.healthStatus))
    .map((e) => e.endpoint?.address?.socketAddress)
    .filter((a) => a?.address)
    .map((a) => ({ address: a.address as string, port: Number(a.portValue ?? 0) }));
  return endpoints.length ? { endpoints } : { endpoints, unavailable: `cluster ${clusterName} has no endpoints` };
}

/** The Location header of a redirect action, as Envoy builds it. */
export function redirectLocation(redirect: J, req: { scheme: string; host: string; path: string; query: string }, matchedPrefix: number): string {
  const scheme = redirect.schemeRedirect ?? (redirect.httpsRedirect ? 'https' : req.scheme);
  const newPort = redirect.portRedirect !== undefined && redirect.portRedirect !== 0 ? String(redirect.portRedirect) : '';
  let host: string;
  if (redirect.hostRedirect !== undefined) host = redirect.hostRedirect;
  else {
    host = req.host;
    const i = host.lastIndexOf(':');
    if (i >= 0 && !host.endsWith(']')) {
      const port = host.slice(i);
      let remove = newPort !== '';
      if (scheme !== req.scheme) remove ||= (req.scheme === 'https' && port === ':443') || (req.scheme === 'http' && port === ':80');
      if (remove) host = host.slice(0, i);
    }
  }
  let path: string;
  let query = req.query;
  if (redirect.pathRedirect !== undefined) {
    const q = redirect.pathRedirect.indexOf('?');
    path = q < 0 ? redirect.pathRedirect : redirect.pathRedirect.slice(0, q);
    if (q >= 0) query = redirect.pathRedirect.slice(q + 1);
  } else path = rewritePath(req.path, redirect, matchedPrefix);
  if (redirect.stripQuery === true) query = '';
  return `${scheme}://${host}${newPort ? `:${newPort}` : ''}${path}${query ? `?${query}` : ''}`;
}

// --- CORS filter -----------------------------------------------------------------------------
//
// envoy.filters.http.cors, as its source (extensions/filters/http/cors/cors_filter.cc) does it:
// - Policies: the typed_per_filter_config CorsPolicy of the route, then of the virtual host (each
//   setting taken from the first that sets it); without any, the legacy `cors` fields of route and
//   virtual host. The filter must be in the connection manager's http_filters, or nothing happens.
// - A request without an Origin (or an empty one) is not a CORS request. An origin is allowed when
//   some allow_origin_string_match matches it, or matches the literal "*".
// - Preflight = OPTIONS + Origin + non-empty Access-Control-Request-Method. When the origin is not
//   allowed and forward_not_matching_preflights is unset or true, it goes on to the route.
//   Otherwise the filter answers 200 with: Access-Control-Allow-Origin = the request's Origin (only
//   when allowed; never "*"), -Allow-Credentials: true when allow_credentials (even for an origin
//   not allowed), -Allow-Methods = allow_methods (or, when it is exactly "*", the request's
//   Access-Control-Request-Method), -Allow-Headers = allow_headers (exactly "*": the request's
//   Access-Control-Request-Headers, empty if absent), -Max-Age = max_age. No -Expose-Headers.
// - Any other request from an allowed origin goes to the route; the response gets
//   Access-Control-Allow-Origin = the Origin, -Allow-Credentials: true when allow_credentials, and
//   -Expose-Headers = expose_headers. An origin not allowed leaves the response alone.
// The "*" echo of methods and headers is recent Envoy (older releases sent "*" as configured).

export const CORS_FILTER = 'envoy.filters.http.cors';

function corsPolicies(vh: J, route: J): J[] {
  const typed = [route.typedPerFilterConfig?.[CORS_FILTER], vh.typedPerFilterConfig?.[CORS_FILTER]].filter((p) => p !== undefined);
  if (typed.length) return typed;
  return [route.route?.cors, vh.cors].filter((p) => p !== undefined);
}

function runtimeFullyOn(f: J, what: string, unmodelled: string[]): boolean {
  if (f === undefined) return true;
  const pct = fraction(f.defaultValue ?? {});
  if (pct !== 100 && pct !== 0) unmodelled.push(`CORS ${what} at ${pct}%`);
  return pct >= 100;
}

function corsFilter(hcm: J, vh: J, route: J, headers: Headers, method: string, unmodelled: string[]): Outcome['cors'] {
  if (!list(hcm.httpFilters).some((f) => f.name === CORS_FILTER || String(f.typedConfig?.['@type'] ?? '').endsWith('filters.http.cors.v3.Cors'))) return undefined;
  const policies = corsPolicies(vh, route);
  if (!policies.length) return undefined;
  const first = <T>(pick: (p: J) => T | undefined): T | undefined => {
    for (const p of policies) { const v = pick(p); if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) return v; }
    return undefined;
  };
  const enabled = runtimeFullyOn(policies[0].filterEnabled, 'filter_enabled', unmodelled);
  if (!enabled) return undefined; // shadow mode only counts statistics
  const origin = headerValue(headers, 'origin');
  if (!origin) return undefined;
  const matchers: J[] = first((p) => p.allowOriginStringMatch) ?? [];
  const originAllowed = matchers.some((m) => stringMatches(m, '*') || stringMatches(m, origin));
  const credentials = first((p) => (p.allowCredentials === undefined ? undefined : p.allowCredentials === true || p.allowCredentials?.value === true)) ?? false;
  const add: Headers = new Map();
  const requestMethod = headerValue(headers, 'access-control-request-method');
  if (method === 'OPTIONS' && requestMethod) {
    const forward = first((p) => (p.forwardNotMatchingPreflights === undefined ? undefined : p.forwardNotMatchingPreflights === true || p.forwardNotMatchingPreflights?.value === true)) ?? true;
    if (!originAllowed && forward) return { preflight: false, originAllowed, addToResponse: add };
    if (originAllowed) add.set('access-control-allow-origin', [origin]);
    if (credentials) add.set('access-control-allow-credentials', ['true']);
    const methods = first((p) => p.allowMethods as string | undefined);
    if (methods) add.set('access-control-allow-methods', [methods === '*' ? requestMethod : methods]);
    const allowHeaders = first((p) => p.allowHeaders as string | undefined);
    if (allowHeaders) add.set('access-control-allow-headers', [allowHeaders === '*' ? headerValue(headers, 'access-control-request-headers') ?? '' : allowHeaders]);
    const maxAge = first((p) => p.maxAge as string | undefined);
    if (maxAge) add.set('access-control-max-age', [maxAge]);
    return { preflight: true, originAllowed, addToResponse: add };
  }
  if (originAllowed) {
    add.set('access-control-allow-origin', [origin]);
    if (credentials) add.set('access-control-allow-credentials', ['true']);
    const expose = first((p) => p.exposeHeaders as string | undefined);
    if (expose) add.set('access-control-expose-headers', [expose]);
  }
  return { preflight: false, originAllowed, addToResponse: add };
}

// --- the whole evaluation ---------------------------------------------------------------------

export function evaluate(config: EnvoyConfig, request: HttpRequest): Outcome {
  const listener = findListener(config, request.port);
  if (!listener) return errorOutcome(0, `no listener on port ${request.port} (connection refused)`);
  const chain = selectFilterChain(listener, request);
  if (!chain) return errorOutcome(0, `listener ${listener.name}: no filter chain for ${request.scheme}${request.sni ? ` SNI ${request.sni}` : ''} (connection closed)`, { listener: listener.name });
  const tls = chain.transportSocket?.name === 'envoy.transport_sockets.tls' || String(chain.transportSocket?.typedConfig?.['@type'] ?? '').endsWith('DownstreamTlsContext');
  if (request.scheme === 'https' && !tls) return errorOutcome(0, `listener ${listener.name}: the filter chain for SNI ${request.sni} does not terminate TLS`, { listener: listener.name });
  if (request.scheme === 'http' && tls) return errorOutcome(0, `listener ${listener.name}: plain HTTP sent to a TLS filter chain`, { listener: listener.name });
  const filter = list(chain.filters).find((f) => f.name === HCM || f.typedConfig?.['@type'] === HCM_TYPE);
  if (!filter) return errorOutcome(0, `listener ${listener.name}: the filter chain has no HttpConnectionManager (${list(chain.filters).map((f) => f.name).join(', ')})`, { listener: listener.name });
  const hcm = filter.typedConfig;
  const unmodelled: string[] = [];
  const routeConfig = hcm.routeConfig ?? config.routes.find((r) => r.name === hcm.rds?.routeConfigName);
  if (!routeConfig) return errorOutcome(0, `RouteConfiguration ${hcm.rds?.routeConfigName} is not in RDS (the listener stays warming)`, { listener: listener.name, hcm });

  const headers = headersOf(request.headers);
  const method = (request.method ?? 'GET').toUpperCase();
  headers.set(':method', [method]);
  headers.set(':authority', [request.host]);
  headers.set(':scheme', [request.scheme]);
  const { path, query } = splitPath(request.path);
  headers.set(':path', [request.path]);
  const base = { listener: listener.name, routeConfig: routeConfig.name, hcm };

  const matchHost = hcm.stripAnyHostPort ? stripPort(request.host) : request.host;
  const vh = selectVirtualHost(routeConfig, matchHost);
  if (!vh) return { ...errorOutcome(404, `no virtual host for ${matchHost}`, base), unmodelled };
  let matchedPrefix = -1;
  const route = list(vh.routes).find((r) => (matchedPrefix = routeMatches(r.match ?? {}, { path, query, headers }, unmodelled)) >= 0);
  if (!route) return { ...errorOutcome(404, `virtual host ${vh.name}: no route matches ${method} ${request.path}`, { ...base, virtualHost: vh.name }), unmodelled };

  for (const key of Object.keys(route.typedPerFilterConfig ?? {})) if (key !== CORS_FILTER) unmodelled.push(`per-route config ${key}`);
  for (const key of Object.keys(vh.typedPerFilterConfig ?? {})) if (key !== CORS_FILTER) unmodelled.push(`virtual host config ${key}`);

  const outcome: Outcome = {
    kind: 'route', status: 200, ...base, virtualHost: vh.name, route: route.name, backends: [],
    responseHeaders: new Map(), mirrors: [], unmodelled,
  };
  const cors = corsFilter(hcm, vh, route, headers, method, unmodelled);
  if (cors) {
    outcome.cors = cors;
    if (cors.preflight) {
      // The filter answers the preflight itself (encodeHeaders from decodeHeaders): the router
      // never runs, so no route action and no route-level response header changes.
      outcome.kind = 'direct';
      outcome.status = 200;
      outcome.reason = `preflight answered by ${CORS_FILTER}`;
      outcome.responseHeaders = cloneHeaders(cors.addToResponse);
      return outcome;
    }
  }
  const gatewayResponse = (h: Headers) => {
    for (const level of [route, vh, routeConfig]) applyHeaderMutations(h, responseLevel(level));
    return h;
  };

  if (route.redirect) {
    const r = route.redirect;
    outcome.kind = 'redirect';
    outcome.status = REDIRECT_CODES[r.responseCode ?? 'MOVED_PERMANENTLY'] ?? 301;
    outcome.location = redirectLocation(r, { scheme: request.scheme, host: request.host, path, query }, matchedPrefix);
    outcome.responseHeaders = gatewayResponse(new Map([['location', [outcome.location]]]));
    return outcome;
  }
  if (route.directResponse) {
    outcome.kind = 'direct';
    outcome.status = Number(route.directResponse.status);
    outcome.responseHeaders = gatewayResponse(new Map());
    return outcome;
  }
  if (!route.route) return { ...errorOutcome(404, `route ${route.name} has no action Envoy would take`, outcome), unmodelled };

  const action = route.route;
  if (action.clusterHeader !== undefined || action.clusterSpecifierPlugin !== undefined) unmodelled.push('cluster_header / cluster specifier plug-in');
  const upstreamPath = rewritePath(path, action, matchedPrefix) + (query ? `?${query}` : '');
  let upstreamHost = request.host;
  if (action.hostRewriteLiteral !== undefined) upstreamHost = action.hostRewriteLiteral;
  if (action.autoHostRewrite || action.hostRewriteHeader || action.hostRewritePathRegex) unmodelled.push('dynamic host rewrite');
  outcome.timeoutSeconds = action.timeout === undefined ? 15 : parseFloat(String(action.timeout));
  outcome.mirrors = list(action.requestMirrorPolicies).map((m) => ({
    cluster: m.cluster,
    percent: m.runtimeFraction?.defaultValue ? fraction(m.runtimeFraction.defaultValue) : 100,
  }));

  const weighted: J[] = action.weightedClusters
    ? list(action.weightedClusters.clusters)
    : action.cluster !== undefined ? [{ name: action.cluster, weight: 1 }] : [];
  const total = weighted.reduce((s, c) => s + Number(c.weight ?? 0), 0);
  for (const wc of weighted) {
    const weight = Number(wc.weight ?? 0);
    const reqHeaders = cloneHeaders(headers);
    for (const level of [wc, route, vh, routeConfig]) applyHeaderMutations(reqHeaders, requestLevel(level));
    const host = wc.hostRewriteLiteral ?? upstreamHost;
    for (const pseudo of [':method', ':authority', ':scheme', ':path']) reqHeaders.delete(pseudo);
    const respHeaders: Headers = new Map();
    const { endpoints, unavailable } = endpointsOf(config, wc.name);
    outcome.backends.push({
      cluster: wc.name, share: total > 0 ? weight / total : 0, service: serviceOf(wc.name), endpoints,
      request: { host, path: upstreamPath, method, headers: reqHeaders },
      responseHeaders: respHeaders,
      ...(unavailable ? { unavailable } : {}),
    });
  }
  // A backend the request may land on that cannot answer gives Envoy's 503.
  const reachable = outcome.backends.filter((b) => b.share > 0);
  if (reachable.length === 0) return { ...outcome, kind: 'error', status: 503, reason: 'no cluster with a positive weight' };
  if (reachable.every((b) => b.unavailable)) return { ...outcome, kind: 'error', status: 503, reason: reachable.map((b) => b.unavailable).join('; ') };
  if (reachable.some((b) => b.unavailable)) outcome.reason = `some requests get 503: ${reachable.filter((b) => b.unavailable).map((b) => b.unavailable).join('; ')}`;
  return outcome;
}

/** Adds the backend's own response headers, then applies the gateway's response header changes. */
export function backendResponseHeaders(config: EnvoyConfig, outcome: Outcome, backend: Backend, fromBackend: Headers): Headers {
  const h = cloneHeaders(fromBackend);
  const routeConfig = config.routes.find((r) => r.name === outcome.routeConfig);
  const vh = list(routeConfig?.virtualHosts).find((v) => v.name === outcome.virtualHost);
  const route = list(vh?.routes).find((r) => r.name === outcome.route);
  const wc = list(route?.route?.weightedClusters?.clusters).find((c) => c.name === backend.cluster);
  for (const level of [wc, route, vh, routeConfig]) applyHeaderMutations(h, responseLevel(level));
  // The CORS filter sits before the router, so it sees the response after the router's changes
  // (encoding runs the filters in reverse) and sets (overwrites) its headers.
  for (const [k, v] of outcome.cors?.addToResponse ?? []) h.set(k, [...v]);
  return h;
}

function fraction(f: J): number {
  const d: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };
  return (100 * Number(f.numerator ?? 0)) / (d[f.denominator ?? 'HUNDRED'] ?? 100);
}
