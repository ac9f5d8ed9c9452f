// Every service's health port: /healthz (the process is alive and its event loop answers),
// /readyz (the service can do its job: its checks all pass) and /metrics (Prometheus text: the
// process's default metrics and Gantry's, libs/service/metrics.ts).
//
// GANTRY_HEALTH_PORT: unset means no health server. Several services (and several xds-server
// replicas, in the benchmarks and tests) share one host outside Kubernetes, so no fixed default
// port could be right for all of them; in Kubernetes every pod has its own network namespace and
// the manifests set 9090 for every service. 0 asks the OS for a free port (tests), which is logged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';
import { collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import type { Logger } from './index.ts';
import { registry, runCollectors } from './metrics.ts';

export const HealthConfig = z.object({
  GANTRY_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // Probes come from the kubelet to the pod's IP, so the port listens on every interface.
  GANTRY_HEALTH_ADDRESS: z.string().min(1).default('0.0.0.0'),
});
export type HealthConfig = z.output<typeof HealthConfig>;

/** A readiness check: true (or a string saying why not, which is false). */
export type Check = () => boolean | string;

export interface Health {
  /** The bound port, or undefined when the health server is off. */
  port: number | undefined;
  /** Adds (or replaces) a named readiness check; /readyz passes when every check does. */
  check(name: string, check: Check): void;
  /** A check that is false until `ready(name)` is called: for one-time conditions (caught up). */
  pending(name: string): void;
  ready(name: string): void;
  /** The checks' current states (what /readyz answers). */
  readiness(): { ready: boolean; checks: Record<string, true | string> };
  close(): Promise<void>;
}

let defaultMetrics = false;

export async function startHealth(service: string, config: HealthConfig, log: Logger): Promise<Health> {
  const checks = new Map<string, Check>();
  const readiness = () => {
    const out: Record<string, true | string> = {};
    let ready = true;
    for (const [name, c] of checks) {
      let r: boolean | string;
      try { r = c(); } catch (err) { r = (err as Error).message; }
      out[name] = r === true ? true : (r || 'not ready');
      if (r !== true) ready = false;
    }
    return { ready, checks: out };
  };
  const health: Health = {
    port: undefined,
    check: (name, c) => void checks.set(name, c),
    pending: (name) => void checks.set(name, () => 'not yet'),
    ready: (name) => void checks.set(name, () => true),
    readiness,
    close: async () => undefined,
  };
  if (config.GANTRY_HEALTH_PORT === undefined) return health;

  if (!defaultMetrics) {
    defaultMetrics = true;
    collectDefaultMetrics({ register: registry });
  }
  registry.setDefaultLabels({ service });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(r)}\n`);
    } else if (path === '/metrics') {
      void (async () => {
        try {
          await runCollectors();
          const body = await registry.metrics();
          res.writeHead(200, { 'content-type': registry.contentType }).end(body);
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
        }
      })();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /healthz, /readyz, /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.GANTRY_HEALTH_PORT, config.GANTRY_HEALTH_ADDRESS, () => { server.off('error', reject); resolve(); });
  });
  server.unref(); // the service's own work decides when the process ends
  health.port = (server.address() as AddressInfo).port;
  health.close = () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  log.info({ address: `${config.GANTRY_HEALTH_ADDRESS}:${health.port}` }, 'health server listening (/healthz, /readyz, /metrics)');
  return health;
}

/** Connected to NATS now: the client reconnects by itself, readiness follows it. */
export function natsCheck(nc: NatsConnection): Check {
  let connected = !nc.isClosed();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connected = true;
    }
  })();
  return () => (nc.isClosed() ? 'NATS connection closed' : connected || 'NATS disconnected, reconnecting');
}

/** ioredis's own state: `ready` once connected (and after every reconnect). */
export function redisCheck(redis: { status: string }): Check {
  return () => redis.status === 'ready' || `Redis ${redis.status}`;
}

export interface ServeHealthDeps {
  /** Readiness follows the NATS connection. */
  nats?: NatsConnection;
  /** Readiness follows the Redis connection. */
  redis?: { status: string };
  /** One-time conditions, false until `health.ready(name)` (e.g. the log replayed). */
  waitFor?: string[];
  checks?: Record<string, Check>;
}

/** A service's health server with its usual checks: the one call a main.ts makes. */
export async function serveHealth(service: string, config: HealthConfig, log: Logger, deps: ServeHealthDeps = {}): Promise<Health> {
  const health = await startHealth(service, config, log);
  if (deps.nats) health.check('nats', natsCheck(deps.nats));
  if (deps.redis) health.check('redis', redisCheck(deps.redis));
  for (const name of deps.waitFor ?? []) health.pending(name);
  for (const [name, c] of Object.entries(deps.checks ?? {})) health.check(name, c);
  return health;
}
