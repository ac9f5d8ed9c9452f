// The conformance harness: for every case in scope, build its input, translate it once per phase
// (applying the case's mutations between phases), evaluate the status checks against the reports
// and the traffic checks against the produced Envoy configuration. A translator failure is a
// measured failure of the case; only a harness problem (format drift, missing kit) throws.
import { encodeGatewaySnapshot, snapshotToJson } from '../../libs/snapshots/encode.ts';
import { translate } from '../../libs/translator/index.ts';
import type { KubeObject, TranslateResult } from '../../libs/translator/api.ts';
import { CONTROLLER, loadCases, objectKey, scopeOf, caseObjects, type ConformanceCase } from './cases.ts';
import { applyMutation, createdAt, type Objects } from './mutations.ts';
import { suitePki } from './pki.ts';
import { judgeRequest, type GatewayConfig, type RequestResult } from './requests.ts';
import { checkListeners, checkStatus, StatusView } from './status.ts';
import { buildCaseInput } from './world.ts';
import type { EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import type { RequestEntry } from './cases.ts';

export interface CheckResult {
  assertion: string;
  object: string;
  subtest?: string;
  phase: number;
  /** false with notRun set when the phase could not be reached. */
  passed: boolean;
  notRun?: string;
  problems: string[];
}

export interface CaseResult {
  name: string;
  features: string[];
  provisional: boolean;
  scope: 'run' | 'mesh' | 'runOnlyIf';
  status: CheckResult[];
  requests: RequestResult[];
  /** Translator exceptions and mutations the harness could not apply, by phase. */
  errors: string[];
}

export interface Totals {
  cases: number;
  outOfScope: { mesh: number; runOnlyIf: number };
  status: { passed: number; total: number; notRun: number };
  requests: {
    simulated: { passed: number; total: number };
    real: { passed: number; total: number };
    notRun: number;
  };
}

/**
 * The gRPC requests of one phase of one case to one Gateway, for the real run (real-grpc.ts): the
 * snapshot to serve and, per request, where its (simulated) result sits in the case's results.
 */
export interface GrpcPlan {
  caseName: string;
  phase: number;
  gateway: string;
  address: string;
  snapshot: EncodedSnapshot;
  config: NonNullable<GatewayConfig['config']>;
  requests: Array<{ entry: RequestEntry; caseResult: CaseResult; index: number }>;
}

export const TRANSLATE_NOW = '2026-01-01T00:00:00Z';
const DEFAULT_ADDRESS = '127.0.0.1';

function phasesOf(c: ConformanceCase): number {
  const all = [
    ...c.expectedStatus.map((e) => e.phase ?? 0), ...(c.expectedListeners ?? []).map((e) => e.phase ?? 0),
    ...c.requests.map((e) => e.phase ?? 0), ...(c.mutations ?? []).map((m) => m.phase),
  ];
  return Math.max(0, ...all);
}

function gatewayConfig(result: TranslateResult | undefined, objects: Objects, gateway: string, cache: Map<string, GatewayConfig>): GatewayConfig {
  let gw = cache.get(gateway);
  if (gw) return gw;
  const report = result?.reports.find((r) => r.kind === 'Gateway' && `${r.namespace}/${r.name}` === gateway);
  const addresses = (report?.status as { addresses?: Array<{ value?: string }> } | undefined)?.addresses ?? [];
  const address = addresses.find((a) => a.value)?.value ?? DEFAULT_ADDRESS;
  const snapshot = result?.snapshots.get(gateway);
  if (!result) gw = { address, missing: 'the translator failed' };
  else if (!snapshot) {
    const [ns, name] = gateway.split('/');
    gw = { address, missing: objects.has(`Gateway/${ns}/${name}`) ? `the translator produced no snapshot for ${gateway}` : `Gateway ${gateway} does not exist` };
  } else {
    try {
      const encoded = encodeGatewaySnapshot(snapshot);
      gw = { address, snapshot, encoded, config: snapshotToJson(encoded) };
    } catch (err) {
      gw = { address, snapshot, missing: `the snapshot does not encode: ${(err as Error).message}` };
    }
  }
  cache.set(gateway, gw);
  return gw;
}

/** With `plans`, the case's gRPC requests that have a configuration are also listed there for a real run. */
export function runCase(c: ConformanceCase, plans?: GrpcPlan[]): CaseResult {
  const scope = scopeOf(c);
  const result: CaseResult = {
    name: c.name, features: c.features, provisional: c.provisional === true,
    scope: scope.run ? 'run' : scope.why, status: [], requests: [], errors: [],
  };
  if (!scope.run) return result;

  const objects: Objects = new Map();
  for (const o of caseObjects(c, suitePki())) {
    o.metadata.creationTimestamp ??= createdAt(0);
    objects.set(objectKey(o), o);
  }
  const initial: Objects = new Map([...objects].map(([k, v]) => [k, structuredClone(v)]));
  let blocked: string | undefined;

  for (let phase = 0; phase <= phasesOf(c); phase++) {
    for (const m of (c.mutations ?? []).filter((x) => x.phase === phase)) {
      if (blocked) break;
      try {
        if (!applyMutation(c.name, m, objects, initial)) blocked = `phase ${phase}: the harness cannot apply "${m.action} ${m.kind} ${m.name}: ${m.change}"`;
      } catch (err) {
        blocked = `phase ${phase}: mutation ${m.action} ${m.kind} ${m.name} failed: ${(err as Error).message}`;
      }
      if (blocked) result.errors.push(blocked);
    }
    const statusEntries = c.expectedStatus.filter((e) => (e.phase ?? 0) === phase);
    const listenerEntries = (c.expectedListeners ?? []).filter((e) => (e.phase ?? 0) === phase);
    const requests = c.requests.filter((e) => (e.phase ?? 0) === phase);
    if (!statusEntries.length && !listenerEntries.length && !requests.length) continue;

    if (blocked) {
      const notRun = (assertion: string, object: string, subtest?: string): CheckResult => ({ assertion, object, subtest, phase, passed: false, notRun: blocked, problems: [] });
      for (const e of statusEntries) result.status.push(notRun(e.assertion, `${e.kind} ${e.namespace ?? ''}/${e.name}`, e.subtest));
      for (const e of listenerEntries) result.status.push(notRun('expectedListeners', `${e.kind} ${e.namespace}/${e.name}`, e.subtest));
      for (const r of requests) result.requests.push({ subtest: r.subtest, phase, protocol: r.protocol ?? 'HTTP', mode: 'not-run', problems: [], reason: blocked });
      continue;
    }

    const objectList: KubeObject[] = [...objects.values()];
    let translated: TranslateResult | undefined;
    let failure: string | undefined;
    try {
      translated = translate(buildCaseInput(structuredClone(objectList)), { controllerName: CONTROLLER, defaultAddress: DEFAULT_ADDRESS, now: TRANSLATE_NOW });
    } catch (err) {
      failure = `phase ${phase}: the translator threw: ${(err as Error).stack?.split('\n').slice(0, 2).join(' ') ?? err}`;
      result.errors.push(failure);
    }
    const view = new StatusView(translated?.reports ?? [], objects);
    const judge = (assertion: string, object: string, subtest: string | undefined, check: () => string[]): CheckResult => {
      const problems = failure ? [failure] : check();
      return { assertion, object, subtest, phase, passed: problems.length === 0, problems };
    };
    for (const e of statusEntries) result.status.push(judge(e.assertion, `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`, e.subtest, () => checkStatus(e, view)));
    for (const e of listenerEntries) result.status.push(judge('expectedListeners', `${e.kind} ${e.namespace}/${e.name}`, e.subtest, () => checkListeners(e, view)));
    const configs = new Map<string, GatewayConfig>();
    for (const r of requests) {
      const gateway = r.gateway ? `${r.gateway.namespace ?? 'default'}/${r.gateway.name}` : '';
      const gw = gatewayConfig(translated, objects, gateway, configs);
      result.requests.push(judgeRequest(r, gw));
      if (plans && r.protocol === 'gRPC' && gw.encoded && gw.config) {
        let plan = plans.find((p) => p.caseName === c.name && p.phase === phase && p.gateway === gateway);
        if (!plan) plans.push(plan = { caseName: c.name, phase, gateway, address: gw.address, snapshot: gw.encoded, config: gw.config, requests: [] });
        plan.requests.push({ entry: r, caseResult: result, index: result.requests.length - 1 });
      }
    }
  }
  return result;
}

/** Everything simulated (no servers): the gRPC requests too. real-grpc.ts runs those for real. */
export function runConformance(opts: { only?: string[] } = {}): CaseResult[] {
  return selectCases(opts.only).map((c) => runCase(c));
}

/** The cases to run (all, or `only`), checked. */
export function selectCases(only: string[] = []): ConformanceCase[] {
  const cases = loadCases();
  if (!only.length) return cases;
  const unknown = only.filter((n) => !cases.some((c) => c.name === n));
  if (unknown.length) throw new Error(`unknown case names: ${unknown.join(', ')}`);
  return cases.filter((c) => only.includes(c.name));
}

export function totals(results: CaseResult[]): Totals {
  const t: Totals = {
    cases: 0, outOfScope: { mesh: 0, runOnlyIf: 0 },
    status: { passed: 0, total: 0, notRun: 0 },
    requests: { simulated: { passed: 0, total: 0 }, real: { passed: 0, total: 0 }, notRun: 0 },
  };
  for (const r of results) {
    if (r.scope !== 'run') { t.outOfScope[r.scope]++; continue; }
    t.cases++;
    for (const s of r.status) {
      if (s.notRun) t.status.notRun++;
      else { t.status.total++; if (s.passed) t.status.passed++; }
    }
    for (const q of r.requests) {
      if (q.mode === 'not-run') t.requests.notRun++;
      else { t.requests[q.mode].total++; if (q.passed) t.requests[q.mode].passed++; }
    }
  }
  return t;
}
