// gRPC echo backends on loopback: every reply carries the backend's name.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ECHO_PROTO = join(dirname(fileURLToPath(import.meta.url)), '../../protos/test/echo.proto');

export function echoPackage(): grpc.GrpcObject {
  const def = protoLoader.loadSync(ECHO_PROTO, { keepCase: true });
  return (grpc.loadPackageDefinition(def).gantry as grpc.GrpcObject).test as grpc.GrpcObject;
}

export interface EchoBackend {
  name: string;
  port: number;
  calls: number;
  stop(): Promise<void>;
}

export async function startEchoBackend(name: string): Promise<EchoBackend> {
  const pkg = echoPackage();
  const server = new grpc.Server();
  const backend: EchoBackend = { name, port: 0, calls: 0, stop: async () => undefined };
  const handler: grpc.handleUnaryCall<{ message: string }, unknown> = (call, cb) => {
    backend.calls++;
    cb(null, {
      backend: name,
      message: call.request.message,
      path: call.getPath(),
      authority: String(call.metadata.get(':authority')[0] ?? ''),
    });
  };
  for (const svc of ['Echo', 'Other']) {
    server.addService((pkg[svc] as grpc.ServiceClientConstructor).service, { Call: handler });
  }
  backend.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  backend.stop = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return backend;
}
