// CustomResourceDefinitions as kube-apiserver's apiextensions-apiserver handles them: defaulting and
// validation on write, the naming and establishing controllers (status.acceptedNames, NamesAccepted,
// Established), what an established CRD serves, and the cleanup its deletion goes through. Pure:
// test/kube/api-server.ts stores the objects and applies these.
import type { ResourceType } from './api-server.ts';
import { canonical, type FieldError, type Schema } from './openapi-schema.ts';

type Obj = Record<string, any>;
type Condition = { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; lastTransitionTime?: string };

export const CRD_TYPE: ResourceType = {
  group: 'apiextensions.k8s.io', versions: ['v1'], kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions',
  namespaced: false, status: true, generation: true, builtin: true,
};
/** Added when a CRD is deleted; removed once its custom resources are gone. */
export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const APPROVAL = 'api-approved.kubernetes.io';

const VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
/** Kubernetes version priority (kube-aware sort): GA, then beta, then alpha, higher numbers first; other names last, by name. */
export function compareVersions(a: string, b: string): number {
  const [ma, mb] = [a.match(VERSION), b.match(VERSION)];
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  const stability = (m: RegExpMatchArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  return stability(mb) - stability(ma) || Number(mb[1]) - Number(ma[1]) || Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

/** apiextensions v1 defaults: singular and listKind from kind, conversion None. */
export function defaultCrd(crd: Obj): void {
  const names = crd.spec?.names;
  if (names?.kind) {
    names.singular ||= names.kind.toLowerCase();
    names.listKind ||= `${names.kind}List`;
  }
  if (crd.spec && !crd.spec.conversion) crd.spec.conversion = { strategy: 'None' };
}

const required = (field: string, detail = ''): FieldError => ({ reason: 'FieldValueRequired', field, message: `Required value${detail ? `: ${detail}` : ''}` });
const invalid = (field: string, value: unknown, detail: string): FieldError => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
const protectedGroup = (g: string) => g === 'k8s.io' || g.endsWith('.k8s.io') || g === 'kubernetes.io' || g.endsWith('.kubernetes.io');

/** What kube's CRD validation refuses (the subset a malformed manifest trips over); `old` on update. */
export function validateCrd(crd: Obj, old?: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const spec = crd.spec ?? {};
  const group: string = spec.group ?? '';
  const names = spec.names ?? {};
  if (!group) errors.push(required('spec.group'));
  else if (!group.includes('.')) errors.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  if (crd.metadata.name !== `${names.plural}.${group}`) errors.push(invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (protectedGroup(group)) {
    const approval = crd.metadata.annotations?.[APPROVAL];
    const field = `metadata.annotations[${APPROVAL}]`;
    if (approval === undefined) errors.push(required(field, `protected groups must have approval annotation "${APPROVAL}", see https://github.com/kubernetes/enhancements/pull/1111`));
    else if (!approval.startsWith('unapproved') && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(approval)) {
      errors.push(invalid(field, approval, `protected groups must have approval annotation "${APPROVAL}" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`));
    }
  }
  if (!names.plural) errors.push(required('spec.names.plural'));
  if (!names.kind) errors.push(required('spec.names.kind'));
  if (!spec.scope) errors.push(required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errors.push({ reason: 'FieldValueNotSupported', field: 'spec.scope', message: `Unsupported value: ${JSON.stringify(spec.scope)}: supported values: "Cluster", "Namespaced"` });
  if (old && old.spec.scope !== spec.scope) errors.push(invalid('spec.scope', spec.scope, 'field is immutable'));
  const versions: Obj[] = spec.versions ?? [];
  if (versions.length === 0) errors.push(required('spec.versions'));
  else if (versions.filter((v) => v.storage).length !== 1) errors.push(invalid('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!v.name) errors.push(required(`${at}.name`));
    else if (versions.findIndex((w) => w.name === v.name) < i) errors.push({ reason: 'FieldValueDuplicate', field: `${at}.name`, message: `Duplicate value: ${JSON.stringify(v.name)}` });
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errors.push(required(`${at}.schema.openAPIV3Schema`, 'schemas are required'));
    else if (schema.type !== 'object') errors.push(schema.type ? invalid(`${at}.schema.openAPIV3Schema.type`, schema.type, 'must be object at the root') : required(`${at}.schema.openAPIV3Schema.type`, 'must not be empty at the root'));
    else errors.push(...structuralErrors(schema, `${at}.schema.openAPIV3Schema`));
  });
  (crd.status?.storedVersions ?? []).forEach((stored: string, i: number) => {
    if (!versions.some((v) => v.name === stored)) errors.push(invalid(`status.storedVersions[${i}]`, stored, 'must appear in spec.versions'));
  });
  return errors;
}

/** A structural schema specifies a type for every field below the root (unless it is int-or-string or preserves unknown fields). */
function structuralErrors(schema: Schema, path: string): FieldError[] {
  const typed = (s: Schema) => s.type || s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields'];
  const errors: FieldError[] = [];
  for (const [name, sub] of Object.entries<Schema>(schema.properties ?? {})) {
    const at = `${path}.properties[${name}]`;
    if (!typed(sub)) errors.push(required(`${at}.type`, 'must not be empty for specified object fields'));
    errors.push(...structuralErrors(sub, at));
  }
  for (const [child, detail] of [['items', 'array items'], ['additionalProperties', 'additionalProperties']] as const) {
    const sub = schema[child];
    if (typeof sub !== 'object' || sub === null) continue;
    if (!typed(sub)) errors.push(required(`${path}.${child}.type`, `must not be empty for specified ${detail}`));
    errors.push(...structuralErrors(sub, `${path}.${child}`));
  }
  return errors;
}

/** status.storedVersions: every version that was ever the storage version (kube appends the new one on create and update). */
export function storedVersions(crd: Obj, previous: string[] = []): string[] {
  const storage = (crd.spec?.versions ?? []).find((v: Obj) => v.storage)?.name;
  return storage && !previous.includes(storage) ? [...previous, storage] : previous;
}

const condition = (crd: Obj, type: string): Condition | undefined => crd.status?.conditions?.find((c: Condition) => c.type === type);
const isTrue = (crd: Obj, type: string) => condition(crd, type)?.status === 'True';
export const established = (crd: Obj) => isTrue(crd, 'Established');

/** kube's SetCRDCondition: lastTransitionTime moves only when the status does. */
export function withCondition(status: Obj, next: Condition, now: string): Obj {
  const conditions: Condition[] = [...(status.conditions ?? [])];
  const i = conditions.findIndex((c) => c.type === next.type);
  const lastTransitionTime = i >= 0 && conditions[i].status === next.status ? conditions[i].lastTransitionTime : now;
  const c = { ...next, lastTransitionTime };
  if (i >= 0) conditions[i] = c; else conditions.push(c);
  return { ...status, conditions };
}

/**
 * The next status write of the CRD controllers, or undefined when they have nothing to do: the naming
 * controller (accepts the names no other CRD of the group holds: NamesAccepted; Established=False/Installing
 * until the next step), then the establishing controller (Established=True once the names are accepted).
 */
export function nextStatus(crd: Obj, group: Obj[], now: string): Obj | undefined {
  const status: Obj = crd.status ?? {};
  const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);
  if (!same(crd.spec.names, status.acceptedNames)) {
    const named = naming(crd, group);
    const { lastTransitionTime: _t, ...had } = condition(crd, 'NamesAccepted') ?? {};
    if (!same(named.names, status.acceptedNames) || !same(named.accepted, had)) return withCondition(withCondition({ ...status, acceptedNames: named.names }, named.accepted, now), named.established, now);
  }
  if (isTrue(crd, 'NamesAccepted') && !established(crd)) {
    return withCondition(status, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, now);
  }
  return undefined;
}

function naming(crd: Obj, group: Obj[]): { names: Obj; accepted: Condition; established: Condition } {
  const used = new Set<string>(), kinds = new Set<string>();
  for (const other of group) {
    const n = other.status?.acceptedNames ?? {};
    for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) used.add(r);
    for (const k of [n.kind, n.listKind]) if (k) kinds.add(k);
  }
  const requested = crd.spec.names;
  const have: Obj = crd.status?.acceptedNames ?? {};
  const names: Obj = { ...have };
  let accepted: Condition = { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  const conflict = (reason: string, name: string) => { accepted = { type: 'NamesAccepted', status: 'False', reason, message: `"${name}" is already in use` }; };
  const fresh = (want: string | undefined, held: string | undefined, taken: Set<string>) => !want || want === held || !taken.has(want);
  for (const [field, reason, taken] of [['plural', 'PluralConflict', used], ['singular', 'SingularConflict', used], ['kind', 'KindConflict', kinds], ['listKind', 'ListKindConflict', kinds]] as const) {
    if (fresh(requested[field], have[field], taken)) names[field] = requested[field];
    else conflict(reason, requested[field]);
  }
  const ownShort = new Set<string>(have.shortNames ?? []);
  const takenShort = (requested.shortNames ?? []).find((s: string) => !ownShort.has(s) && used.has(s));
  if (takenShort) conflict('ShortNamesConflict', takenShort);
  else if (requested.shortNames) names.shortNames = requested.shortNames;
  if (requested.categories) names.categories = requested.categories;
  const before = condition(crd, 'Established');
  const establishedNow: Condition = before?.status === 'True' ? before
    : accepted.status === 'True' ? { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' }
    : before ?? { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' };
  return { names, accepted, established: establishedNow };
}

/** The type of an established CRD's custom resources at `versions`, under its accepted names. */
export function customResourceType(crd: Obj, versions: string[] = [], status = false): ResourceType {
  const { kind, plural } = crd.status.acceptedNames;
  return { group: crd.spec.group, versions, kind, plural, namespaced: crd.spec.scope === 'Namespaced', status, generation: true, builtin: false };
}

/** The resource types an established CRD serves: its served versions, by priority, split where the status subresource differs. */
export function servedTypes(crd: Obj): ResourceType[] {
  const versions: Obj[] = crd.spec.versions.filter((v: Obj) => v.served).sort((a: Obj, b: Obj) => compareVersions(a.name, b.name));
  return [true, false]
    .map((status) => customResourceType(crd, versions.filter((v) => (v.subresources?.status !== undefined) === status).map((v) => v.name), status))
    .filter((t) => t.versions.length > 0);
}

export const schemaOf = (crd: Obj, version: string): Schema | undefined =>
  crd.spec.versions.find((v: Obj) => v.name === version)?.schema?.openAPIV3Schema;
