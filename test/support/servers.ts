// Real nats-server and redis-server for tests, each on a free loopback port with its own data
// directory, stopped when the test ends. No mocks: these are the servers production uses.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freeLoopbackPort as freePort, waitForPort } from '../../libs/service/net.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freeLoopbackPort as freePort, waitForPort } from '../../libs/service/net.ts';

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

export async function startNats(): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-nats-'));
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `nats://127.0.0.1:${port}`, port, process: child,
    stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function startRedis(): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gantry-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `redis://127.0.0.1:${port}`, port, process: child,
    stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); },
  };
}
