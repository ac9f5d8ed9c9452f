// Gantry's option kinds, judged and compiled to the IR once per object (cached by record), and the
// one rule by which several options of a kind combine on one target.
//
// Precedence: on one target (a route rule, a virtual host, an Envoy listener) the options that reach
// it are ranked — the more specific reference first (an ExtensionRef filter, then a targetRef with
// sectionName, then one without), and within each, the oldest first (creationTimestamp, then
// namespace/name). They merge field by field, as Gloo Gateway merges: each field of `spec.options`
// comes whole from the first option that sets it, and an option whose field lost to another one is
// told so in its status (Conflicted=True, option-status.ts).
import { durationMs } from './filter-objects.ts';
import { cors as corsIR, headerMutation, type CorsIR, type FaultsIR, type HeaderMutationIR, type LocalRateLimitIR, type RetryIR } from './filters.ts';
import type { OptionRecord } from './option-index.ts';
import type { Faults, LocalRateLimit, ListenerOptions, Retries, RouteOptions, VirtualHostOptions } from './option-objects.ts';

export interface HeaderManipulationIR {
  request?: HeaderMutationIR;
  response?: HeaderMutationIR;
}

/** A retry policy of an option: explicit Envoy retry_on conditions, and its own per-try timeout. */
export interface OptionRetryIR extends RetryIR {
  retryOn: string[];
  perTryTimeoutMs?: number;
}

export interface RouteOptionsIR {
  timeouts?: { requestMs?: number; idleMs?: number };
  retries?: OptionRetryIR;
  headerManipulation?: HeaderManipulationIR;
  cors?: CorsIR;
  faults?: FaultsIR;
  localRateLimit?: LocalRateLimitIR;
}

export interface VirtualHostOptionsIR {
  headerManipulation?: HeaderManipulationIR;
  cors?: CorsIR;
  retries?: OptionRetryIR;
  localRateLimit?: LocalRateLimitIR;
  includeRequestAttemptCount?: boolean;
  includeAttemptCountInResponse?: boolean;
}

export interface HttpConnectionManagerOptionsIR {
  idleTimeoutMs?: number;
  streamIdleTimeoutMs?: number;
  requestTimeoutMs?: number;
  useRemoteAddress?: boolean;
  xffNumTrustedHops?: number;
  serverName?: string;
  serverHeaderTransformation?: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  maxRequestHeadersKb?: number;
}

export interface ListenerOptionsIR {
  perConnectionBufferLimitBytes?: number;
  httpConnectionManager?: HttpConnectionManagerOptionsIR;
  accessLog?: { stdout: boolean };
}

/** An option that parsed and passed the checks the schema cannot make; or why it did not. */
export type CompiledOption<T> = { ok: true; ir: T } | { ok: false; message: string };

class OptionProblem extends Error {}

/** Envoy rejects these as zero (fixed delays, backoff), and gRPC clients reject a zero backoff. */
function positiveMs(value: string, where: string): number {
  const out = durationMs(value);
  if (out <= 0) throw new OptionProblem(`${where}: must be longer than 0`);
  return out;
}

function retriesIR(r: Retries, where: string): OptionRetryIR {
  const codes = [...new Set(r.retriableStatusCodes)].sort((a, b) => a - b);
  const byCode = r.retryOn.includes('retriable-status-codes');
  if (byCode !== codes.length > 0) {
    throw new OptionProblem(`${where}: retryOn "retriable-status-codes" and retriableStatusCodes go together (one is set without the other)`);
  }
  const out: OptionRetryIR = { retryOn: [...new Set(r.retryOn)], codes, attempts: r.numRetries };
  if (r.backoffBaseInterval !== undefined) out.backoffMs = positiveMs(r.backoffBaseInterval, `${where}.backoffBaseInterval`);
  if (r.perTryTimeout !== undefined) out.perTryTimeoutMs = positiveMs(r.perTryTimeout, `${where}.perTryTimeout`);
  return out;
}

/** Envoy's local rate limit refuses a fill interval under 50ms. */
const MIN_FILL_INTERVAL_MS = 50;

function localRateLimitIR(l: LocalRateLimit, where: string): LocalRateLimitIR {
  const fillIntervalMs = durationMs(l.fillInterval);
  if (fillIntervalMs < MIN_FILL_INTERVAL_MS) throw new OptionProblem(`${where}.fillInterval: must be at least 50ms (Envoy's minimum)`);
  return { maxTokens: l.maxTokens, tokensPerFill: l.tokensPerFill ?? l.maxTokens, fillIntervalMs };
}

const perMillion = (percentage: number) => Math.round(percentage * 10_000);

function faultsIR(f: Faults, where: string): FaultsIR {
  if (!f.abort && !f.delay) throw new OptionProblem(`${where}: set abort, delay or both`);
  const out: FaultsIR = {};
  if (f.abort) out.abort = { perMillion: perMillion(f.abort.percentage), httpStatus: f.abort.httpStatus };
  if (f.delay) out.delay = { perMillion: perMillion(f.delay.percentage), fixedDelayMs: positiveMs(f.delay.fixedDelay, `${where}.delay.fixedDelay`) };
  return out;
}

function headersIR(h: NonNullable<RouteOptions['headerManipulation']>): HeaderManipulationIR {
  const out: HeaderManipulationIR = {};
  if (h.request) out.request = headerMutation(h.request);
  if (h.response) out.response = headerMutation(h.response);
  return out;
}

function routeOptionsIR(o: RouteOptions): RouteOptionsIR {
  const out: RouteOptionsIR = {};
  if (o.timeouts) {
    out.timeouts = {};
    if (o.timeouts.request !== undefined) out.timeouts.requestMs = durationMs(o.timeouts.request);
    if (o.timeouts.idle !== undefined) out.timeouts.idleMs = durationMs(o.timeouts.idle);
  }
  if (o.retries) out.retries = retriesIR(o.retries, 'spec.options.retries');
  if (o.headerManipulation) out.headerManipulation = headersIR(o.headerManipulation);
  if (o.cors) out.cors = corsIR(o.cors);
  if (o.faults) out.faults = faultsIR(o.faults, 'spec.options.faults');
  if (o.localRateLimit) out.localRateLimit = localRateLimitIR(o.localRateLimit, 'spec.options.localRateLimit');
  return out;
}

function virtualHostOptionsIR(o: VirtualHostOptions): VirtualHostOptionsIR {
  const out: VirtualHostOptionsIR = {};
  if (o.headerManipulation) out.headerManipulation = headersIR(o.headerManipulation);
  if (o.cors) out.cors = corsIR(o.cors);
  if (o.retries) out.retries = retriesIR(o.retries, 'spec.options.retries');
  if (o.localRateLimit) out.localRateLimit = localRateLimitIR(o.localRateLimit, 'spec.options.localRateLimit');
  if (o.includeRequestAttemptCount !== undefined) out.includeRequestAttemptCount = o.includeRequestAttemptCount;
  if (o.includeAttemptCountInResponse !== undefined) out.includeAttemptCountInResponse = o.includeAttemptCountInResponse;
  return out;
}

const SERVER_HEADER = { Overwrite: 'OVERWRITE', AppendIfAbsent: 'APPEND_IF_ABSENT', PassThrough: 'PASS_THROUGH' } as const;

function listenerOptionsIR(o: ListenerOptions): ListenerOptionsIR {
  const out: ListenerOptionsIR = {};
  if (o.perConnectionBufferLimitBytes !== undefined) out.perConnectionBufferLimitBytes = o.perConnectionBufferLimitBytes;
  const h = o.httpConnectionManager;
  if (h) {
    const hcm: HttpConnectionManagerOptionsIR = {};
    if (h.idleTimeout !== undefined) hcm.idleTimeoutMs = durationMs(h.idleTimeout);
    if (h.streamIdleTimeout !== undefined) hcm.streamIdleTimeoutMs = durationMs(h.streamIdleTimeout);
    if (h.requestTimeout !== undefined) hcm.requestTimeoutMs = durationMs(h.requestTimeout);
    if (h.useRemoteAddress !== undefined) hcm.useRemoteAddress = h.useRemoteAddress;
    if (h.xffNumTrustedHops !== undefined) hcm.xffNumTrustedHops = h.xffNumTrustedHops;
    if (h.serverName !== undefined) hcm.serverName = h.serverName;
    if (h.serverHeaderTransformation !== undefined) hcm.serverHeaderTransformation = SERVER_HEADER[h.serverHeaderTransformation];
    if (h.maxRequestHeadersKb !== undefined) hcm.maxRequestHeadersKb = h.maxRequestHeadersKb;
    out.httpConnectionManager = hcm;
  }
  if (o.accessLog) out.accessLog = { stdout: o.accessLog.stdout };
  return out;
}

type OptionsIR = RouteOptionsIR | VirtualHostOptionsIR | ListenerOptionsIR;

function compileUncached(record: OptionRecord): CompiledOption<OptionsIR> {
  if (!record.parsed.ok) return { ok: false, message: record.parsed.message };
  const { options } = record.parsed.value.spec;
  try {
    switch (record.id.kind) {
      case 'RouteOption': return { ok: true, ir: routeOptionsIR(options as RouteOptions) };
      case 'VirtualHostOption': return { ok: true, ir: virtualHostOptionsIR(options as VirtualHostOptions) };
      default: return { ok: true, ir: listenerOptionsIR(options as ListenerOptions) };
    }
  } catch (err) {
    if (!(err instanceof OptionProblem)) throw err;
    return { ok: false, message: err.message };
  }
}

const compiled = new WeakMap<OptionRecord, CompiledOption<OptionsIR>>();

/** A RouteOption, VirtualHostOption or ListenerOption compiled (by its kind), once per record. */
export function compileOption(record: OptionRecord): CompiledOption<OptionsIR> {
  let out = compiled.get(record);
  if (!out) compiled.set(record, (out = compileUncached(record)));
  return out;
}

/** One field of one option that another option, ranked before it on the same target, also set. */
export interface Override {
  loser: OptionRecord;
  winner: OptionRecord;
  field: string;
  /** The target, for the loser's status ("HTTPRoute ns/name rule 0", "Gateway ns/gw port 80"). */
  target: string;
}

export interface Merged<T> {
  /** The options reaching the target, in precedence order, as given to mergeOptions. */
  ranked: OptionRecord[];
  /** The effective options; absent when no usable option reaches the target. */
  options?: T;
  /** The usable options that reach the target, in precedence order. */
  applied: OptionRecord[];
  overrides: Override[];
}

/**
 * Merges the options reaching one target, `ranked` in precedence order (duplicates and options that
 * did not compile skipped): each field from the first option setting it. `previous` (the same
 * target's last merge) is returned as it was when made from the same options, so that what is
 * derived from its result keeps its identity.
 */
export function mergeOptions<T extends object>(ranked: OptionRecord[], target: string, previous?: Merged<T>): Merged<T> {
  if (previous && sameItems(previous.ranked, ranked)) return previous;
  const applied: OptionRecord[] = [];
  const from = new Map<string, OptionRecord>();
  const overrides: Override[] = [];
  let options: Record<string, unknown> | undefined;
  for (const record of ranked) {
    if (applied.includes(record)) continue;
    const c = compileOption(record);
    if (!c.ok) continue;
    applied.push(record);
    for (const [field, value] of Object.entries(c.ir)) {
      const winner = from.get(field);
      if (winner) {
        overrides.push({ loser: record, winner, field, target });
        continue;
      }
      from.set(field, record);
      (options ??= {})[field] = value;
    }
  }
  return { ranked, ...(options ? { options: options as T } : {}), applied, overrides };
}

/** Whether `a` holds the same items as `b`, by identity and in order (what a memo was built from). */
export function sameItems(a: readonly unknown[] | undefined, b: readonly unknown[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
