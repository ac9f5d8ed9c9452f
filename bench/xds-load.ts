// xDS serving at scale: simulated Envoy proxies (raw ADS clients, state of the world and delta,
// bench/xds-load-worker.ts, in child processes) against 1 and then 3 xds-server replicas (child
// processes, run like the supervisor does: dist/services/xds-server/main.js, or the source through tsx
// when the bundle is not current; real nats-server and redis-server).
// 100 Gateways' snapshots are seeded in Redis the way the translator writes them; 1,000 and then
// 5,000 proxies connect (node.cluster spread over the Gateways); then one route is attached to
// every Gateway at once (100 new snapshots, announced on NATS) and we measure, per proxy, the time
// from the snapshot events to its ACK of the new route configuration; the replicas' RSS per
// connection (after connecting minus before) and CPU per push (utime+stime from /proc over the
// change, divided by the proxies pushed). Floors (NATS, Redis, protobuf) from bench/floors.ts.
//   npm run bench -- xds [--json]       (BENCH_XDS_PROXIES=1000,5000 BENCH_XDS_REPLICAS=1,3 to change)
// Profiling: BENCH_XDS_NODE_ARGS (extra node flags for the replicas, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
// BENCH_XDS_HEAP_SNAPSHOT=<ms> (SIGUSR2 after connecting, with --heapsnapshot-signal=SIGUSR2),
// BENCH_XDS_LOG_LEVEL (replicas' level, info), BENCH_XDS_KEEP_LOGS=1 (keep the replicas' logs in the temp dir).
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino from 'pino';
import { SNAPSHOT_SCHEMA, SnapshotEventSchema, subjects } from '../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent, type EventLog } from '../libs/eventlog/index.ts';
import { entryArgs, SERVICE_NODE_FLAGS } from '../libs/runtime/index.mjs';
import { stopChild } from '../libs/service/local-servers.ts';
import { freeLoopbackPort, waitForPort } from '../libs/service/net.ts';
import { buildManifest, type EncodedResource, type EncodedSnapshot } from '../libs/snapshots/manifest.ts';
import { keys, NO_LEASE, SnapshotWriter } from '../libs/snapshots/redis-store.ts';
import { encode, encodeRouteConfiguration, pack } from '../libs/xds/encode.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../libs/xds/type-urls.ts';
import { startNats, startRedis, type RunningServer } from '../test/support/servers.ts';
import { measureFloors } from './floors.ts';
import { stats, type Figure } from './report.ts';
import type { ProxySpec } from './xds-load-worker.ts';

const GATEWAYS = 100;
const CLUSTERS = 10;
const VHOSTS = 4;
const ROUTES_PER_VHOST = 8;
const PER_CONNECTION = 100; // streams per HTTP/2 connection (one grpc-js client each)
const WORKERS = Number(process.env.BENCH_XDS_WORKERS ?? 2);
const PROXY_STEPS = (process.env.BENCH_XDS_PROXIES ?? '1000,5000').split(',').map(Number);
const REPLICA_STEPS = (process.env.BENCH_XDS_REPLICAS ?? '1,3').split(',').map(Number);
const ROUTE_NAME = 'http-80';
const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const log = pino({ level: 'silent' });
// Replicas run as the supervisor runs them: the bundle when current (else the source through tsx,
// said once on stderr), with the service's launch flags.
const REPLICA_RUN = entryArgs('services/xds-server/main.ts');
const REPLICA_FLAGS = SERVICE_NODE_FLAGS['xds-server'] ?? [];
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- snapshots --------------------------------------------------------------------------------
const gatewayName = (i: number) => `bench/gw-${String(i).padStart(3, '0')}`;
const clusterName = (j: number) => `bench/svc-${j}/8080`;
const ads = { ads: {}, resource_api_version: 'V3' as const };

/** One Gateway's snapshot: an HTTP listener, its route configuration (a few dozen routes), 10 clusters + endpoints. */
function gatewaySnapshot(i: number, changes: number): EncodedSnapshot {
  const gw = gatewayName(i);
  const res = (typeUrl: string, name: string, bytes: Buffer): EncodedResource => ({ typeUrl, name, bytes });
  const clusters = Array.from({ length: CLUSTERS }, (_, j) => res(CLUSTER, clusterName(j), encode('envoy.config.cluster.v3.Cluster', {
    name: clusterName(j), type: 'EDS', connect_timeout: { seconds: 5 }, lb_policy: 'ROUND_ROBIN',
    eds_cluster_config: { eds_config: ads, service_name: clusterName(j) },
    circuit_breakers: { thresholds: [{ max_connections: { value: 1024 }, max_requests: { value: 1024 } }] },
  })));
  const endpoints = Array.from({ length: CLUSTERS }, (_, j) => res(ENDPOINT, clusterName(j), encode('envoy.config.endpoint.v3.ClusterLoadAssignment', {
    cluster_name: clusterName(j),
    endpoints: [{
      locality: { zone: 'bench-a' },
      lb_endpoints: [1, 2, 3].map((k) => ({ endpoint: { address: { socket_address: { address: `10.${i}.${j}.${k}`, port_value: 8080 } } } })),
    }],
  })));
  const listener = res(LISTENER, ROUTE_NAME, encode('envoy.config.listener.v3.Listener', {
    name: ROUTE_NAME, address: { socket_address: { address: '0.0.0.0', port_value: 80 } },
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: pack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
          stat_prefix: ROUTE_NAME, rds: { route_config_name: ROUTE_NAME, config_source: ads },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: pack('envoy.extensions.filters.http.router.v3.Router', {}) }],
        }),
      }],
    }],
  }));
  const routes = encodeRouteConfiguration({
    name: ROUTE_NAME,
    virtual_hosts: Array.from({ length: VHOSTS }, (_, v) => ({
      name: `${gw}/host-${v}`, domains: [`host-${v}.gw-${i}.example.com`, `host-${v}.gw-${i}.example.com:80`],
      routes: [
        // The change: one route attached to every Gateway (the workers look for its path).
        ...(v === 0 && changes > 0 ? [{ match: { prefix: `/bench-change-${changes}/` }, route: { cluster: clusterName(0) } }] : []),
        ...Array.from({ length: ROUTES_PER_VHOST }, (_, r) => ({
          match: { prefix: `/api/v${r}/`, headers: [{ name: 'x-tenant', string_match: { exact: `t${r}` } }] },
          route: {
            timeout: { seconds: 15 },
            weighted_clusters: { clusters: [
              { name: clusterName((v + r) % CLUSTERS), weight: { value: 90 } },
              { name: clusterName((v + r + 1) % CLUSTERS), weight: { value: 10 } },
            ] },
          },
        })),
      ],
    })),
  });
  return {
    gateway: gw,
    resources: [...clusters, ...endpoints, listener, res(ROUTE, ROUTE_NAME, routes)],
    grpcRoutes: [],
    apiListeners: [],
  };
}

/** Writes every Gateway's snapshot (blobs, manifest, head) as the translator does; returns the announcements to publish. */
async function writeSnapshots(writer: SnapshotWriter, changes: number): Promise<{ manifestJson: string; announce: () => Promise<void> }> {
  const manifests = await Promise.all(Array.from({ length: GATEWAYS }, async (_, i) => {
    const { manifest, blobs } = buildManifest(gatewaySnapshot(i, changes), {});
    await writer.write(manifest, blobs);
    return manifest;
  }));
  return {
    manifestJson: JSON.stringify(manifests[0]),
    announce: async () => {
      await Promise.all(manifests.map((m) => publishEvent(events!.js, SnapshotEventSchema, subjects.snapshot(m.gateway), {
        schema: SNAPSHOT_SCHEMA, gateway: m.gateway, op: 'upsert', version: m.version,
        manifestKey: keys.manifest(m.gateway, m.version), emittedAt: new Date().toISOString(),
      }, `${m.gateway}:${m.version}`)));
    },
  };
}

// --- child processes --------------------------------------------------------------------------
interface Replica { id: string; port: number; child: ChildProcess; logFile: string }

/**
 * CPU time, RSS, and USS: the pages only this process maps (Private_Clean + Private_Dirty of
 * smaps_rollup). RSS also counts the pages of the node binary and shared libraries that every
 * Node process on the machine shares (about 30 MiB): USS is what one more replica costs a node.
 */
function procStats(pid: number): { cpuMs: number; rssMiB: number; ussMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return { cpuMs, rssMiB: Number(rss?.[1] ?? 0) / 1024, ussMiB: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

/** The floor of a replica's memory: an idle Node process with nothing loaded, the replicas' flags. */
async function emptyNodeMemory(): Promise<{ rssMiB: number; ussMiB: number }> {
  const child = spawn(process.execPath, [...REPLICA_FLAGS, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(500);
  const m = procStats(child.pid!);
  await stopChild(child, 2000);
  return m;
}

async function startReplica(id: string, nats: RunningServer, redis: RunningServer): Promise<Replica> {
  const port = await freeLoopbackPort();
  const logFile = join(tmpdir(), `gantry-bench-xds-${id}-${process.pid}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...REPLICA_FLAGS, ...(process.env.BENCH_XDS_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...REPLICA_RUN.args], {
    cwd: REPO,
    env: {
      ...process.env, GANTRY_NATS_URL: nats.url, GANTRY_REDIS_URL: redis.url, GANTRY_XDS_PORT: String(port),
      GANTRY_REPLICA_ID: id, GANTRY_LOG_LEVEL: process.env.BENCH_XDS_LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  await waitForPort(port, 30_000);
  return { id, port, child, logFile };
}

interface Worker { child: ChildProcess; request<T>(msg: object, reply: string): Promise<T> }

function startWorker(): Worker {
  const child = fork(join(REPO, 'bench/xds-load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    request: <T>(msg: object, reply: string) => new Promise<T>((resolve, reject) => {
      const onMessage = (m: { op: string }) => { if (m.op === reply) { child.off('message', onMessage); child.off('exit', onExit); resolve(m as T); } };
      const onExit = () => reject(new Error(`load worker exited while waiting for ${reply}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(msg);
    }),
  };
}

// --- the run ----------------------------------------------------------------------------------
let events: EventLog | undefined;

interface Row { idleMiB: number[]; replicas: number; proxies: number; ready: number; connectS: number; p50: number; p99: number; max: number; missing: number; kibPerConn: number; cpuMsPerPush: number; rssMiB: number[]; ussMiB: number[] }

export async function benchXdsLoad(): Promise<Figure[]> {
  process.stderr.write(`xds: replicas run ${REPLICA_RUN.bundled ? REPLICA_RUN.args[0] : `through tsx (${REPLICA_RUN.reason})`} ${REPLICA_FLAGS.join(' ')}\n`);
  const [nats, redisServer] = await Promise.all([startNats(), startRedis()]);
  const started: ChildProcess[] = [];
  const logFiles: string[] = [];
  const redis = new Redis(redisServer.url);
  const rows: Row[] = [];
  let manifestJson = '{}';
  try {
    events = await connectEventLog(nats.url, 'bench-xds', log);
    await ensureStreams(events.jsm);
    const writer = new SnapshotWriter(redis, NO_LEASE);
    let changes = 0;
    ({ manifestJson } = await writeSnapshots(writer, changes));

    for (const replicaCount of REPLICA_STEPS) {
      const replicas = await Promise.all(Array.from({ length: replicaCount }, (_, r) => startReplica(`bench-r${replicaCount}-${r + 1}`, nats, redisServer)));
      started.push(...replicas.map((r) => r.child));
      logFiles.push(...replicas.map((r) => r.logFile));
      const workers = Array.from({ length: WORKERS }, startWorker);
      started.push(...workers.map((w) => w.child));
      await sleep(1000);
      const before = replicas.map((r) => procStats(r.child.pid!));
      let connected = 0;
      let readyTotal = 0;
      for (const target of PROXY_STEPS) {
        // Connect up to `target` proxies: Gateway i % 100, replica i % replicas, protocol alternating per hundred.
        const specs: ProxySpec[][] = workers.map(() => []);
        for (let i = connected; i < target; i++) {
          specs[i % WORKERS].push({
            id: `proxy-${i}`, gateway: gatewayName(i % GATEWAYS), port: replicas[i % replicaCount].port,
            protocol: Math.floor(i / GATEWAYS) % 2 === 0 ? 'sotw' : 'delta', route: ROUTE_NAME,
          });
        }
        const t0 = performance.now();
        const readies = await Promise.all(workers.map((w, k) => w.request<{ ready: number; failed: number }>(
          { op: 'connect', proxies: specs[k], perConnection: PER_CONNECTION, timeoutMs: 180_000 }, 'ready')));
        const connectS = (performance.now() - t0) / 1000;
        connected = target;
        readyTotal += readies.reduce((n, r) => n + r.ready, 0);
        await sleep(3000); // let ACK events and GC settle
        if (process.env.BENCH_XDS_HEAP_SNAPSHOT) {
          for (const r of replicas) r.child.kill('SIGUSR2');
          await sleep(Number(process.env.BENCH_XDS_HEAP_SNAPSHOT));
        }
        const after = replicas.map((r) => procStats(r.child.pid!));

        // The change: one route attached to every Gateway, 100 snapshots announced at once.
        changes += 1;
        const next = await writeSnapshots(writer, changes);
        for (const w of workers) w.child.send({ op: 'expect', marker: `/bench-change-${changes}/` });
        await sleep(200);
        const cpu0 = replicas.map((r) => procStats(r.child.pid!).cpuMs);
        const tEvents = now();
        await next.announce();
        const acks = await Promise.all(workers.map((w) => w.request<{ times: number[]; missing: number }>({ op: 'collect', timeoutMs: 60_000 }, 'acks')));
        await sleep(500);
        const cpu1 = replicas.map((r) => procStats(r.child.pid!).cpuMs);
        const latencies = acks.flatMap((a) => a.times.map((t) => t - tEvents));
        const s = latencies.length > 0 ? stats(latencies) : { median: NaN, p99: NaN, max: NaN };
        const cpuMs = cpu1.reduce((n, c, k) => n + c - cpu0[k], 0);
        const rssDelta = after.reduce((n, a, k) => n + a.rssMiB - before[k].rssMiB, 0);
        rows.push({
          idleMiB: before.map((b) => b.rssMiB), replicas: replicaCount, proxies: target, ready: readyTotal,
          connectS, p50: s.median, p99: s.p99, max: s.max, missing: acks.reduce((n, a) => n + a.missing, 0),
          kibPerConn: (rssDelta * 1024) / target, cpuMsPerPush: cpuMs / Math.max(1, latencies.length), rssMiB: after.map((a) => a.rssMiB), ussMiB: after.map((a) => a.ussMiB),
        });
      }
      await Promise.all(workers.map((w) => w.request({ op: 'close' }, 'closed').catch(() => undefined)));
      await Promise.all([...workers.map((w) => stopChild(w.child, 2000)), ...replicas.map((r) => stopChild(r.child))]);
    }
    const floors = await measureFloors(nats.url, redisServer.url, manifestJson);
    const empty = await emptyNodeMemory();
    const figures: Figure[] = [];
    for (const r of rows) {
      const k = `r${r.replicas}_p${r.proxies}`;
      const where = `${r.replicas} replica${r.replicas > 1 ? 's' : ''}, ${r.proxies} proxies`;
      figures.push(
        { name: `${k}_ack_p50`, value: r.p50, unit: 'ms', note: `${where}: snapshot events → ACK of the new routes` },
        { name: `${k}_ack_p99`, value: r.p99, unit: 'ms', note: `max ${r.max.toFixed(0)} ms; ${r.missing} proxies without the change` },
        { name: `${k}_mem_per_conn`, value: r.kibPerConn, unit: 'KiB', note: 'replica RSS after connecting − before, / proxies' },
        { name: `${k}_cpu_per_push`, value: r.cpuMsPerPush, unit: 'ms', note: 'replica utime+stime over the change / proxies pushed' },
        { name: `${k}_rss_max`, value: Math.max(...r.rssMiB), unit: 'MiB', note: `per replica: ${r.rssMiB.map((m) => m.toFixed(0)).join(', ')}; idle before connecting: ${r.idleMiB.map((m) => m.toFixed(0)).join(', ')}` },
        { name: `${k}_uss_max`, value: Math.max(...r.ussMiB), unit: 'MiB', note: `private memory per replica: ${r.ussMiB.map((m) => m.toFixed(0)).join(', ')}` },
        { name: `${k}_connect`, value: r.connectS, unit: 's', note: `${r.ready} proxies ready (ACKed CDS, EDS, LDS, RDS)` },
      );
    }
    // The scale-out bar: each of N replicas under 1/2 of one replica's memory for the same proxies.
    for (const proxies of PROXY_STEPS) {
      const one = rows.find((r) => r.replicas === 1 && r.proxies === proxies);
      for (const many of rows.filter((r) => r.replicas > 1 && r.proxies === proxies)) {
        if (!one) continue;
        const k = `r${many.replicas}_p${proxies}`;
        figures.push(
          { name: `${k}_rss_vs_single`, value: Math.max(...many.rssMiB) / one.rssMiB[0], unit: 'x', note: `largest replica RSS / single replica RSS (bar < 0.5)` },
          { name: `${k}_uss_vs_single`, value: Math.max(...many.ussMiB) / one.ussMiB[0], unit: 'x', note: `the same in private memory (USS)` },
        );
      }
    }
    figures.push(
      { name: 'floor_empty_node_rss', value: empty.rssMiB, unit: 'MiB', note: 'an idle node process with nothing loaded, same flags' },
      { name: 'floor_empty_node_uss', value: empty.ussMiB, unit: 'MiB', note: 'its private memory' },
    );
    figures.push(
      { name: 'floor_nats_publish_receive', value: floors.natsPublishReceiveMs, unit: 'ms', note: 'JetStream publish → core subscriber, median' },
      { name: 'floor_redis_get_manifest', value: floors.redisGetMs, unit: 'ms', note: `GET of a snapshot manifest (${manifestJson.length} B), median` },
      { name: 'floor_protobuf_encode', value: floors.protobufEncodeMs, unit: 'ms', note: 'RouteConfiguration with 10 routes, median' },
    );
    return figures;
  } finally {
    await Promise.all(started.map((c) => stopChild(c, 3000)));
    redis.disconnect();
    await events?.close().catch(() => undefined);
    events = undefined;
    await Promise.all([nats.stop(), redisServer.stop()]);
    if (!process.env.BENCH_XDS_KEEP_LOGS) for (const f of logFiles) rmSync(f, { force: true });
  }
}
