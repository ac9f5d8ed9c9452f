// gRPC service definitions (what @grpc/grpc-js's addService and makeClientConstructor take) built
// from the protobufjs root of libs/xds/protos.ts, so a process holds one copy of the Envoy
// descriptors. @grpc/proto-loader would load the same .proto files a second time, and keep every
// file's serialized descriptor besides (tens of MiB for the Envoy tree).
//
// Decoded messages have the shapes proto-loader gives with { keepCase, longs: String, enums: String,
// defaults, oneofs } (the generated `__Output` types): snake_case fields (the root keeps case),
// 64-bit integers and enums as strings, unset fields at their defaults, and each oneof's set
// member named by a virtual field.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyRoot } from './protos.ts';

/** protobufjs' toObject options giving proto-loader's shapes (keepCase is the root's own). */
export const DECODE_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

const definitions = new Map<string, ServiceDefinition>();

// protobufjs' Writer in Node is a BufferWriter: finish() gives a Buffer, as grpc-js wants.
const camelCase = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/**
 * The definition of the service `fullName` (e.g. `envoy.service.discovery.v3.AggregatedDiscoveryService`).
 *
 * Requests are serialized like proto-loader does (fromObject, so enum names and the other loose
 * forms clients write are accepted). Responses are encoded as they are: the server only sends the
 * objects sotw.ts and delta.ts build, typed there, whose fields are already protobufjs' in-memory
 * forms (strings, Buffers, nested plain objects, no enums), so fromObject's copy of every message
 * on every push would buy nothing.
 */
export function serviceDefinition(fullName: string): ServiceDefinition {
  let def = definitions.get(fullName);
  if (def) return def;
  const service = envoyRoot().lookupService(fullName);
  const methods: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    const m: MethodDefinition<unknown, unknown> = {
      path: `/${fullName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: (value) => req.encode(req.fromObject(value as Record<string, unknown>)).finish() as Buffer,
      requestDeserialize: (bytes) => req.toObject(req.decode(bytes), DECODE_OPTIONS),
      responseSerialize: (value) => res.encode(value as protobuf.Message).finish() as Buffer,
      responseDeserialize: (bytes) => res.toObject(res.decode(bytes), DECODE_OPTIONS),
      originalName: camelCase(method.name),
    };
    methods[method.name] = m;
  }
  def = methods as ServiceDefinition;
  definitions.set(fullName, def);
  return def;
}
