// Strict protobuf encoding of Envoy messages. protobufjs' fromObject silently drops fields it does
// not know, so every object is first checked against the descriptor: a misspelled field is an error.
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { lookupType } from './protos.ts';
import { TYPE_PREFIX } from './type-urls.ts';
import type { Any, EnvoyTypeName, EnvoyTypes } from './types.ts';

export class ProtoShapeError extends Error {
  constructor(readonly typeName: string, readonly path: string, detail: string) {
    super(`${typeName}${path ? ` at ${path}` : ''}: ${detail}`);
    this.name = 'ProtoShapeError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function scalarFits(type: string, v: unknown): boolean {
  if (type === 'string') return typeof v === 'string';
  if (type === 'bool') return typeof v === 'boolean';
  if (type === 'bytes') return v instanceof Uint8Array || typeof v === 'string';
  if (type === 'enum') return typeof v === 'string' || typeof v === 'number';
  if (NUMBER_TYPES.has(type)) return typeof v === 'number';
  if (LONG_TYPES.has(type)) return typeof v === 'number' || typeof v === 'string' || (typeof v === 'object' && v !== null && 'low' in v);
  return true;
}

/** Type names, computed once: protobufjs rebuilds `fullName` from the parent chain on every read. */
const typeNames = new WeakMap<protobuf.Type, string>();

function nameOf(type: protobuf.Type): string {
  let name = typeNames.get(type);
  if (name === undefined) typeNames.set(type, (name = type.fullName.slice(1)));
  return name;
}

function checkMessage(type: protobuf.Type, value: unknown, path: string, top: string): void {
  if (!isPlainObject(value)) throw new ProtoShapeError(top, path, `expected a ${nameOf(type)} object`);
  if (nameOf(type) === 'google.protobuf.Any') {
    if (typeof value.type_url !== 'string' || !(value.value instanceof Uint8Array)) {
      throw new ProtoShapeError(top, path, 'Any must be built with pack() (type_url + encoded value)');
    }
    return;
  }
  for (const [key, fieldValue] of Object.entries(value)) {
    if (fieldValue === undefined || fieldValue === null) continue;
    const field = type.fields[key];
    if (!field) {
      if (type.oneofs?.[key]) continue; // the virtual oneof discriminator written by --oneofs
      throw new ProtoShapeError(top, `${path}.${key}`, `unknown field "${key}" of ${nameOf(type)}`);
    }
    field.resolve();
    const child = field.resolvedType;
    if (!child || !('fields' in child)) {
      // Scalars and enums: protobufjs would coerce a wrong JS type (e.g. "8080" for a uint32) silently.
      const values = field.repeated ? (Array.isArray(fieldValue) ? fieldValue : [fieldValue]) : field.map ? Object.values(fieldValue as object) : [fieldValue];
      const want = child ? 'enum' : field.type;
      for (const v of values) {
        if (!scalarFits(want, v)) throw new ProtoShapeError(top, `${path}.${key}`, `expected ${want}, got ${typeof v} ${JSON.stringify(v)}`);
      }
      continue;
    }
    const childType = child as protobuf.Type;
    if (field.map) {
      if (!isPlainObject(fieldValue)) throw new ProtoShapeError(top, `${path}.${key}`, 'expected a map');
      for (const [k, v] of Object.entries(fieldValue)) checkMessage(childType, v, `${path}.${key}[${k}]`, top);
    } else if (field.repeated) {
      if (!Array.isArray(fieldValue)) throw new ProtoShapeError(top, `${path}.${key}`, 'expected a list');
      fieldValue.forEach((v, i) => checkMessage(childType, v, `${path}.${key}[${i}]`, top));
    } else {
      checkMessage(childType, fieldValue, `${path}.${key}`, top);
    }
  }
}

/** Encodes a message of a known Envoy type, rejecting any field the descriptor does not have. */
export function encode<K extends EnvoyTypeName>(typeName: K, message: EnvoyTypes[K]): Buffer {
  return encodeUnchecked(typeName, message);
}

/** Encoding by a type name known only at run time (resources read back from a snapshot). */
export function encodeUnchecked(typeName: string, message: unknown): Buffer {
  const type = lookupType(typeName);
  checkMessage(type, message, '', typeName);
  return Buffer.from(type.encode(type.fromObject(message as Record<string, unknown>)).finish());
}

export function decode(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = lookupType(typeName);
  return type.toObject(type.decode(bytes), { longs: String, enums: String, bytes: Buffer, defaults: false, oneofs: true });
}

/** A google.protobuf.Any holding `message`, as Envoy's typed_config fields want it. */
export function pack<K extends EnvoyTypeName>(typeName: K, message: EnvoyTypes[K]): Any & { type_url: string; value: Buffer } {
  return { type_url: TYPE_PREFIX + typeName, value: encode(typeName, message) };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Encoded virtual hosts by content, in two generations (a lookup hit in the older one promotes the
 * entry; when the newer one is full, the older is dropped): bounded, and what is in use stays.
 */
class EncodedCache {
  private current = new Map<string, Buffer>();
  private previous = new Map<string, Buffer>();

  constructor(private readonly limit: number) {}

  get(key: string, make: () => Buffer): Buffer {
    let value = this.current.get(key);
    if (value) return value;
    value = this.previous.get(key) ?? make();
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
    return value;
  }
}

const virtualHosts = new EncodedCache(20_000);

/**
 * A RouteConfiguration encoded with each virtual host encoded on its own and reused while its
 * content is unchanged: one route change among thousands re-encodes one virtual host, not the
 * configuration. The virtual hosts (field 2) follow the other fields on the wire; protobuf parsers
 * accept fields in any order, and the bytes are still a function of the content.
 */
export function encodeRouteConfiguration(rc: EnvoyTypes['envoy.config.route.v3.RouteConfiguration']): Buffer {
  const { virtual_hosts: hosts = [], ...rest } = rc;
  const parts = [encode('envoy.config.route.v3.RouteConfiguration', rest)];
  for (const host of hosts) {
    // Keyed by a digest of the content, not the content: thousands of keys stay small.
    const key = createHash('sha1').update(JSON.stringify(host)).digest('base64');
    const bytes = virtualHosts.get(key, () => encodeUnchecked('envoy.config.route.v3.VirtualHost', host));
    parts.push(Buffer.from(protobuf.Writer.create().uint32((2 << 3) | 2).uint32(bytes.length).finish()), bytes);
  }
  return Buffer.concat(parts);
}
