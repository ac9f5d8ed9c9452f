// The traffic checks of a case (`requests`), judged against what the Gateway's configuration would
// do. Plain HTTP, HTTPS routing and gRPC calls are simulated with the route evaluator (no proxy
// runs); what needs a real Envoy (TLS handshakes and certificates, upstream TLS, TCP/TLS/UDP
// streams, WebSocket frames) is "not run", with a cheap look at whether the
// configuration that would do it exists at all (`hint`).
import type { EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import type { GatewaySnapshot } from '../../libs/translator/api.ts';
import type { RequestEntry } from './cases.ts';
import { backendResponseHeaders, evaluate, findListener, headerValue, selectFilterChain, type EnvoyConfig, type Headers, type Outcome } from './route-evaluator.ts';
import { podAt } from './world.ts';

export type RequestMode = 'simulated' | 'real' | 'not-run';

export interface RequestResult {
  subtest?: string;
  phase: number;
  protocol: string;
  mode: RequestMode;
  /** Only for simulated/real. */
  passed?: boolean;
  problems: string[];
  /** not-run: why, and what the configuration shows. */
  reason?: string;
  hint?: string;
}

export interface GatewayConfig {
  snapshot?: GatewaySnapshot;
  /** The snapshot as the translator writes it to Redis (for the real gRPC run). */
  encoded?: EncodedSnapshot;
  config?: EnvoyConfig;
  /** Why there is no usable configuration (no snapshot, or it does not encode). */
  missing?: string;
  address: string;
}

const GRPC_FROM_HTTP: Record<number, string> = { 400: 'Internal', 401: 'Unauthenticated', 403: 'PermissionDenied', 404: 'Unimplemented', 429: 'Unavailable', 502: 'Unavailable', 503: 'Unavailable', 504: 'Unavailable' };

/** Why a request needs a real proxy, or undefined when the evaluator can judge it. */
function needsRealProxy(r: RequestEntry): string | undefined {
  if (r.protocol === 'TCP' || r.protocol === 'TLS' || r.protocol === 'UDP' || r.protocol === 'UDP-DNS') return `${r.protocol} traffic needs a running proxy`;
  if (r.protocol === 'WebSocket' || r.expectEchoedFrames) return 'WebSocket frames need a running proxy';
  if (r.protocol === 'mesh-HTTP' || r.fromMeshClient) return 'mesh traffic';
  if (r.expectRequestError || r.expectConnectionRejected || r.expectClientCertificateRequested || r.clientCertificate) return 'TLS handshake outcome needs a running proxy';
  if (r.expectedBackendSNI || r.expectedBackendClientCert || r.expectNon200Response) return 'upstream TLS (BackendTLSPolicy) needs a running proxy and TLS backends';
  if (r.expectedBackendIsTLS !== undefined || r.expectEcho || r.expectAnyDNSResponse) return 'stream traffic needs a running proxy';
  return undefined;
}

function hintFor(r: RequestEntry, gw: GatewayConfig): string {
  if (!gw.config) return `no configuration: ${gw.missing}`;
  const port = r.port ?? 80;
  const l = findListener(gw.config, port);
  if (!l) return `xDS: no listener on port ${port}`;
  const tls = r.protocol === 'HTTPS' || r.protocol === 'TLS';
  const chain = selectFilterChain(l, { port, scheme: tls ? 'https' : 'http', sni: r.tlsServerName ?? r.host });
  if (!chain) return `xDS: listener ${l.name} has no filter chain for ${r.tlsServerName ?? 'this connection'}`;
  const filters = (chain.filters ?? []).map((f: { name: string }) => f.name).join(', ');
  return `xDS: listener ${l.name}, filter chain [${filters}]${chain.transportSocket ? ' with TLS' : ''}`;
}

function wantedStatus(r: RequestEntry): number[] | 'non-200' {
  if (r.expectNon200Response) return 'non-200';
  if (r.expectedStatusCode === undefined) return [200];
  return Array.isArray(r.expectedStatusCode) ? r.expectedStatusCode : [r.expectedStatusCode];
}

function hostHeader(r: RequestEntry, gw: GatewayConfig, port: number): string {
  return r.host ? r.host : `${gw.address}:${port}`;
}

function podsOf(outcome: Outcome): Array<{ share: number; pods: string[]; problems: string[] }> {
  return outcome.backends.filter((b) => b.share > 0).map((b) => {
    const problems: string[] = [];
    const pods = b.endpoints.map((e) => {
      const pod = podAt(e.address);
      if (!pod) problems.push(`endpoint ${e.address}:${e.port} of ${b.cluster} is no known pod`);
      return pod ? `${pod.namespace}/${pod.name}` : `?/${e.address}`;
    });
    return { share: b.share, pods, problems };
  });
}

function checkBackend(r: RequestEntry, outcome: Outcome): string[] {
  const out: string[] = [];
  for (const b of podsOf(outcome)) {
    out.push(...b.problems);
    for (const pod of b.pods) {
      const [ns, name] = pod.split('/');
      if (r.expectedBackend && !name.startsWith(r.expectedBackend)) out.push(`may be answered by ${pod}, expected ${r.expectedBackend}`);
      if (r.expectedNamespace && ns !== r.expectedNamespace) out.push(`may be answered in namespace ${ns}, expected ${r.expectedNamespace}`);
    }
  }
  return [...new Set(out)];
}

function checkWeights(want: Record<string, number>, outcome: Outcome): string[] {
  const got = new Map<string, number>();
  for (const b of podsOf(outcome)) {
    for (const pod of b.pods) {
      const name = pod.split('/')[1];
      const key = Object.keys(want).find((w) => name.startsWith(w)) ?? name;
      got.set(key, (got.get(key) ?? 0) + b.share / b.pods.length);
    }
  }
  const out: string[] = [];
  for (const [name, share] of Object.entries(want)) {
    const g = got.get(name) ?? 0;
    if (Math.abs(g - share) > 0.05) out.push(`${name} gets ${g.toFixed(2)} of the traffic, expected ${share}`);
  }
  for (const [name, share] of got) if (!(name in want) && share > 0.05) out.push(`${name} gets ${share.toFixed(2)} of the traffic, expected none`);
  return out;
}

function checkRedirect(r: RequestEntry, location: string | undefined): string[] {
  const want = r.expectedRedirect!;
  if (!location) return ['no Location header'];
  let url: URL;
  try { url = new URL(location); } catch { return [`Location "${location}" is not a URL`]; }
  const out: string[] = [];
  const scheme = url.protocol.replace(/:$/, '');
  if (want.scheme && scheme !== want.scheme) out.push(`redirect scheme ${scheme}, expected ${want.scheme}`);
  if (want.host && url.hostname !== want.host) out.push(`redirect host ${url.hostname}, expected ${want.host}`);
  // URL drops the scheme's default port; an explicit one is kept in the string.
  const explicitPort = /^[a-z]+:\/\/[^/?#]*:(\d+)/i.exec(location)?.[1];
  const defaultPort = scheme === 'https' ? '443' : '80';
  if (want.port !== undefined && want.port !== '') {
    const gotPort = explicitPort ?? defaultPort;
    if (String(want.port) !== gotPort) out.push(`redirect port ${explicitPort ?? '(none)'}, expected ${want.port}`);
  } else if (explicitPort && explicitPort !== defaultPort) out.push(`redirect port ${explicitPort}, expected none or ${defaultPort}`);
  const wantPath = want.path ?? r.path ?? '/';
  if (url.pathname !== wantPath) out.push(`redirect path ${url.pathname}, expected ${wantPath}`);
  return out;
}

function checkHeaders(r: RequestEntry, outcome: Outcome, config: EnvoyConfig): string[] {
  const out: string[] = [];
  const answered = outcome.kind === 'route' ? outcome.backends.filter((b) => b.share > 0 && !b.unavailable) : [];
  for (const b of answered) {
    const h = b.request.headers;
    for (const [k, v] of Object.entries(r.expectedRequestHeaders ?? {})) {
      const got = headerValue(h, k);
      if (got !== v) out.push(`backend got ${k}: ${got ?? '(absent)'}, expected ${v}`);
    }
    for (const k of r.expectedAbsentRequestHeaders ?? []) if (h.has(k.toLowerCase())) out.push(`backend got ${k}, expected it absent`);
    const path = b.request.path.split('?')[0];
    const wantPath = r.rewrittenPath ?? r.path ?? '/';
    if (path !== wantPath) out.push(`backend got path ${path}, expected ${wantPath}`);
    if (r.expectedRequestHost && b.request.host !== r.expectedRequestHost) out.push(`backend got host ${b.request.host}, expected ${r.expectedRequestHost}`);
  }
  const responses: Headers[] = outcome.kind === 'route'
    ? answered.map((b) => backendResponseHeaders(config, outcome, b, new Map(Object.entries(r.backendSetResponseHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), [v]]))))
    : [outcome.responseHeaders];
  for (const h of responses) {
    for (const [k, v] of Object.entries(r.expectedResponseHeaders ?? {})) {
      const got = headerValue(h, k);
      if (got !== v) out.push(`response ${k}: ${got ?? '(absent)'}, expected ${v}`);
    }
    for (const [k, vs] of Object.entries(r.expectedResponseHeaderOneOf ?? {})) {
      const got = headerValue(h, k);
      const norm = (s: string | undefined) => (r.responseHeaderIgnoreWhitespace ? s?.replace(/\s+/g, '') : s);
      if (!vs.some((v) => norm(v) === norm(got))) out.push(`response ${k}: ${got ?? '(absent)'}, expected one of ${vs.join(' | ')}`);
    }
    for (const k of r.expectedAbsentResponseHeaders ?? []) if (h.has(k.toLowerCase())) out.push(`response has ${k}, expected it absent`);
  }
  return [...new Set(out)];
}

function checkMirrors(r: RequestEntry, outcome: Outcome): string[] {
  const out: string[] = [];
  for (const m of r.mirroredTo ?? []) {
    const hit = outcome.mirrors.find((x) => x.cluster.startsWith(`k8s/${m.namespace}/${m.name}/`));
    if (!hit) out.push(`no request mirror to ${m.namespace}/${m.name} (mirrors: ${outcome.mirrors.map((x) => x.cluster).join(', ') || 'none'})`);
    else if (m.percent !== undefined && Math.abs(hit.percent - m.percent) > 0.5) out.push(`mirror to ${m.name} at ${hit.percent}%, expected ${m.percent}%`);
  }
  return out;
}

export function judgeRequest(r: RequestEntry, gw: GatewayConfig): RequestResult {
  const base = { subtest: r.subtest, phase: r.phase ?? 0, protocol: r.protocol ?? 'HTTP' };
  const real = needsRealProxy(r);
  if (real) return { ...base, mode: 'not-run', problems: [], reason: real, hint: hintFor(r, gw) };
  if (!gw.config) return { ...base, mode: 'simulated', passed: false, problems: [`no configuration for the Gateway: ${gw.missing}`] };

  const port = r.port ?? 80;
  const grpc = r.protocol === 'gRPC';
  const https = r.protocol === 'HTTPS';
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (grpc) headers['content-type'] = 'application/grpc';
  const rawPath = grpc ? `/${r.grpcService}/${r.grpcMethod}` : r.rawPath ?? `${r.path ?? '/'}${r.query ? `?${r.query}` : ''}`;
  const host = hostHeader(r, gw, port);
  const outcome = evaluate(gw.config, {
    port, scheme: https ? 'https' : 'http', sni: r.tlsServerName ?? (r.host || undefined), host, path: rawPath,
    method: grpc ? 'POST' : r.method ?? 'GET', headers,
  });
  if (outcome.unmodelled.length) {
    return { ...base, mode: 'not-run', problems: [], reason: `configuration the evaluator does not model: ${[...new Set(outcome.unmodelled)].join(', ')}`, hint: hintFor(r, gw) };
  }
  if (r.httpProtocol === 'H2C_PRIOR_KNOWLEDGE' && outcome.hcm?.codecType === 'HTTP1') {
    return { ...base, mode: 'simulated', passed: false, problems: ['the HttpConnectionManager speaks HTTP/1 only: no h2c prior knowledge'] };
  }
  // The echo backend waits `delay` before answering; Envoy gives 504 when the route timeout is shorter.
  const delay = /(?:^|[?&])delay=(\d+(?:\.\d+)?)(ms|s)\b/.exec(rawPath);
  if (delay && outcome.kind === 'route' && outcome.status === 200) {
    const seconds = Number(delay[1]) / (delay[2] === 'ms' ? 1000 : 1);
    if (outcome.timeoutSeconds && outcome.timeoutSeconds < seconds) {
      outcome.status = 504;
      outcome.kind = 'error';
      outcome.reason = `upstream request timeout (${outcome.timeoutSeconds}s < backend delay ${seconds}s)`;
    }
  }
  const where = `[${outcome.listener ?? '-'} ${outcome.virtualHost ?? '-'} ${outcome.route ?? '-'}]`;
  const problems: string[] = [];
  if (outcome.kind === 'error' && outcome.status === 0) {
    problems.push(outcome.reason ?? 'connection failed');
  } else if (grpc) {
    const code = outcome.kind === 'route' ? 'OK' : GRPC_FROM_HTTP[outcome.status] ?? 'Unknown';
    const want = (r.expectedGrpcCode ?? 'codes.OK').replace(/^codes\./, '');
    if (code !== want) problems.push(`gRPC ${code} (HTTP ${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}), expected ${want} ${where}`);
    if (code === 'OK') problems.push(...checkBackend(r, outcome));
    if (r.weightsExpected) problems.push(...checkWeights(r.weightsExpected, outcome));
  } else {
    const want = wantedStatus(r);
    const ok = want === 'non-200' ? outcome.status !== 200 : want.includes(outcome.status);
    if (!ok) problems.push(`status ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}, expected ${want === 'non-200' ? 'not 200' : want.join(' or ')} ${where}`);
    else {
      if ((outcome.status === 200 || outcome.status === 204) && outcome.kind === 'route') problems.push(...checkBackend(r, outcome));
      if (r.expectedRedirect) problems.push(...checkRedirect(r, outcome.location));
      if (r.weightsExpected) problems.push(...checkWeights(r.weightsExpected, outcome));
      if (r.answeredByGateway && outcome.kind === 'route') problems.push('answered by a backend, expected the gateway');
      problems.push(...checkHeaders(r, outcome, gw.config), ...checkMirrors(r, outcome));
    }
  }
  return { ...base, mode: 'simulated', passed: problems.length === 0, problems };
}
