// The embedded default: one supervisor process that starts nats-server (JetStream), redis-server
// and the five services as separate OS processes, restarts a service that dies (with backoff) and
// stops everything on Ctrl-C, leaving no process behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, waitForPort } from '../../libs/service/net.ts';

const top = join(dirname(fileURLToPath(import.meta.url)), '../..');

export const SERVICES = ['watcher', 'endpoint-discovery', 'translator', 'reporter', 'xds-server'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface UpOptions {
  manifests: string;
  statusDir: string;
  xdsPort: number;
  xdsAddress: string;
  nats?: string;
  redis?: string;
  cluster: string;
  logLevel: string;
  /** Where child output goes: 'inherit' for a terminal, or a function receiving each line. */
  onLine?: (service: string, line: string) => void;
}

interface Managed {
  name: string;
  child?: ChildProcess;
  restarts: number;
}

export class Supervisor {
  private readonly managed: Managed[] = [];
  private readonly dirs: string[] = [];
  private stopping = false;
  natsUrl = '';
  redisUrl = '';

  constructor(private readonly opts: UpOptions) {}

  async start(): Promise<void> {
    this.natsUrl = this.opts.nats ?? (await this.startNats());
    this.redisUrl = this.opts.redis ?? (await this.startRedis());
    mkdirSync(this.opts.statusDir, { recursive: true });
    for (const name of SERVICES) this.startService({ name, restarts: 0 });
    await waitForPort(this.opts.xdsPort, 60_000, this.opts.xdsAddress);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Services first (they flush to NATS/Redis), the servers they use last.
    const services = this.managed.filter((m) => (SERVICES as readonly string[]).includes(m.name));
    await Promise.all(services.map((m) => stopChild(m.child)));
    await Promise.all(this.managed.filter((m) => !services.includes(m)).map((m) => stopChild(m.child)));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
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

  private async startNats(): Promise<string> {
    const port = await freeLoopbackPort();
    const dir = mkdtempSync(join(tmpdir(), 'gantry-nats-'));
    this.dirs.push(dir);
    this.spawnManaged('nats-server', 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {}, false);
    await waitForPort(port, 15_000);
    return `nats://127.0.0.1:${port}`;
  }

  private async startRedis(): Promise<string> {
    const port = await freeLoopbackPort();
    const dir = mkdtempSync(join(tmpdir(), 'gantry-redis-'));
    this.dirs.push(dir);
    this.spawnManaged('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {}, false);
    await waitForPort(port, 15_000);
    return `redis://127.0.0.1:${port}`;
  }

  private serviceEnv(): NodeJS.ProcessEnv {
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
    };
  }

  private startService(m: Managed): void {
    const entry = join(top, 'services', m.name, 'main.ts');
    this.spawnManaged(m.name, process.execPath, ['--import', 'tsx', entry], this.serviceEnv(), true, m);
  }

  private spawnManaged(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, restart: boolean, existing?: Managed): void {
    const m = existing ?? { name, restarts: 0 };
    if (!existing) this.managed.push(m);
    const child = spawn(cmd, args, { cwd: top, env: Object.keys(env).length ? env : process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    m.child = child;
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.opts.onLine?.(name, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.on('error', (err) => this.opts.onLine?.(name, `failed to start: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.opts.onLine?.(name, `exited (code ${code}, signal ${signal})`);
      if (!restart) return;
      m.restarts++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(m.restarts, 7));
      this.opts.onLine?.(name, `restarting in ${delay} ms`);
      setTimeout(() => { if (!this.stopping) this.startService(m); }, delay).unref();
    });
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 6000).unref();
  });
}
