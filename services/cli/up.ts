// `gantry up`: starts the embedded default and tells the user how to connect to it.
import { relative } from 'node:path';
import { Supervisor, type UpOptions } from './supervisor.ts';

export async function runUp(opts: Omit<UpOptions, 'onLine'>): Promise<void> {
  const supervisor = new Supervisor({
    ...opts,
    onLine: (service, line) => process.stderr.write(`[${service}] ${line}\n`),
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('gantry: stopping every process...\n');
    await supervisor.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  try {
    await supervisor.start();
  } catch (err) {
    process.stderr.write(`gantry: could not start: ${(err as Error).message}\n`);
    await supervisor.stop();
    process.exit(1);
  }
  const xds = `${opts.xdsAddress}:${opts.xdsPort}`;
  process.stdout.write(`
Gantry is running.
  manifests:   ${opts.manifests} (edit them: changes are served within a second)
  status:      ${opts.statusDir}  (print it: npx gantry status --status-dir ${relative(process.cwd(), opts.statusDir) || '.'})
  NATS:        ${supervisor.natsUrl}
  Redis:       ${supervisor.redisUrl}
  xDS (ADS):   ${xds}  (gRPC, state of the world)

Point Envoy at it (node.cluster names the Gateway, "<namespace>/<name>"):
  envoy -c deploy/envoy/bootstrap.yaml --service-cluster default/example-gateway --service-node envoy-1
Point a proxyless gRPC client at it:
  GRPC_XDS_BOOTSTRAP=deploy/envoy/grpc-bootstrap.json, target xds:///<hostname>:<listener port>

Ctrl-C stops everything.
`);
}
