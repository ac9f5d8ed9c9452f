// The conformance suite's gRPC echo backends (service
// gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, protos/test/grpcecho.proto), one gRPC
// server per pod address and port: each reply names the pod and namespace that answered, the
// authority and the metadata it received.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GRPC_ECHO_PROTO = join(dirname(fileURLToPath(import.meta.url)), '../../protos/test/grpcecho.proto');
export const GRPC_ECHO_SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

export interface PodSpec {
  address: string;
  port: number;
  namespace: string;
  /** The pod name; upstream `<deployment>-<hash>-<id>`, so checks compare prefixes. */
  pod: string;
}

export interface EchoPod extends PodSpec {
  calls: number;
}

export interface EchoPods {
  pods: EchoPod[];
  stop(): Promise<void>;
}

function service(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(GRPC_ECHO_PROTO, { keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    gateway_api_conformance: { echo_basic: { grpcecho: { GrpcEcho: grpc.ServiceClientConstructor } } };
  };
  return pkg.gateway_api_conformance.echo_basic.grpcecho.GrpcEcho.service;
}

/** Starts one server per pod; rejects (after stopping those started) if any address cannot be bound. */
export async function startEchoPods(specs: PodSpec[]): Promise<EchoPods> {
  const def = service();
  const servers: grpc.Server[] = [];
  const pods: EchoPod[] = [];
  const stop = () => Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    const t = setTimeout(() => { s.forceShutdown(); resolve(); }, 1000);
    s.tryShutdown(() => { clearTimeout(t); resolve(); });
  }))).then(() => undefined);
  try {
    for (const spec of specs) {
      const pod: EchoPod = { ...spec, calls: 0 };
      const handler: grpc.handleUnaryCall<unknown, unknown> = (call, cb) => {
        pod.calls++;
        const headers = Object.entries(call.metadata.getMap()).map(([key, value]) => ({ key, value: String(value) }));
        cb(null, {
          assertions: {
            headers,
            authority: String(call.metadata.get(':authority')[0] ?? ''),
            context: { namespace: spec.namespace, ingress: '', service_name: '', pod: spec.pod },
          },
        });
      };
      const server = new grpc.Server();
      server.addService(def, { Echo: handler, EchoTwo: handler, EchoThree: handler });
      servers.push(server);
      await new Promise<number>((resolve, reject) =>
        server.bindAsync(`${spec.address}:${spec.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(new Error(`cannot bind ${spec.address}:${spec.port}: ${err.message}`)) : resolve(port))));
      pods.push(pod);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { pods, stop };
}
