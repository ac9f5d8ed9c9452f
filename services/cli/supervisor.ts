// The embedded default: one supervisor process that starts nats-server (JetStream), redis-server
// and the five services as separate OS processes, restarts a service that dies (with backoff) and
// stops everything on Ctrl-C, leaving no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { entryArgs, ROOT as top, SERVICE_NODE_FLAGS } from '../../libs/runtime/index.mjs';
import { SERVICES, type ServiceName } from '../../libs/service/index.ts';
import { startLocalServer, stopChild, type LocalServer } from '../../libs/service/local-servers.ts';
import { waitForPort } from '../../libs/service/net.ts';

export interface UpOptions {
  manifests: string;
  statusDir: string;
  xdsPort: number;
  xdsAddress: string;
  nats?: string;
  redis?: string;
  cluster: string;
  logLevel: string;
  /** Extra environment for every service (e.g. GANTRY_SOURCE=kubernetes and KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** Environment for one service, over `env` (e.g. its own GANTRY_NATS_URL, naming its NATS user). */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Receives each line a child prints, prefixed by the process's name. */
  onLine?: (service: string, line: string) => void;
}

interface Managed {
  name: ServiceName;
  child?: ChildProcess;
  restarts: number;
}

export class Supervisor {
  private readonly managed: Managed[] = [];
  private readonly servers: LocalServer[] = [];
  private stopping = false;
  natsUrl = '';
  redisUrl = '';

  constructor(private readonly opts: UpOptions) {}

  async start(): Promise<void> {
    this.natsUrl = this.opts.nats ?? (await this.startServer('nats'));
    this.redisUrl = this.opts.redis ?? (await this.startServer('redis'));
    mkdirSync(this.opts.statusDir, { recursive: true });
    for (const name of SERVICES) this.startService({ name, restarts: 0 });
    await waitForPort(this.opts.xdsPort, 60_000, this.opts.xdsAddress);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Services first (they flush to NATS/Redis), the servers they use last.
    await Promise.all(this.managed.map((m) => stopChild(m.child, 6000)));
    await Promise.all(this.servers.map((s) => s.stop()));
  }

  /** Signals one managed process (tests use it to kill a service and watch it come back). */
  signal(name: string, signal: NodeJS.Signals): boolean {
    const m = this.managed.find((x) => x.name === name);
    return m?.child?.kill(signal) ?? false;
  }

  /** Resolves when `name` has been (re)started `restarts` times. */
  async waitForRestarts(name: string, restarts: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.managed.find((x) => x.name === name)?.restarts ?? 0) < restarts) {
      if (Date.now() > deadline) throw new Error(`${name} was not restarted within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async startServer(kind: 'nats' | 'redis'): Promise<string> {
    const server = await startLocalServer(kind, ['ignore', 'pipe', 'pipe']);
    this.servers.push(server);
    server.process.on('exit', (code, signal) => {
      if (!this.stopping) this.opts.onLine?.(`${kind}-server`, `exited (code ${code}, signal ${signal})`);
    });
    return server.url;
  }

  private serviceEnv(name: ServiceName): NodeJS.ProcessEnv {
    return {
      ...process.env,
      GANTRY_NATS_URL: this.natsUrl,
      GANTRY_REDIS_URL: this.redisUrl,
      GANTRY_CLUSTER: this.opts.cluster,
      GANTRY_LOG_LEVEL: this.opts.logLevel,
      GANTRY_MANIFESTS: this.opts.manifests,
      GANTRY_STATUS_DIR: this.opts.statusDir,
      GANTRY_XDS_PORT: String(this.opts.xdsPort),
      GANTRY_XDS_ADDRESS: this.opts.xdsAddress,
      // One replica of each on one host, a crashed one restarted within a second: it would wait out
      // its own dead lease (libs/lease) before writing again, so a shorter TTL than the default 15 s.
      GANTRY_LEASE_TTL_MS: process.env.GANTRY_LEASE_TTL_MS ?? '5000',
      ...this.opts.env,
      ...this.opts.serviceEnv?.[name],
    };
  }

  private startService(m: Managed): void {
    // The bundle in dist/ when it is current (plain JavaScript: no tsx loader), else the source.
    const run = entryArgs(`services/${m.name}/main.ts`);
    if (!this.managed.includes(m)) {
      this.managed.push(m);
      if (run.reason) this.opts.onLine?.(m.name, run.reason);
    }
    const args = [...(SERVICE_NODE_FLAGS[m.name] ?? []), ...run.args];
    const child = spawn(process.execPath, args, { cwd: top, env: this.serviceEnv(m.name), stdio: ['ignore', 'pipe', 'pipe'] });
    m.child = child;
    const name = m.name;
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.opts.onLine?.(name, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.on('error', (err) => this.opts.onLine?.(name, `failed to start: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.opts.onLine?.(name, `exited (code ${code}, signal ${signal})`);
      m.restarts++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(m.restarts, 7));
      this.opts.onLine?.(name, `restarting in ${delay} ms`);
      setTimeout(() => { if (!this.stopping) this.startService(m); }, delay).unref();
    });
  }
}
