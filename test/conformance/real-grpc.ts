// The conformance cases' gRPC requests, made for real: a proxyless gRPC client (@grpc/grpc-js-xds,
// one child process per Gateway node) gets each case's snapshot from the xds-server (in process,
// over a real redis-server and nats-server) and calls the suite's GrpcEcho service on echo
// backends bound at the pods' loopback addresses (world.ts). One set of servers serves every case;
// the snapshot a case needs is written to Redis and announced on NATS, as the translator does, and
// the client follows it like a deployed one would.
//
// Between snapshots the run waits until the client has answered (ACK or NACK) every response the
// xds-server sent it, as the server's protocol observer reports them; requests are then "eventually
// consistent" as upstream's are: each must pass REPEAT times in a row, retried for a short while.
import { Redis } from 'ioredis';
import pino from 'pino';
import { SNAPSHOT_SCHEMA, SnapshotEventSchema, subjects } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent, type EventLog } from '../../libs/eventlog/index.ts';
import { buildManifest } from '../../libs/snapshots/manifest.ts';
import { keys, NO_LEASE, SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { startXdsServer, XdsServerConfig, type RunningXdsServer } from '../../services/xds-server/service.ts';
import type { SotwOutcome } from '../../libs/xds-server/sotw.ts';
import { typeNameOf } from '../../libs/xds/type-urls.ts';
import { startEchoPods, type EchoPods, type PodSpec } from '../support/grpc-echo-pods.ts';
import { startNats, startRedis, type RunningServer } from '../support/servers.ts';
import { spawnXdsGrpcClient, type XdsClientResult, type XdsGrpcClient } from '../support/xds-grpc-client.ts';
import type { RequestEntry } from './cases.ts';
import { runCase, selectCases, type CaseResult, type GrpcPlan } from './harness.ts';
import type { RequestResult } from './requests.ts';
import type { J } from './route-evaluator.ts';
import { podAt } from './world.ts';

/** Calls per request that must all pass (upstream: consecutive successes). */
const REPEAT = 3;
/** Calls for a weight check (upstream sends 500 and allows ±0.05). */
const WEIGHT_CALLS = 500;
const CALL_DEADLINE_MS = 1500;
/** How long a failing request is retried, for the client to catch up with a new snapshot. */
const RETRY_MS = 1500;
const SETTLE_TIMEOUT_MS = 5000;
const QUIET_MS = 50;

export interface RealRun {
  /** Requests made for real. */
  requests: number;
  ms: number;
  /** Why the real run did not happen or what went wrong around it (not request verdicts). */
  errors: string[];
}

// --- what the xds-server tells each node (its protocol observer) ------------------------------
interface NodeXds {
  /** type → version last sent / last answered (ACK or NACK). */
  sent: Map<string, string>;
  answered: Map<string, string>;
  nacks: string[];
  lastActivity: number;
}

class XdsTracker {
  readonly nodes = new Map<string, NodeXds>();

  node(id: string): NodeXds {
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, n = { sent: new Map(), answered: new Map(), nacks: [], lastActivity: Date.now() });
    return n;
  }

  /** The xds-server's protocol outcomes for each node: what it sent, and the ACKs and NACKs. */
  observe(identity: { nodeId: string }, o: SotwOutcome): void {
    const n = this.node(identity.nodeId);
    const type = o.kind === 'invalid' ? undefined : typeNameOf(o.typeUrl);
    if (!type) return;
    if (o.kind === 'response') n.sent.set(type, o.version);
    else if (o.kind === 'ack') n.answered.set(type, o.version);
    else if (o.kind === 'nack') {
      n.answered.set(type, o.version);
      n.nacks.push(`${type} ${o.version}: ${o.errorDetail.message}`);
    } else return;
    n.lastActivity = Date.now();
  }

  settled(id: string): boolean {
    const n = this.node(id);
    for (const [type, version] of n.sent) if (n.answered.get(type) !== version) return false;
    return Date.now() - n.lastActivity >= QUIET_MS;
  }
}

// --- the servers ---------------------------------------------------------------------------------
interface Env {
  nats: RunningServer;
  redisServer: RunningServer;
  redis: Redis;
  events: EventLog;
  writer: SnapshotWriter;
  xds: RunningXdsServer;
  tracker: XdsTracker;
  pods: EchoPods;
  clients: Map<string, XdsGrpcClient>;
}

async function startEnv(pods: PodSpec[], gateways: string[], cleanup: Array<() => Promise<unknown>>): Promise<Env> {
  const [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  cleanup.push(() => Promise.all([nats.stop(), redisServer.stop()]));
  const tracker = new XdsTracker();
  const log = pino({ level: 'silent' });
  const events = await connectEventLog(nats.url, 'conformance', pino({ level: 'silent' }));
  cleanup.push(() => events.close().catch(() => undefined));
  await ensureStreams(events.jsm);
  const redis = new Redis(redisServer.url);
  cleanup.push(async () => redis.disconnect());
  const xds = await startXdsServer(XdsServerConfig.parse({
    GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redisServer.url, GANTRY_XDS_PORT: '0', GANTRY_REPLICA_ID: 'conformance',
  }), log, (identity, outcome) => tracker.observe(identity, outcome));
  cleanup.push(() => xds.stop());
  const [echo, ...clients] = await Promise.all([
    startEchoPods(pods),
    ...gateways.map((gw) => spawnXdsGrpcClient({ xdsPort: xds.port, nodeId: nodeId(gw), gateway: gw })),
  ]);
  const echoPods = echo as EchoPods;
  cleanup.push(() => echoPods.stop());
  const byGateway = new Map(gateways.map((gw, i) => [gw, clients[i] as XdsGrpcClient]));
  cleanup.push(() => Promise.all([...byGateway.values()].map((c) => c.stop())));
  return { nats, redisServer, redis, events, writer: new SnapshotWriter(redis, NO_LEASE), xds, tracker, pods: echoPods, clients: byGateway };
}

const nodeId = (gateway: string) => `conformance-grpc-${gateway.replace('/', '-')}`;

/** Every pod endpoint the snapshots' ClusterLoadAssignments name, once. */
function podsOf(plans: GrpcPlan[]): PodSpec[] {
  const out = new Map<string, PodSpec>();
  for (const p of plans) {
    for (const cla of p.config.endpoints as J[]) {
      for (const loc of cla.endpoints ?? []) {
        for (const e of loc.lbEndpoints ?? []) {
          const a = e.endpoint?.address?.socketAddress;
          const pod = a?.address ? podAt(a.address) : undefined;
          if (!pod) continue;
          const port = Number(a.portValue ?? 0);
          out.set(`${a.address}:${port}`, { address: a.address, port, namespace: pod.namespace, pod: `${pod.name}-6d4c8b7f9-gntry` });
        }
      }
    }
  }
  return [...out.values()];
}

async function seed(env: Env, plan: GrpcPlan): Promise<string> {
  const { manifest, blobs } = buildManifest(plan.snapshot, {});
  await env.writer.write(manifest, blobs);
  await publishEvent(env.events.js, SnapshotEventSchema, subjects.snapshot(plan.gateway), {
    schema: SNAPSHOT_SCHEMA, gateway: plan.gateway, op: 'upsert', version: manifest.version,
    manifestKey: keys.manifest(plan.gateway, manifest.version), emittedAt: new Date().toISOString(),
  }, `${plan.gateway}:${manifest.version}`);
  return manifest.version;
}

/** Until the xds-server holds `version` and the node has answered everything it was sent. */
async function settle(env: Env, plan: GrpcPlan, version: string): Promise<string | undefined> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const node = nodeId(plan.gateway);
  while (Date.now() < deadline) {
    const held = env.xds.cache.current(plan.gateway)?.manifest.version;
    // Before the client's first call there is no entry in the cache: the first call loads it.
    if ((held === version || held === undefined) && env.tracker.settled(node)) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
  return `the gRPC client did not settle on snapshot ${version} within ${SETTLE_TIMEOUT_MS} ms`;
}

// --- one request -------------------------------------------------------------------------------
/** "codes.PermissionDenied" → "PERMISSION_DENIED", as grpc.status names it. */
export function grpcCodeName(expected: string | undefined): string {
  return (expected ?? 'codes.OK').replace(/^codes\./, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function judge(r: RequestEntry, res: XdsClientResult, calls: number): string[] {
  const want = grpcCodeName(r.expectedGrpcCode);
  const problems: string[] = [];
  const ok = Object.values(res.backends).reduce((a, b) => a + b, 0);
  const fmt = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${k} ×${n}`).join(', ');
  if (want === 'OK') {
    if (ok !== calls) problems.push(`gRPC ${fmt(res.errors)} of ${calls} calls, expected OK`);
    for (const pod of Object.keys(res.backends)) {
      const [ns, name] = pod.split('/');
      if (r.expectedBackend && !r.weightsExpected && !name.startsWith(r.expectedBackend)) problems.push(`answered by ${pod}, expected ${r.expectedBackend}`);
      if (r.expectedNamespace && ns !== r.expectedNamespace) problems.push(`answered in namespace ${ns}, expected ${r.expectedNamespace}`);
    }
    if (r.weightsExpected && ok > 0) {
      const got = new Map<string, number>();
      for (const [pod, n] of Object.entries(res.backends)) {
        const name = pod.split('/')[1];
        const key = Object.keys(r.weightsExpected).find((w) => name.startsWith(w)) ?? name;
        got.set(key, (got.get(key) ?? 0) + n / ok);
      }
      for (const [name, share] of Object.entries(r.weightsExpected)) {
        const g = got.get(name) ?? 0;
        if (Math.abs(g - share) > 0.05) problems.push(`${name} got ${g.toFixed(3)} of ${ok} calls, expected ${share}`);
      }
      for (const [name, g] of got) if (!(name in r.weightsExpected) && g > 0.05) problems.push(`${name} got ${g.toFixed(3)} of the calls, expected none`);
    }
  } else {
    const codes = Object.keys(res.errors).map((e) => e.split(':')[0]);
    if (ok > 0 || codes.some((c) => c !== want)) problems.push(`gRPC ${[fmt(res.backends), fmt(res.errors)].filter(Boolean).join(', ')} of ${calls} calls, expected ${want}`);
  }
  return [...new Set(problems)];
}

async function realRequest(env: Env, plan: GrpcPlan, r: RequestEntry): Promise<string[]> {
  const client = env.clients.get(plan.gateway)!;
  const port = r.port ?? 80;
  const authority = r.host ? (/:\d+$/.test(r.host) ? r.host : `${r.host}:${port}`) : `${plan.address}:${port}`;
  const calls = r.weightsExpected ? WEIGHT_CALLS : REPEAT;
  const cmd = {
    target: `xds:///${authority}`, method: `/${r.grpcService}/${r.grpcMethod}`, proto: 'grpcecho' as const,
    metadata: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    count: calls, deadlineMs: CALL_DEADLINE_MS,
  };
  const until = Date.now() + RETRY_MS;
  for (;;) {
    const problems = judge(r, await client.run(cmd), calls);
    if (!problems.length || Date.now() >= until) return problems;
    await new Promise((res) => setTimeout(res, 100));
  }
}

// --- the run -----------------------------------------------------------------------------------
/** Makes every planned gRPC request for real, replacing its simulated result (kept as a hint). */
export async function runRealGrpc(plans: GrpcPlan[]): Promise<RealRun> {
  const started = Date.now();
  const run: RealRun = { requests: 0, ms: 0, errors: [] };
  if (!plans.length) return run;
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const gateways = [...new Set(plans.map((p) => p.gateway))];
    const env = await startEnv(podsOf(plans), gateways, cleanup);
    for (const plan of plans) {
      const version = await seed(env, plan);
      const unsettled = await settle(env, plan, version);
      const node = env.tracker.node(nodeId(plan.gateway));
      const nacksBefore = node.nacks.length;
      for (const { entry, caseResult, index } of plan.requests) {
        const simulated = caseResult.requests[index];
        const problems = await realRequest(env, plan, entry);
        const nacks = node.nacks.slice(nacksBefore);
        if (problems.length && nacks.length) problems.push(`the client NACKed: ${nacks.join('; ')}`);
        if (problems.length && unsettled) problems.push(unsettled);
        const real: RequestResult = {
          subtest: simulated.subtest, phase: simulated.phase, protocol: simulated.protocol, mode: 'real',
          passed: problems.length === 0, problems,
          hint: `simulated: ${simulated.passed ? 'passed' : `failed (${simulated.problems.join('; ')})`}`,
        };
        caseResult.requests[index] = real;
        run.requests++;
      }
      const nacks = node.nacks.slice(nacksBefore);
      if (nacks.length) plan.requests[0].caseResult.errors.push(`phase ${plan.phase}: the gRPC client of ${plan.gateway} NACKed ${nacks.join('; ')}`);
    }
  } catch (err) {
    run.errors.push(`real gRPC run failed, its requests stay simulated: ${(err as Error).message}`);
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
  }
  run.ms = Date.now() - started;
  return run;
}

/** The whole report: simulated, then the gRPC requests for real (unless `real` is false). */
export async function runConformanceReal(opts: { only?: string[]; real?: boolean } = {}): Promise<{ results: CaseResult[]; real: RealRun }> {
  const plans: GrpcPlan[] = [];
  const results = selectCases(opts.only).map((c) => runCase(c, opts.real === false ? undefined : plans));
  const real = await runRealGrpc(plans);
  return { results, real };
}
