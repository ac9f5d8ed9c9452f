// What kube-apiserver does with a custom resource and its CRD's structural OpenAPI v3 schema, in
// its order: prune the fields the schema does not know, apply defaults, then validate. Used by
// test/kube/api-server.ts; pure.
//
// Validated as kube does it: type (and x-kubernetes-int-or-string), nullable, enum, required,
// properties, additionalProperties, items, min/max Length, Items, Properties, minimum/maximum
// (exclusive too), multipleOf, pattern, the formats ipv4, ipv6 and date-time, allOf/anyOf/oneOf/not,
// and x-kubernetes-list-type set/map uniqueness. Not evaluated: CEL rules
// (x-kubernetes-validations), other formats, x-kubernetes-embedded-resource.
import { isIPv4, isIPv6 } from 'node:net';

export type Schema = Record<string, any>;
type Obj = Record<string, any>;

/** One field error, shaped like kube's field.Error in a Status' details.causes. */
export interface FieldError { reason: string; field: string; message: string }

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const preserves = (s: Schema) => s['x-kubernetes-preserve-unknown-fields'] === true;
/** The root's apiVersion, kind and metadata are the API machinery's, never the schema's to prune or default. */
const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** Drops what the schema does not specify (kube's structural pruning); `preserve-unknown-fields` keeps it. */
export function prune(value: unknown, schema: Schema, root = false): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) prune(item, schema.items);
    return;
  }
  if (!isObj(value)) return;
  for (const key of Object.keys(value)) {
    if (root && ROOT_FIELDS.has(key)) continue;
    const sub = schema.properties?.[key] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
    if (sub) prune(value[key], sub);
    else if (!preserves(schema) && schema.additionalProperties !== true) delete value[key];
  }
}

/** Fills absent (and non-nullable null) fields from `default`, then defaults inside them; drops other non-nullable nulls. */
export function applyDefaults(value: unknown, schema: Schema, root = false): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isObj(value)) return;
  for (const [key, sub] of Object.entries<Schema>(schema.properties ?? {})) {
    if (root && ROOT_FIELDS.has(key)) continue;
    const absent = !(key in value) || (value[key] === null && !sub.nullable);
    if (absent && sub.default !== undefined) value[key] = structuredClone(sub.default);
    else if (value[key] === null && !sub.nullable) delete value[key];
  }
  for (const [key, v] of Object.entries(value)) {
    if (root && ROOT_FIELDS.has(key)) continue;
    const sub = schema.properties?.[key] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
    if (sub) applyDefaults(v, sub);
  }
}

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

function hasType(v: unknown, schema: Schema): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || Number.isInteger(v);
  switch (schema.type) {
    case undefined: return true;
    case 'object': return isObj(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    default: return false;
  }
}

const FORMATS: Record<string, (s: string) => boolean> = {
  ipv4: isIPv4,
  ipv6: isIPv6,
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))),
};

const patterns = new Map<string, RegExp>();
const pattern = (p: string) => patterns.get(p) ?? patterns.set(p, new RegExp(p)).get(p)!;

/** A stable text for deep equality: object keys sorted. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (isObj(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });

/** The errors of `value` against `schema` at `path` (kube's field paths: `spec.listeners[0].name`). */
export function validate(value: unknown, schema: Schema, path: string, root = false): FieldError[] {
  const errors: FieldError[] = [];
  const where = path || '<root>';
  if (value === null && schema.nullable) return errors;
  if (!hasType(value, schema)) {
    const want = schema['x-kubernetes-int-or-string'] ? 'integer or string' : schema.type;
    return [{ reason: 'FieldValueTypeInvalid', field: where, message: `Invalid value: "${typeName(value)}": ${where} in body must be of type ${want}: "${typeName(value)}"` }];
  }
  if (schema.enum && !schema.enum.some((e: unknown) => canonical(e) === canonical(value))) {
    errors.push({ reason: 'FieldValueNotSupported', field: where, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e: unknown) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      errors.push({ reason: 'FieldValueTooLong', field: where, message: `Too long: may not be more than ${schema.maxLength} bytes` });
    }
    if (schema.minLength !== undefined && length < schema.minLength) errors.push(invalid(where, value, `${where} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined && !pattern(schema.pattern).test(value)) errors.push(invalid(where, value, `${where} in body should match '${schema.pattern}'`));
    const format = FORMATS[schema.format];
    if (format && !format(value)) {
      errors.push({ reason: 'FieldValueTypeInvalid', field: where, message: `Invalid value: ${JSON.stringify(value)}: ${where} in body must be of type ${schema.format}: ${JSON.stringify(value)}` });
    }
  }
  if (typeof value === 'number') {
    const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
    if (minimum !== undefined && (exclusiveMinimum ? value <= minimum : value < minimum)) {
      errors.push(invalid(where, value, `${where} in body should be greater than ${exclusiveMinimum ? '' : 'or equal to '}${minimum}`));
    }
    if (maximum !== undefined && (exclusiveMaximum ? value >= maximum : value > maximum)) {
      errors.push(invalid(where, value, `${where} in body should be less than ${exclusiveMaximum ? '' : 'or equal to '}${maximum}`));
    }
    if (multipleOf !== undefined && !Number.isInteger(value / multipleOf)) errors.push(invalid(where, value, `${where} in body should be a multiple of ${multipleOf}`));
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push({ reason: 'FieldValueTooMany', field: where, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    }
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(invalid(where, value.length, `${where} in body should have at least ${schema.minItems} items`));
    if (schema.items) value.forEach((item, i) => errors.push(...validate(item, schema.items, `${path}[${i}]`)));
    errors.push(...listDuplicates(value, schema, path));
  }
  if (isObj(value)) {
    for (const key of schema.required ?? []) {
      if (!(key in value)) errors.push({ reason: 'FieldValueRequired', field: path ? `${path}.${key}` : key, message: 'Required value' });
    }
    const count = Object.keys(value).length;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      errors.push({ reason: 'FieldValueTooMany', field: where, message: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
    }
    if (schema.minProperties !== undefined && count < schema.minProperties) errors.push(invalid(where, count, `${where} in body should have at least ${schema.minProperties} properties`));
    for (const [key, v] of Object.entries(value)) {
      if (root && ROOT_FIELDS.has(key)) continue;
      const sub = schema.properties?.[key] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (sub) errors.push(...validate(v, sub, schema.properties?.[key] ? (path ? `${path}.${key}` : key) : `${path}[${key}]`));
    }
  }
  const passes = (s: Schema) => validate(value, s, path).length === 0;
  for (const s of schema.allOf ?? []) errors.push(...validate(value, s, path));
  if (schema.anyOf && !schema.anyOf.some(passes)) errors.push(invalid(where, value, `${where} in body must validate at least one schema (anyOf)`));
  if (schema.oneOf && schema.oneOf.filter(passes).length !== 1) errors.push(invalid(where, value, `${where} in body must validate one and only one schema (oneOf)`));
  if (schema.not && passes(schema.not)) errors.push(invalid(where, value, `${where} in body must not validate the schema (not)`));
  return errors;
}

/** x-kubernetes-list-type: set (no equal items) and map (no two items with the same map keys). */
function listDuplicates(list: unknown[], schema: Schema, path: string): FieldError[] {
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== 'set' && listType !== 'map') return [];
  const keys: string[] = schema['x-kubernetes-list-map-keys'] ?? [];
  const identity = (item: unknown) =>
    listType === 'set' || !isObj(item) ? item : Object.fromEntries(keys.filter((k) => k in item).map((k) => [k, item[k]]));
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  list.forEach((item, i) => {
    const id = canonical(identity(item));
    if (seen.has(id)) errors.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${JSON.stringify(identity(item))}` });
    seen.add(id);
  });
  return errors;
}
