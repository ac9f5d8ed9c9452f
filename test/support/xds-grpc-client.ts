// A proxyless gRPC client (@grpc/grpc-js-xds) in a child process: grpc-js-xds reads its bootstrap
// once per process, so each bootstrap (node, Gateway, xds-server) needs its own process.
//
// Run:    node --import tsx test/support/xds-grpc-client.ts
// Env:    GRPC_XDS_BOOTSTRAP_CONFIG  bootstrap JSON (see xdsBootstrap below)
// stdin:  one JSON command a line:
//           {"id":1,"target":"xds:///echo.test:8080","method":"/gantry.test.Echo/Call",
//            "metadata":{"x-k":"v"},"count":10,"deadlineMs":5000,"message":"hi"}
//         ("proto":"grpcecho" calls the conformance suite's GrpcEcho service instead)
// stdout: {"ready":true} once started, then one JSON line per command, in order:
//           {"id":1,"backends":{"a":7,"b":3},"errors":{"UNAVAILABLE: no healthy upstream":0}}
//         `backends` counts replies by the echo backend's name (`<namespace>/<pod>` for grpcecho),
//         `errors` failures by "CODE: details".
// The process exits when stdin ends. From a test, use spawnXdsGrpcClient() below.
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface XdsClientCommand {
  id?: number;
  target: string;
  method: string;
  metadata?: Record<string, string>;
  count?: number;
  message?: string;
  deadlineMs?: number;
  /**
   * The messages the method takes: `gantry-test` (default; protos/test/echo.proto, replies counted
   * by backend name) or `grpcecho` (protos/test/grpcecho.proto, the conformance suite's GrpcEcho;
   * replies counted by `<namespace>/<pod>`).
   */
  proto?: 'gantry-test' | 'grpcecho';
}

export interface XdsClientResult {
  id?: number;
  backends: Record<string, number>;
  errors: Record<string, number>;
}

export interface XdsBootstrapOptions {
  xdsPort: number;
  nodeId: string;
  /** `<namespace>/<gateway-name>`: the Gateway whose configuration the client gets. */
  gateway: string;
  zone?: string;
}

export function xdsBootstrap(o: XdsBootstrapOptions): string {
  return JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${o.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: o.nodeId, cluster: o.gateway, locality: { zone: o.zone ?? 'z' } },
  });
}

// --- the parent's side ------------------------------------------------------------------------
export interface XdsGrpcClient {
  run(cmd: XdsClientCommand): Promise<XdsClientResult>;
  /** Runs `cmd` until `ok(result)` holds (e.g. traffic moved after a snapshot), or throws. */
  runUntil(cmd: XdsClientCommand, ok: (r: XdsClientResult) => boolean, timeoutMs?: number): Promise<XdsClientResult>;
  stop(): Promise<void>;
  process: ChildProcess;
}

const SELF = fileURLToPath(import.meta.url);

export async function spawnXdsGrpcClient(bootstrap: XdsBootstrapOptions | string): Promise<XdsGrpcClient> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF], {
    cwd: join(dirname(SELF), '../..'),
    env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: typeof bootstrap === 'string' ? bootstrap : xdsBootstrap(bootstrap) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting = new Map<number, (r: XdsClientResult) => void>();
  let ready!: () => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`xds gRPC client exited with ${code} before it was ready`)));
  });
  lines.on('line', (line) => {
    const msg = JSON.parse(line) as XdsClientResult & { ready?: boolean };
    if (msg.ready) return ready();
    waiting.get(msg.id!)?.(msg);
    waiting.delete(msg.id!);
  });
  await started;
  let ids = 0;
  const run = (cmd: XdsClientCommand) => new Promise<XdsClientResult>((resolve) => {
    const id = cmd.id ?? ++ids + 1_000_000;
    waiting.set(id, resolve);
    child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
  });
  return {
    process: child,
    run,
    async runUntil(cmd, ok, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: XdsClientResult | undefined;
      while (Date.now() < deadline) {
        last = await run(cmd);
        if (ok(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`condition not met within ${timeoutMs} ms; last result ${JSON.stringify(last)}`);
    },
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end();
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

// --- the child's side -------------------------------------------------------------------------
async function main(): Promise<void> {
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  // Both Echo and Other take EchoRequest and answer EchoReply, so any method path works.
  const protobuf = (await import('protobufjs')).default;
  const root = protobuf.loadSync(join(dirname(SELF), '../../protos/test/echo.proto'));
  const Req = root.lookupType('gantry.test.EchoRequest');
  const Rep = root.lookupType('gantry.test.EchoReply');
  const serialize = (v: { message: string }) => Buffer.from(Req.encode(Req.create(v)).finish());
  const deserialize = (b: Buffer) => Rep.toObject(Rep.decode(b)) as { backend: string };
  const grpcEcho = protobuf.loadSync(join(dirname(SELF), '../../protos/test/grpcecho.proto'));
  const EchoReq = grpcEcho.lookupType('gateway_api_conformance.echo_basic.grpcecho.EchoRequest');
  const EchoRes = grpcEcho.lookupType('gateway_api_conformance.echo_basic.grpcecho.EchoResponse');
  const serializeEcho = () => Buffer.from(EchoReq.encode(EchoReq.create({})).finish());
  const deserializeEcho = (b: Buffer) => {
    const r = EchoRes.toObject(EchoRes.decode(b), { defaults: true }) as { assertions?: { context?: { namespace: string; pod: string } } };
    return { backend: `${r.assertions?.context?.namespace ?? ''}/${r.assertions?.context?.pod ?? ''}` };
  };

  const clients = new Map<string, grpc.Client>();
  const clientFor = (target: string) => {
    let c = clients.get(target);
    if (!c) {
      c = new grpc.Client(target, grpc.credentials.createInsecure());
      clients.set(target, c);
    }
    return c;
  };
  const callOnce = (cmd: XdsClientCommand) => new Promise<{ backend?: string; error?: string }>((resolve) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(cmd.metadata ?? {})) md.set(k, v);
    const done = (err: grpc.ServiceError | null, res?: { backend: string }) => {
      if (err) resolve({ error: `${grpc.status[err.code] ?? err.code}: ${err.details}` });
      else resolve({ backend: res!.backend });
    };
    const options = { deadline: Date.now() + (cmd.deadlineMs ?? 5000) };
    if (cmd.proto === 'grpcecho') clientFor(cmd.target).makeUnaryRequest(cmd.method, serializeEcho, deserializeEcho, {}, md, options, done);
    else clientFor(cmd.target).makeUnaryRequest(cmd.method, serialize, deserialize, { message: cmd.message ?? 'hello' }, md, options, done);
  });

  const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);
  out({ ready: true });
  const input = createInterface({ input: process.stdin });
  // Commands run one after another, so results come back in order.
  let chain = Promise.resolve();
  input.on('line', (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      let cmd: XdsClientCommand;
      try {
        cmd = JSON.parse(line) as XdsClientCommand;
      } catch (err) {
        out({ id: null, backends: {}, errors: { [`BAD_COMMAND: ${(err as Error).message}`]: 1 } });
        return;
      }
      const result: XdsClientResult = { id: cmd.id, backends: {}, errors: {} };
      for (let i = 0; i < (cmd.count ?? 1); i++) {
        const r = await callOnce(cmd);
        if (r.backend !== undefined) result.backends[r.backend] = (result.backends[r.backend] ?? 0) + 1;
        else result.errors[r.error!] = (result.errors[r.error!] ?? 0) + 1;
      }
      out(result);
    });
  });
  input.on('close', () => void chain.then(() => {
    for (const c of clients.values()) c.close();
    process.exit(0);
  }));
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await main();
}
