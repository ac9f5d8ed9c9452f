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

interface FieldShape {
  repeated: boolean;
  map: boolean;
  /** Message fields: the message type. */
  message?: protobuf.Type;
  /** Enum fields: value numbers by name. */
  enumValues?: Record<string, number>;
  /** Scalar fields: the proto type. */
  scalar?: string;
}

/** Per message type, its fields resolved once (resolving on every check costs more than the check). */
const shapes = new WeakMap<protobuf.Type, Map<string, FieldShape>>();

function shapeOf(type: protobuf.Type): Map<string, FieldShape> {
  let shape = shapes.get(type);
  if (shape) return shape;
  shape = new Map();
  for (const field of type.fieldsArray) {
    field.resolve();
    const child = field.resolvedType;
    const out: FieldShape = { repeated: field.repeated, map: field.map };
    if (child instanceof protobuf.Enum) out.enumValues = child.values;
    else if (child) out.message = child as protobuf.Type;
    else out.scalar = field.type;
    shape.set(field.name, out);
  }
  shapes.set(type, shape);
  return shape;
}

function enumNumber(shape: FieldShape, v: unknown, top: string, path: string): number {
  if (typeof v === 'number') return v;
  const n = typeof v === 'string' ? shape.enumValues![v] : undefined;
  if (n === undefined) throw new ProtoShapeError(top, path, `expected an enum value, got ${typeof v} ${JSON.stringify(v)}`);
  return n;
}

/**
 * Checks `value` against the message type and returns it ready for protobufjs' encoder: the same
 * object, or a copy where enum names were replaced by their numbers (the encoder writes numbers;
 * protobufjs' fromObject would convert them too, but it also copies every message, which costs
 * more than the encode itself).
 */
function checkMessage(type: protobuf.Type, value: unknown, path: string, top: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new ProtoShapeError(top, path, `expected a ${nameOf(type)} object`);
  if (nameOf(type) === 'google.protobuf.Any') {
    if (typeof value.type_url !== 'string' || !(value.value instanceof Uint8Array)) {
      throw new ProtoShapeError(top, path, 'Any must be built with pack() (type_url + encoded value)');
    }
    return value;
  }
  const shape = shapeOf(type);
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const fieldValue = value[key];
    if (fieldValue === undefined || fieldValue === null) continue;
    const field = shape.get(key);
    if (!field) {
      if (type.oneofs?.[key]) continue; // the virtual oneof discriminator written by --oneofs
      throw new ProtoShapeError(top, `${path}.${key}`, `unknown field "${key}" of ${nameOf(type)}`);
    }
    const at = `${path}.${key}`;
    let next: unknown = fieldValue;
    if (field.message) {
      const child = field.message;
      if (field.map) {
        if (!isPlainObject(fieldValue)) throw new ProtoShapeError(top, at, 'expected a map');
        next = mapValues(fieldValue, (v, k) => checkMessage(child, v, `${at}[${k}]`, top));
      } else if (field.repeated) {
        if (!Array.isArray(fieldValue)) throw new ProtoShapeError(top, at, 'expected a list');
        next = sameOrCopy(fieldValue, (v, i) => checkMessage(child, v, `${at}[${i}]`, top));
      } else {
        next = checkMessage(child, fieldValue, at, top);
      }
    } else if (field.enumValues) {
      if (field.map) next = mapValues(fieldValue as Record<string, unknown>, (v) => enumNumber(field, v, top, at));
      else if (field.repeated) next = sameOrCopy(Array.isArray(fieldValue) ? fieldValue : [fieldValue], (v) => enumNumber(field, v, top, at));
      else next = enumNumber(field, fieldValue, top, at);
    } else {
      // protobufjs would coerce a wrong JS type (e.g. "8080" for a uint32) silently.
      const values = field.repeated ? (Array.isArray(fieldValue) ? fieldValue : [fieldValue]) : field.map ? Object.values(fieldValue as object) : [fieldValue];
      for (const v of values) {
        if (!scalarFits(field.scalar!, v)) throw new ProtoShapeError(top, at, `expected ${field.scalar}, got ${typeof v} ${JSON.stringify(v)}`);
      }
    }
    if (next !== fieldValue) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function sameOrCopy(list: unknown[], check: (v: unknown, i: number) => unknown): unknown[] {
  let out: unknown[] | undefined;
  list.forEach((v, i) => {
    const next = check(v, i);
    if (next !== v) (out ??= [...list])[i] = next;
  });
  return out ?? list;
}

function mapValues(map: Record<string, unknown>, check: (v: unknown, k: string) => unknown): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(map)) {
    const next = check(v, k);
    if (next !== v) (out ??= { ...map })[k] = next;
  }
  return out ?? map;
}

/** Encodes a message of a known Envoy type, rejecting any field the descriptor does not have. */
export function encode<K extends EnvoyTypeName>(typeName: K, message: EnvoyTypes[K]): Buffer {
  return encodeUnchecked(typeName, message);
}

/** Encoding by a type name known only at run time (resources read back from a snapshot). */
export function encodeUnchecked(typeName: string, message: unknown): Buffer {
  const type = lookupType(typeName);
  return type.encode(checkMessage(type, message, '', typeName)).finish() as Buffer;
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
 * Encoded virtual hosts by object: the translator hands over the very same object while a virtual
 * host is unchanged (and never changes a message once built), so an unchanged one costs a lookup.
 * Not by content: a digest of it (JSON, hash) costs about as much as the encode it would save.
 */
const encodedHosts = new WeakMap<object, Buffer>();

/**
 * A RouteConfiguration encoded with each virtual host encoded on its own and reused while it is the
 * same object: one route change among thousands re-encodes one virtual host, not the
 * configuration. The virtual hosts (field 2) follow the other fields on the wire; protobuf parsers
 * accept fields in any order, and the bytes are still a function of the content.
 */
export function encodeRouteConfiguration(rc: EnvoyTypes['envoy.config.route.v3.RouteConfiguration']): Buffer {
  const { virtual_hosts: hosts = [], ...rest } = rc;
  const head = encode('envoy.config.route.v3.RouteConfiguration', rest);
  const bodies = hosts.map((host) => {
    let bytes = encodedHosts.get(host);
    if (!bytes) encodedHosts.set(host, (bytes = encodeUnchecked('envoy.config.route.v3.VirtualHost', host)));
    return bytes;
  });
  // Written into one buffer: each virtual host as field 2 (tag, varint length, bytes).
  let size = head.length;
  for (const b of bodies) size += 1 + varintLength(b.length) + b.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  bodies.forEach((b, i) => {
    out[at++] = (2 << 3) | 2;
    for (let n = b.length; ; n >>>= 7) {
      if (n < 0x80) {
        out[at++] = n;
        break;
      }
      out[at++] = (n & 0x7f) | 0x80;
    }
    out.set(b, at);
    // From now on the cache points into this configuration's bytes: one copy of each virtual host
    // is kept, not two, and an older configuration's bytes are not kept alive by the cache.
    encodedHosts.set(hosts[i], out.subarray(at, (at += b.length)));
  });
  return out;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n >>>= 7;
    length++;
  }
  return length;
}
