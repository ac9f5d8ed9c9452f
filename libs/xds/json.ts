// Proto3 JSON mapping of encoded Envoy resources, as Envoy's own config dump prints them: camelCase
// names, "@type" on Any, "5s" durations, unwrapped wrappers, defaults left out, and the fields Envoy
// marks (udpa.annotations.sensitive) redacted.
import protobuf from 'protobufjs';
import { lookupType } from './protos.ts';
import { TYPE_PREFIX } from './type-urls.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const REDACTED = '[redacted]';
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value', 'google.protobuf.Int32Value', 'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue',
]);

function jsonName(field: protobuf.Field): string {
  return field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isSensitive(field: protobuf.Field): boolean {
  return field.options?.['(udpa.annotations.sensitive)'] === true;
}

function duration(seconds: number, nanos: number): string {
  const sign = seconds < 0 || nanos < 0 ? '-' : '';
  const s = Math.abs(seconds);
  const n = Math.abs(nanos);
  if (n === 0) return `${sign}${s}s`;
  const digits = n % 1_000_000 === 0 ? 3 : n % 1000 === 0 ? 6 : 9;
  const frac = String(n).padStart(9, '0').slice(0, digits);
  return `${sign}${s}.${frac}s`;
}

function toNumber(v: unknown): number {
  // protobufjs gives int64 fields as Long objects when the `long` package is present.
  return typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : Number(v ?? 0);
}

function scalar(field: protobuf.Field, value: unknown, redact: boolean): Json {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[value as number];
    return name ?? (value as number);
  }
  if (redact && (field.type === 'string' || field.type === 'bytes')) return REDACTED;
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (LONG_TYPES.has(field.type)) return String(value);
  if ((field.type === 'double' || field.type === 'float') && !Number.isFinite(value as number)) {
    return Number.isNaN(value) ? 'NaN' : (value as number) > 0 ? 'Infinity' : '-Infinity';
  }
  return value as Json;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.repeated) return (value as unknown[]).length === 0;
  if (field.map) return Object.keys(value as object).length === 0;
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (field.hasPresence) return false; // proto3 `optional` and oneof members print when set
  if (field.type === 'bytes') return (value as Uint8Array).length === 0;
  if (LONG_TYPES.has(field.type)) return String(value) === '0';
  return value === 0 || value === '' || value === false;
}

function fieldValue(field: protobuf.Field, value: unknown, redact: boolean): Json {
  field.resolve();
  const child = field.resolvedType;
  const one = (v: unknown): Json => (child instanceof protobuf.Type ? message(child, v as protobuf.Message, redact) : scalar(field, v, redact));
  if (field.map) {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, one(v)]));
  }
  if (field.repeated) return (value as unknown[]).map(one);
  return one(value);
}

function message(type: protobuf.Type, msg: protobuf.Message, redact: boolean): Json {
  const name = type.fullName.slice(1);
  const m = msg as unknown as Record<string, unknown>;
  if (name === 'google.protobuf.Any') return anyToJson(m.type_url as string, m.value as Uint8Array, redact);
  if (name === 'google.protobuf.Duration') return duration(toNumber(m.seconds), toNumber(m.nanos));
  if (name === 'google.protobuf.Timestamp') {
    return new Date(toNumber(m.seconds) * 1000 + Math.floor(toNumber(m.nanos) / 1e6)).toISOString();
  }
  if (WRAPPERS.has(name)) return scalar(type.fields.value, m.value ?? type.fields.value.defaultValue, redact);
  if (name === 'google.protobuf.Struct') {
    const fields = (m.fields ?? {}) as Record<string, protobuf.Message>;
    const valueType = type.fields.fields.resolve().resolvedType as protobuf.Type;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, message(valueType, v, redact)]));
  }
  if (name === 'google.protobuf.Value') {
    const kind = type.oneofs.kind.oneof.find((f) => m[f] !== undefined && m[f] !== null);
    if (!kind || kind === 'null_value') return null;
    return fieldValue(type.fields[kind], m[kind], redact);
  }
  if (name === 'google.protobuf.ListValue') {
    return fieldValue(type.fields.values, m.values ?? [], redact);
  }
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(m, field.name)) continue;
    const value = m[field.name];
    if (value === null || value === undefined || isDefault(field, value)) continue;
    out[jsonName(field)] = fieldValue(field, value, redact || isSensitive(field));
  }
  return out;
}

/** One resource, as Envoy's config dump prints it: `{"@type": ..., ...fields}`. */
export function anyToJson(typeUrl: string, bytes: Uint8Array, redact = false): Json {
  const typeName = typeUrl.startsWith(TYPE_PREFIX) ? typeUrl.slice(TYPE_PREFIX.length) : typeUrl;
  const type = lookupType(typeName);
  const body = message(type, type.decode(bytes), redact);
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) return { '@type': typeUrl, ...body };
  return { '@type': typeUrl, value: body };
}
