// Starting nats-server (JetStream on) and redis-server on loopback, each with its own data
// directory: used by `gantry up` and by the tests, so both run exactly the same servers.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, waitForPort } from './net.ts';

export interface LocalServer {
  kind: 'nats' | 'redis';
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

const COMMANDS: Record<LocalServer['kind'], (port: number, dir: string) => [string, string[]]> = {
  nats: (port, dir) => ['nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]],
  redis: (port, dir) => ['redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]],
};

/** Stops a child with SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}

export interface LocalServerOptions {
  /** A configuration file's text (nats-server only, e.g. an `authorization` block); the flags above override it. */
  config?: string;
  /** Environment for the server, over this process's (variables the configuration refers to). */
  env?: NodeJS.ProcessEnv;
}

export async function startLocalServer(kind: 'nats' | 'redis', stdio: StdioOptions = 'ignore', opts: LocalServerOptions = {}): Promise<LocalServer> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), `gantry-${kind}-`));
  const [cmd, args] = COMMANDS[kind](port, dir);
  if (opts.config !== undefined) {
    if (kind !== 'nats') throw new Error(`a configuration file is for nats-server, not ${kind}`);
    writeFileSync(join(dir, 'nats.conf'), opts.config);
    args.push('-c', join(dir, 'nats.conf'));
  }
  const child: ChildProcess = spawn(cmd, args, { stdio, env: { ...process.env, ...opts.env } });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${cmd}: ${err.message}`)));
    // A configuration it refuses: say so now rather than after waiting for the port.
    child.once('exit', (code) => reject(new Error(`${cmd} exited (code ${code}) before listening`)));
  });
  failed.catch(() => undefined); // once listening, a later exit is the owner's to notice
  await Promise.race([waitForPort(port, 15_000), failed]);
  return {
    kind, port, process: child,
    url: `${kind}://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
