// Reading a directory of Kubernetes YAML manifests. Parsing is pure (`parseManifestText`); only
// `loadManifestDir` touches the file system. A bad document is a problem value naming its file and
// document index, and never hides the other documents of the same file.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../translator/api.ts';

/** Where a document was read: a path (relative to the manifests directory) and its 0-based index. */
export interface ManifestOrigin {
  path: string;
  document: number;
}

export interface ManifestObject {
  object: KubeObject;
  origin: ManifestOrigin;
}

/** What could be told about a document that is not a valid object, so a status can still name it. */
export interface ManifestIdentity {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ManifestProblem {
  path: string;
  document: number;
  message: string;
  /**
   * `syntax`: the YAML does not parse (its content cannot be trusted); `shape`: it parses but is
   * not a usable object; `read`: the file could not be read at all.
   */
  severity: 'syntax' | 'shape' | 'read';
  /** Set when kind and name could be read despite the problem; `raw` is the document as written. */
  identity?: ManifestIdentity;
  raw?: Record<string, unknown>;
}

export interface ManifestSet {
  objects: ManifestObject[];
  problems: ManifestProblem[];
  /** Every manifest file seen (relative paths), readable or not. */
  files: string[];
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Checks one parsed document; returns the object or why it is not one. */
function checkObject(value: unknown): { ok: true; object: KubeObject } | { ok: false; message: string; identity?: ManifestIdentity } {
  if (!isMapping(value)) return { ok: false, message: `document is not a mapping (got ${Array.isArray(value) ? 'a sequence' : typeof value})` };
  const metadata = value.metadata;
  const kind = value.kind;
  const name = isMapping(metadata) ? metadata.name : undefined;
  const namespace = isMapping(metadata) ? metadata.namespace : undefined;
  const missing: string[] = [];
  if (!nonEmptyString(value.apiVersion)) missing.push('apiVersion');
  if (!nonEmptyString(kind)) missing.push('kind');
  if (!isMapping(metadata)) missing.push('metadata');
  else if (!nonEmptyString(name)) missing.push('metadata.name');
  if (isMapping(metadata) && namespace !== undefined && namespace !== null && typeof namespace !== 'string') {
    return { ok: false, message: 'metadata.namespace is not a string' };
  }
  if (missing.length === 0) return { ok: true, object: value as KubeObject };
  const identity = nonEmptyString(kind) && nonEmptyString(name)
    ? { kind, name, ...(nonEmptyString(namespace) ? { namespace } : {}), ...(nonEmptyString(value.apiVersion) ? { apiVersion: value.apiVersion } : {}) }
    : undefined;
  return { ok: false, message: `missing ${missing.join(', ')}`, identity };
}

/**
 * Parses one file's text: every YAML document, `kind: List` items expanded (they keep their
 * document's index). Empty documents (a trailing `---`, only comments) are skipped silently.
 */
export function parseManifestText(text: string, path: string): { objects: ManifestObject[]; problems: ManifestProblem[] } {
  const objects: ManifestObject[] = [];
  const problems: ManifestProblem[] = [];
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true });
  } catch (err) {
    problems.push({ path, document: 0, severity: 'syntax', message: `YAML does not parse: ${(err as Error).message}` });
    return { objects, problems };
  }
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, document) => {
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      const at = first.linePos ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
      problems.push({ path, document, severity: 'syntax', message: `YAML syntax error${at}: ${first.message.split('\n')[0]}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      problems.push({ path, document, severity: 'syntax', message: `YAML does not resolve: ${(err as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return;
    const addOne = (v: unknown, where: string) => {
      const checked = checkObject(v);
      if (checked.ok) objects.push({ object: checked.object, origin: { path, document } });
      else problems.push({
        path, document, severity: 'shape', message: `${where}${checked.message}`,
        ...(checked.identity ? { identity: checked.identity, raw: v as Record<string, unknown> } : {}),
      });
    };
    if (isMapping(value) && value.kind === 'List' && (value.items === undefined || value.items === null || Array.isArray(value.items))) {
      ((value.items as unknown[] | null | undefined) ?? []).forEach((item, i) => addOne(item, `List item ${i}: `));
      return;
    }
    addOne(value, '');
  });
  return { objects, problems };
}

const isManifestFile = (name: string) => name.endsWith('.yaml') || name.endsWith('.yml');

/** Every `*.yaml`/`*.yml` under `dir`, recursively, skipping dot-files and dot-directories; sorted. */
export async function listManifestFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    const entries = await readdir(at, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(at, e.name);
      if (e.isDirectory()) await walk(full);
      else if ((e.isFile() || e.isSymbolicLink()) && isManifestFile(e.name)) out.push(full);
    }
  };
  await walk(dir);
  return out.map((f) => relative(dir, f).split(sep).join('/')).sort();
}

/** Reads and parses every manifest under `dir`. Paths in origins and problems are relative to `dir`. */
export async function loadManifestDir(dir: string): Promise<ManifestSet> {
  const files = await listManifestFiles(dir);
  const objects: ManifestObject[] = [];
  const problems: ManifestProblem[] = [];
  for (const path of files) {
    let text: string;
    try {
      text = await readFile(join(dir, path), 'utf8');
    } catch (err) {
      // Vanished between listing and reading (an editor's rename): the next pass sees the truth.
      problems.push({ path, document: 0, severity: 'read', message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const parsed = parseManifestText(text, path);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  return { objects, problems, files };
}

/** JSON with object keys sorted at every level: the same object always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value));
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (isMapping(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeysDeep(value[k]);
    return out;
  }
  return value;
}

/**
 * Keeps a broken file's last good objects: a file with a problem that hides content (a syntax
 * error, a document without kind or name, a failed read) contributes what it held the last time it
 * read cleanly; a clean file updates `lastGood`. `held` lists broken files served from `lastGood`,
 * `unknown` broken files never read cleanly (their content is unknown, so nothing may be deleted).
 */
export function withLastGoodFiles(set: ManifestSet, lastGood: Map<string, ManifestObject[]>): { objects: ManifestObject[]; held: string[]; unknown: string[] } {
  const broken = new Set(set.problems.filter((p) => p.severity !== 'shape' || !p.identity).map((p) => p.path));
  const byFile = new Map<string, ManifestObject[]>();
  for (const o of set.objects) byFile.set(o.origin.path, [...(byFile.get(o.origin.path) ?? []), o]);
  const objects: ManifestObject[] = [];
  const held: string[] = [];
  const unknown: string[] = [];
  for (const path of set.files) {
    const now = byFile.get(path) ?? [];
    if (!broken.has(path)) {
      lastGood.set(path, now);
      objects.push(...now);
    } else if (lastGood.has(path)) {
      held.push(path);
      objects.push(...lastGood.get(path)!);
    } else {
      unknown.push(path);
      objects.push(...now);
    }
  }
  for (const path of [...lastGood.keys()]) if (!set.files.includes(path)) lastGood.delete(path);
  return { objects, held, unknown };
}
