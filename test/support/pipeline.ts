// The whole pipeline for end-to-end tests and benchmarks: real nats-server and redis-server on free
// loopback ports, the five services as child processes (through the same supervisor `gantry up`
// uses), gRPC echo backends, and a manifests directory the test edits.
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES } from '../../libs/service/index.ts';
import { Supervisor } from '../../services/cli/supervisor.ts';
import { startEchoBackend, type EchoBackend } from './echo-backend.ts';
import { freePort, startNats, startNatsWithUsers, startRedis, type NatsWithUsers, type RunningServer } from './servers.ts';
import { spawnXdsGrpcClient, type XdsGrpcClient } from './xds-grpc-client.ts';

/** The cluster the pipeline's services speak for (`gantry up`'s default); NATS users are scoped to it. */
const CLUSTER = 'local';

export interface Pipeline {
  dir: string;
  statusDir: string;
  xdsPort: number;
  nats: RunningServer;
  redis: RunningServer;
  supervisor: Supervisor;
  backends: Record<string, EchoBackend>;
  /** Service child output, kept for a failing test's message. */
  logs: string[];
  write(file: string, yaml: string): void;
  remove(file: string): void;
  client(nodeId: string, gateway?: string): Promise<XdsGrpcClient>;
  stop(): Promise<void>;
}

/** A Service `echo-<name>` (port 9000, h2c) and its EndpointSlice pointing at the backend. */
export function serviceManifest(name: string, backendPort: number, namespace = 'default'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: echo-${name}, namespace: ${namespace}}
spec:
  ports: [{name: grpc, port: 9000, targetPort: ${backendPort}, appProtocol: kubernetes.io/h2c}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-${name}-1
  namespace: ${namespace}
  labels: {kubernetes.io/service-name: echo-${name}}
addressType: IPv4
ports: [{name: grpc, port: ${backendPort}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}, zone: zone-a}]
`;
}

export const GATEWAY_MANIFEST = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gantry}
spec: {controllerName: gantry.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: gantry
  listeners: [{name: http, protocol: HTTP, port: 8080}]
`;

export interface PipelineOptions {
  logLevel?: string;
  env?: NodeJS.ProcessEnv;
  /** NATS with the deployed users (libs/eventlog/permissions.ts), each service connecting as its own. */
  natsUsers?: boolean;
}

export async function startPipeline(backendNames: string[], opts: PipelineOptions = {}): Promise<Pipeline> {
  const startingNats: Promise<RunningServer & Partial<NatsWithUsers>> = opts.natsUsers ? startNatsWithUsers([CLUSTER]) : startNats();
  const [nats, redis] = await Promise.all([startingNats, startRedis()]);
  const urlOf = nats.urlOf;
  const dir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  const statusDir = join(dir, '.gantry-status');
  mkdirSync(statusDir);
  const backends: Record<string, EchoBackend> = {};
  for (const name of backendNames) backends[name] = await startEchoBackend(name);
  const write = (file: string, yaml: string) => writeFileSync(join(dir, file), yaml);
  write('gateway.yaml', GATEWAY_MANIFEST);
  write('services.yaml', Object.values(backends).map((b) => serviceManifest(b.name, b.port)).join('---\n'));
  const xdsPort = await freePort();
  const logs: string[] = [];
  const supervisor = new Supervisor({
    manifests: dir, statusDir, xdsPort, xdsAddress: '127.0.0.1', nats: nats.url, redis: redis.url,
    cluster: CLUSTER, logLevel: opts.logLevel ?? 'info', env: opts.env,
    serviceEnv: urlOf && Object.fromEntries(SERVICES.map((s) => [s, { GANTRY_NATS_URL: urlOf(s) }])),
    onLine: (service, line) => {
      logs.push(`[${service}] ${line}`);
      if (logs.length > 2000) logs.shift();
    },
  });
  await supervisor.start();
  const clients: XdsGrpcClient[] = [];
  return {
    dir, statusDir, xdsPort, nats, redis, supervisor, backends, logs, write,
    remove: (file) => unlinkSync(join(dir, file)),
    client: async (nodeId, gateway = 'default/gw') => {
      const c = await spawnXdsGrpcClient({ xdsPort, nodeId, gateway, zone: 'zone-a' });
      clients.push(c);
      return c;
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.stop()));
      await supervisor.stop();
      await Promise.all(Object.values(backends).map((b) => b.stop()));
      await Promise.all([nats.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
