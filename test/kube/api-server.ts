// A test API server that stands in for kube-apiserver: no Kubernetes API server can run on these
// machines, so the Kubernetes-mode services are tested against this one, through the unmodified
// `@kubernetes/client-node`. It follows the Kubernetes API conventions (api-concepts,
// api-conventions), not Gantry's needs: when they disagree, change Gantry, not this file.
//
// What it implements, as kube-apiserver does it:
// - the built-in types deploy/ renders and the services read (CORE_TYPES: core Namespace, ServiceAccount,
//   Secret, ConfigMap, Service, PersistentVolumeClaim; EndpointSlice, Deployment, StatefulSet, the RBAC
//   kinds, PodDisruptionBudget, ValidatingAdmissionPolicy(Binding), Lease, CustomResourceDefinition),
//   plus the Gateway API types as if their CRDs were installed (GATEWAY_API_TYPES; `gatewayApi: false`
//   leaves them to CRDs created through the API);
// - discovery: /api, /api/v1, /apis, /apis/<group>/<version> (APIVersions, APIGroupList, APIResourceList,
//   with `<plural>/status` listed for types that have the status subresource); a group's preferred
//   version is its highest by Kubernetes version priority (v1 > v1beta1 > v1alpha2);
// - one store per resource (group + plural), served at every version of the group that lists it
//   with only `apiVersion` rewritten (what a CRD with conversion strategy None does);
// - CustomResourceDefinitions (test/kube/crd.ts): validated (name = plural.group, one storage version,
//   a structural schema per version, the api-approved.kubernetes.io annotation on *.k8s.io groups,
//   immutable scope) and defaulted (singular, listKind, conversion None) on write; then, as kube's
//   controllers do right after, status.acceptedNames and NamesAccepted (names another CRD of the
//   group holds are refused: *Conflict) and Established, each one status write; an established CRD's
//   served versions are served and listed (the status subresource per version), and its custom
//   resources are pruned of unknown fields, defaulted and validated against the version's schema
//   (test/kube/openapi-schema.ts: not CEL rules, not most formats) and 422 Invalid with causes;
//   deleting a CRD adds the cleanup finalizer and Terminating, deletes every custom resource, then the
//   CRD, stops serving it and ends its watches (creates meanwhile: 405). A CRD for a resource also in
//   the constructor's types takes it over while established. A resource nobody serves is 404;
// - a global resourceVersion counter (etcd's revision): every write bumps it, a write that changes
//   nothing bumps nothing and sends no event;
// - LIST: resourceVersion unset (most recent), "0" / NotOlderThan (any at least that new), Exact (the
//   state at that revision, rebuilt from the retained history); `limit` + `continue` tokens that
//   pin the list's revision, so pages are one consistent snapshot; 410 Expired for a continue token
//   or an Exact revision older than the compaction; label selectors (=, ==, !=, exists, !exists,
//   in, notin) and field selectors on metadata.name / metadata.namespace;
// - WATCH (`?watch=true`): a chunked stream of JSON lines {type, object}: ADDED/MODIFIED/DELETED, BOOKMARK
//   every `bookmarkIntervalMs` with `allowWatchBookmarks=true` (an object holding only kind,
//   apiVersion and metadata.resourceVersion), resuming after the given resourceVersion from the
//   retained history; unset or "0" starts with synthetic ADDED events for the current state. A
//   revision older than the compaction gets HTTP 200 then one ERROR event whose object is a Status
//   with code 410 (reason Expired), and the stream ends. `timeoutSeconds` ends the stream. Objects
//   leaving a label selector's set are sent as DELETED, entering it as ADDED;
// - create (uid, creationTimestamp, generation 1, `generateName`, status dropped when the type has a
//   status subresource, 404 when the namespace does not exist), update (PUT), patch (JSON merge
//   patch, JSON patch; strategic merge patch for built-in types only, applied as a merge patch,
//   which is exact for the maps these types hold; 415 for custom resources and apply patches),
//   delete (finalizers: deletionTimestamp first; deleting a Namespace deletes what it holds);
// - metadata.generation bumped when anything but metadata and status changes (types that have it);
// - the status subresource: GET/PUT/PATCH `.../status`, which change only `status`, while writes to the
//   main resource keep the stored status;
// - optimistic concurrency: a body (or patched body) whose metadata.resourceVersion is not the
//   stored one is 409 Conflict; updates of custom resources must carry one (422 otherwise);
// - errors as `Status` objects (reason, code, details).
// Not implemented (and answered with an error, never faked): server-side apply, dry runs,
// protobuf, table output, admission webhooks, field validation.
// Not done (accepted as sent): the per-kind validation kube-apiserver does for built-in objects
// (e.g. a Deployment's selector matching its template), admission (ValidatingAdmissionPolicies are
// stored, not evaluated), CEL rules of CRDs, conversion webhooks, the controllers of built-in
// kinds (a Deployment gets no status, a Service no clusterIP).
//
// Test hooks: `dropWatches()` cuts every open watch mid-stream (socket destroyed, as when a
// connection or an apiserver replica is lost); `compact()` forgets history so older revisions get
// 410; `stop()`/`start()` on the same port for a lost API server; `requestLog` counts requests.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLEANUP_FINALIZER, compareVersions, CRD_TYPE, customResourceType, defaultCrd, established, nextStatus, schemaOf, servedTypes, storedVersions,
  validateCrd, withCondition,
} from './crd.ts';
import { applyDefaults, canonical, prune, validate, type FieldError } from './openapi-schema.ts';

export interface ResourceType {
  group: string; // '' for the core group
  versions: string[]; // the versions serving it, the first for the direct-access helpers (get, list, update)
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Has the status subresource. */
  status: boolean;
  /** Tracks metadata.generation (CRDs and most built-ins with a spec). */
  generation: boolean;
  /** Built-in (strategic merge patch accepted, unconditional updates allowed). */
  builtin: boolean;
}

const GW = 'gateway.networking.k8s.io';
const GWX = 'gateway.networking.x-k8s.io';
const crd = (group: string, versions: string[], kind: string, plural: string, namespaced = true): ResourceType =>
  ({ group, versions, kind, plural, namespaced, status: true, generation: true, builtin: false });

const builtin = (group: string, kind: string, plural: string, namespaced: boolean, status: boolean, generation: boolean): ResourceType =>
  ({ group, versions: ['v1'], kind, plural, namespaced, status, generation, builtin: true });

/** The built-in types served by default: what the rendered deploy/ overlays hold, and what the services read. */
export const CORE_TYPES: ResourceType[] = [
  builtin('', 'Namespace', 'namespaces', false, true, false),
  builtin('', 'ServiceAccount', 'serviceaccounts', true, false, false),
  builtin('', 'Secret', 'secrets', true, false, false),
  builtin('', 'ConfigMap', 'configmaps', true, false, false),
  builtin('', 'Service', 'services', true, true, false),
  builtin('', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, true, false),
  builtin('discovery.k8s.io', 'EndpointSlice', 'endpointslices', true, false, true),
  builtin('apps', 'Deployment', 'deployments', true, true, true),
  builtin('apps', 'StatefulSet', 'statefulsets', true, true, true),
  builtin('rbac.authorization.k8s.io', 'ClusterRole', 'clusterroles', false, false, false),
  builtin('rbac.authorization.k8s.io', 'ClusterRoleBinding', 'clusterrolebindings', false, false, false),
  builtin('rbac.authorization.k8s.io', 'Role', 'roles', true, false, false),
  builtin('rbac.authorization.k8s.io', 'RoleBinding', 'rolebindings', true, false, false),
  builtin('policy', 'PodDisruptionBudget', 'poddisruptionbudgets', true, true, true),
  builtin('admissionregistration.k8s.io', 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', false, true, true),
  builtin('admissionregistration.k8s.io', 'ValidatingAdmissionPolicyBinding', 'validatingadmissionpolicybindings', false, false, true),
  builtin('coordination.k8s.io', 'Lease', 'leases', true, false, false),
  CRD_TYPE,
];

/** The Gateway API CRDs (standard and experimental channels, as v1.4 installs them). */
export const GATEWAY_API_TYPES: ResourceType[] = [
  crd(GW, ['v1', 'v1beta1'], 'GatewayClass', 'gatewayclasses', false),
  crd(GW, ['v1', 'v1beta1'], 'Gateway', 'gateways'),
  crd(GW, ['v1', 'v1beta1'], 'HTTPRoute', 'httproutes'),
  crd(GW, ['v1'], 'GRPCRoute', 'grpcroutes'),
  { ...crd(GW, ['v1beta1'], 'ReferenceGrant', 'referencegrants'), status: false },
  crd(GW, ['v1alpha2'], 'TLSRoute', 'tlsroutes'),
  crd(GW, ['v1alpha2'], 'TCPRoute', 'tcproutes'),
  crd(GW, ['v1alpha2'], 'UDPRoute', 'udproutes'),
  crd(GW, ['v1'], 'BackendTLSPolicy', 'backendtlspolicies'),
  crd(GWX, ['v1alpha1'], 'XListenerSet', 'xlistenersets'),
];

type Obj = Record<string, any>;

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: Obj;
  /** The object before this event (undefined for ADDED): lets a list rebuild an older revision. */
  prev?: Obj;
}

interface OpenWatch {
  resource: string;
  namespace?: string;
  selector: Selector;
  res: ServerResponse;
  version: string;
  group: string;
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Obj) { super(message); }
}

const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
function jsonPatch(doc: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw new HttpError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let root: any = clone(doc);
  const parse = (p: string) => p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const walk = (path: string[]) => {
    let cur = root;
    for (const seg of path.slice(0, -1)) {
      cur = cur?.[Array.isArray(cur) ? Number(seg) : seg];
      if (cur === undefined) throw new HttpError(422, 'Invalid', `path ${path.join('/')} does not exist`);
    }
    return { parent: cur, last: path[path.length - 1] };
  };
  const get = (p: string) => parse(p).reduce((c: any, s) => (c === undefined ? undefined : c[Array.isArray(c) ? Number(s) : s]), root);
  const put = (p: string, value: unknown, replace: boolean) => {
    const path = parse(p);
    if (path.length === 0) { root = value; return; }
    const { parent, last } = walk(path);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (replace) parent[i] = value; else parent.splice(i, 0, value);
    } else parent[last] = value;
  };
  const remove = (p: string) => {
    const { parent, last } = walk(parse(p));
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (parent && last in parent) delete parent[last];
    else throw new HttpError(422, 'Invalid', `cannot remove ${p}: it does not exist`);
  };
  for (const op of ops as Obj[]) {
    switch (op.op) {
      case 'add': put(op.path, clone(op.value), false); break;
      case 'replace': if (get(op.path) === undefined) throw new HttpError(422, 'Invalid', `cannot replace ${op.path}: it does not exist`); put(op.path, clone(op.value), true); break;
      case 'remove': remove(op.path); break;
      case 'move': { const v = get(op.from); remove(op.from); put(op.path, v, false); break; }
      case 'copy': put(op.path, clone(get(op.from)), false); break;
      case 'test': if (JSON.stringify(get(op.path)) !== JSON.stringify(op.value)) throw new HttpError(422, 'Invalid', `test of ${op.path} failed`); break;
      default: throw new HttpError(400, 'BadRequest', `unknown JSON patch operation ${String(op.op)}`);
    }
  }
  return root;
}

// --- selectors --------------------------------------------------------------------------------
type Requirement = (labels: Record<string, string>) => boolean;
interface Selector { labels: Requirement[]; fields: Array<(o: Obj) => boolean> }

function parseLabelSelector(text: string | null): Requirement[] {
  if (!text) return [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0, cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  parts.push(cur);
  return parts.map((raw) => {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/))) {
      const [, key, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      return op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
    }
    if ((m = p.match(/^([^!=\s]+)\s*!=\s*(\S*)$/))) { const [, k, v] = m; return (l) => l[k] !== v; }
    if ((m = p.match(/^([^!=\s]+)\s*==?\s*(\S*)$/))) { const [, k, v] = m; return (l) => l[k] === v; }
    if ((m = p.match(/^!(\S+)$/))) { const k = m[1]; return (l) => !(k in l); }
    if ((m = p.match(/^(\S+)$/))) { const k = m[1]; return (l) => k in l; }
    throw new HttpError(400, 'BadRequest', `unable to parse requirement: ${p}`);
  });
}

function parseFieldSelector(text: string | null): Array<(o: Obj) => boolean> {
  if (!text) return [];
  return text.split(',').map((raw) => {
    const m = raw.trim().match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new HttpError(400, 'BadRequest', `invalid field selector: ${raw}`);
    const [, field, op, value] = m;
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new HttpError(400, 'BadRequest', `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
    const get = (o: Obj) => (field === 'metadata.name' ? o.metadata?.name : o.metadata?.namespace ?? '');
    return op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value;
  });
}

const matches = (s: Selector, o: Obj) => s.labels.every((r) => r(o.metadata?.labels ?? {})) && s.fields.every((f) => f(o));

// --- the server -------------------------------------------------------------------------------
export interface TestApiServerOptions {
  /** The types served without a CRD (default CORE_TYPES and, unless `gatewayApi` is false, GATEWAY_API_TYPES). */
  types?: ResourceType[];
  /**
   * false: start without the Gateway API types, which are then served only once their CRDs are created
   * (as in a fresh cluster); default true, as if their CRDs were installed. Not together with `types`.
   */
  gatewayApi?: boolean;
  /** How often an open watch with allowWatchBookmarks gets a BOOKMARK (kube-apiserver: about a minute). */
  bookmarkIntervalMs?: number;
  port?: number;
}

export class TestApiServer {
  private readonly builtinTypes: ResourceType[];
  /** What is served: the constructor's types, and those of established CRDs (which take over a resource both name). */
  private served: ResourceType[];
  /** Established CRDs by the resource they serve ("<group>/<plural>"). */
  private crds = new Map<string, Obj>();
  private readonly objects = new Map<string, Obj>(); // "<group>/<plural>/<ns>/<name>" → stored object
  private history: HistoryEntry[] = [];
  private revision = 1;
  /** History at or below this revision is forgotten: older revisions are 410 Gone. */
  private compactedAt = 0;
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private bookmarkTimer?: NodeJS.Timeout;
  port: number;
  readonly requestLog: Array<{ method: string; path: string; code: number }> = [];
  /** Runs before each request is served: tests use it to race a client (e.g. a write between its read and its patch). */
  beforeRequest?: (method: string, path: string) => void;

  constructor(private readonly opts: TestApiServerOptions = {}) {
    if (opts.types && opts.gatewayApi !== undefined) throw new Error('TestApiServerOptions: give `types` or `gatewayApi`, not both');
    const types = opts.types ?? [...CORE_TYPES, ...(opts.gatewayApi === false ? [] : GATEWAY_API_TYPES)];
    // A type given twice (CORE_TYPES plus an entry a test added before CORE_TYPES had it) is served once.
    this.builtinTypes = types.filter((t, i) => types.findIndex((u) => canonical(u) === canonical(t)) === i);
    this.served = this.builtinTypes;
    this.port = opts.port ?? 0;
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.write('create', this.typeOf('', 'namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, {});
    }
  }

  get types(): readonly ResourceType[] { return this.served; }
  get url(): string { return `http://127.0.0.1:${this.port}`; }
  get resourceVersion(): string { return String(this.revision); }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.opts.bookmarkIntervalMs ?? 1000);
    this.bookmarkTimer.unref();
  }

  /** Closes the listener and every connection (open watches end abruptly), keeping the store. */
  async stop(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.dropWatches();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** A kubeconfig (YAML) for this server: plain HTTP on loopback, no credentials (client-node refuses http:// unless TLS verification is off). */
  kubeconfig(namespace = 'default'): string {
    return `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]
users: [{name: test, user: {}}]
contexts: [{name: test, context: {cluster: test, user: test, namespace: ${namespace}}}]
current-context: test
`;
  }

  writeKubeconfig(dir: string): string {
    const path = join(dir, 'kubeconfig.yaml');
    writeFileSync(path, this.kubeconfig());
    return path;
  }

  /** Ends every open watch mid-stream: the socket is destroyed without a final chunk. */
  dropWatches(): number {
    const n = this.watches.size;
    for (const w of this.watches) w.res.socket?.destroy();
    this.watches.clear();
    return n;
  }

  /** Forgets all history up to now, as etcd compaction does: older revisions get 410 Gone. */
  compact(): void {
    this.compactedAt = this.revision;
    this.history = [];
  }

  /** The number of open watches (of `plural`, when given). */
  openWatches(plural?: string): number {
    return [...this.watches].filter((w) => !plural || w.resource.endsWith(`/${plural}`)).length;
  }

  // --- direct access for tests (same code paths as the HTTP verbs) -------------------------------
  create(object: Obj): Obj {
    const [group, version] = splitApiVersion(object.apiVersion);
    const type = this.types.find((t) => t.group === group && t.versions.includes(version) && t.kind === object.kind);
    if (!type) throw new Error(`no type ${object.apiVersion} ${object.kind}`);
    return this.serve(this.write('create', type, object, {}), version);
  }

  get(kind: string, namespace: string, name: string): Obj | undefined {
    const type = this.types.find((t) => t.kind === kind);
    const o = type && this.objects.get(this.key(type, type.namespaced ? namespace : '', name));
    return o && this.serve(o, type!.versions[0]);
  }

  list(kind: string): Obj[] {
    const type = this.types.find((t) => t.kind === kind)!;
    const prefix = `${type.group}/${type.plural}/`;
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, o]) => this.serve(o, type.versions[0]));
  }

  /** Replaces `spec` (or applies `change` to a copy) like a client's update. */
  update(kind: string, namespace: string, name: string, change: (o: Obj) => void): Obj {
    const type = this.types.find((t) => t.kind === kind)!;
    const have = this.objects.get(this.key(type, type.namespaced ? namespace : '', name));
    if (!have) throw new Error(`${kind} ${namespace}/${name} not found`);
    const next = clone(have);
    change(next);
    return this.serve(this.write('update', type, next, { namespace, name }), type.versions[0]);
  }

  /** Changes `status` through the status subresource (the main resource ignores status). */
  updateStatus(kind: string, namespace: string, name: string, change: (o: Obj) => void): Obj {
    const type = this.types.find((t) => t.kind === kind)!;
    const have = this.objects.get(this.key(type, type.namespaced ? namespace : '', name));
    if (!have) throw new Error(`${kind} ${namespace}/${name} not found`);
    const next = clone(have);
    change(next);
    return this.serve(this.write('status', type, next, { namespace, name }), type.versions[0]);
  }

  delete(kind: string, namespace: string, name: string): void {
    const type = this.types.find((t) => t.kind === kind)!;
    this.write('delete', type, undefined, { namespace, name });
  }

  // --- HTTP ------------------------------------------------------------------------------------
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let code = 200;
    try {
      const body = await readBody(req);
      this.beforeRequest?.(req.method ?? 'GET', url.pathname);
      const out = this.route(req.method ?? 'GET', url, req.headers['content-type'] ?? '', body, res);
      if (out === 'watching') { code = 200; return; }
      code = out.code;
      send(res, out.code, out.body);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', (err as Error).message);
      code = e.code;
      send(res, e.code, statusObject(e));
    } finally {
      this.requestLog.push({ method: req.method ?? 'GET', path: url.pathname, code });
    }
  }

  private route(method: string, url: URL, contentType: string, body: string, res: ServerResponse): { code: number; body: unknown } | 'watching' {
    const p = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    if (q.get('dryRun')) throw new HttpError(400, 'BadRequest', 'dryRun is not implemented by this test API server');
    if (q.get('fieldValidation') === 'Strict') throw new HttpError(400, 'BadRequest', 'fieldValidation=Strict is not implemented by this test API server');
    if (p === '/api' && method === 'GET') {
      return { code: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] } };
    }
    if (p === '/apis' && method === 'GET') return { code: 200, body: this.groupList() };
    if (p === '/version' && method === 'GET') return { code: 200, body: { major: '1', minor: '33', gitVersion: 'v1.33.0-gantry-test' } };
    const segs = p.split('/').slice(1).map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) { group = ''; version = segs[1]; rest = segs.slice(2); }
    else if (segs[0] === 'apis' && segs.length >= 3) { group = segs[1]; version = segs[2]; rest = segs.slice(3); }
    else if (segs[0] === 'apis' && segs.length === 2 && method === 'GET') {
      const g = this.groupList().groups.find((x: Obj) => x.name === segs[1]);
      if (!g) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
      return { code: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...g } };
    } else throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const served = this.types.filter((t) => t.group === group && t.versions.includes(version));
    if (served.length === 0) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) {
      if (method !== 'GET') throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return { code: 200, body: this.resourceList(group, version) };
    }
    let namespace: string | undefined;
    // `/api/v1/namespaces/<name>/status` is the Namespace's status, not a collection in it.
    const namespaceStatus = group === '' && rest[0] === 'namespaces' && rest.length === 3 && rest[2] === 'status';
    if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceStatus) { namespace = rest[1]; rest = rest.slice(2); }
    const type = served.find((t) => t.plural === rest[0]);
    if (!type) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    if (namespace !== undefined && !type.namespaced) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const name = rest[1];
    const sub = rest[2];
    if (rest.length > 3 || (sub !== undefined && sub !== 'status') || (sub === 'status' && !type.status)) {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (name === undefined) {
      if (type.namespaced && namespace === undefined && method !== 'GET') throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      if (method === 'GET' && q.get('watch') && q.get('watch') !== 'false' && q.get('watch') !== '0') {
        this.watch(type, version, namespace, q, res);
        return 'watching';
      }
      if (method === 'GET') return { code: 200, body: this.listResponse(type, version, namespace, q) };
      if (method === 'POST') {
        const obj = parseJson(body);
        if (namespace !== undefined && obj.metadata?.namespace !== undefined && obj.metadata.namespace !== namespace) {
          throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        const stored = this.write('create', type, { ...obj, metadata: { ...obj.metadata, ...(namespace !== undefined ? { namespace } : {}) } }, {}, version);
        return { code: 201, body: this.serve(stored, version) };
      }
      throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    const ns = type.namespaced ? namespace ?? '' : '';
    if (type.namespaced && namespace === undefined) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const where = { namespace: ns, name };
    switch (method) {
      case 'GET': {
        const o = this.objects.get(this.key(type, ns, name));
        if (!o) throw notFound(type, name);
        return { code: 200, body: this.serve(o, version) };
      }
      case 'PUT': {
        const obj = parseJson(body);
        if (obj.metadata?.name !== undefined && obj.metadata.name !== name) throw new HttpError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        return { code: 200, body: this.serve(this.write(sub === 'status' ? 'status' : 'update', type, obj, where, version), version) };
      }
      case 'PATCH': {
        const have = this.objects.get(this.key(type, ns, name));
        if (!have) throw notFound(type, name);
        const ct = contentType.split(';')[0].trim();
        const served = this.serve(have, version);
        let patched: Obj;
        if (ct === 'application/merge-patch+json') patched = mergePatch(served, parseJson(body)) as Obj;
        else if (ct === 'application/json-patch+json') patched = jsonPatch(served, JSON.parse(body || 'null'));
        else if (ct === 'application/strategic-merge-patch+json' && type.builtin) patched = mergePatch(served, parseJson(body)) as Obj;
        else throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${type.builtin ? ', application/strategic-merge-patch+json' : ''}`);
        // A patch that sets metadata.resourceVersion is a precondition; one that does not patches the latest.
        if (patched.metadata?.resourceVersion === have.metadata.resourceVersion || patched.metadata?.resourceVersion === undefined) {
          patched.metadata = { ...patched.metadata, resourceVersion: have.metadata.resourceVersion };
        }
        return { code: 200, body: this.serve(this.write(sub === 'status' ? 'status' : 'update', type, patched, where, version, true), version) };
      }
      case 'DELETE': {
        if (sub) throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const gone = this.write('delete', type, undefined, where, version);
        return { code: 200, body: this.serve(gone, version) };
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private groupList(): Obj {
    const groups = new Map<string, string[]>();
    for (const t of this.types) {
      if (!t.group) continue;
      const vs = groups.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      groups.set(t.group, vs);
    }
    return {
      kind: 'APIGroupList', apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => {
        versions.sort(compareVersions);
        return {
          name,
          versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
          preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
        };
      }),
    };
  }

  private resourceList(group: string, version: string): Obj {
    const resources: Obj[] = [];
    for (const t of this.types.filter((x) => x.group === group && x.versions.includes(version))) {
      resources.push({
        name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      });
      if (t.status) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private key(type: ResourceType, namespace: string, name: string): string {
    return `${type.group}/${type.plural}/${namespace}/${name}`;
  }

  private typeOf(group: string, plural: string): ResourceType {
    return this.types.find((t) => t.group === group && t.plural === plural)!;
  }

  private serve(o: Obj, version: string): Obj {
    const out = clone(o);
    const [group] = splitApiVersion(o.apiVersion);
    out.apiVersion = group ? `${group}/${version}` : version;
    return out;
  }

  // --- writes ----------------------------------------------------------------------------------
  private write(
    verb: 'create' | 'update' | 'status' | 'delete', type: ResourceType, body: Obj | undefined,
    where: { namespace?: string; name?: string }, version = type.versions[0], patch = false,
  ): Obj {
    if (verb === 'create') {
      const obj = clone(body!);
      const meta: Obj = { ...(obj.metadata ?? {}) };
      if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
      if (!meta.name) throw new HttpError(422, 'Invalid', `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(meta.name) || meta.name.length > 253) {
        throw new HttpError(422, 'Invalid', `${type.kind} "${meta.name}" is invalid: metadata.name: Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
      }
      const [g] = splitApiVersion(obj.apiVersion ?? '');
      if (g !== type.group || obj.kind !== type.kind) throw new HttpError(400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (${type.group ? type.group + '/' : ''}${version}) or kind`);
      const namespace = type.namespaced ? meta.namespace || where.namespace || 'default' : '';
      if (type.namespaced) {
        meta.namespace = namespace;
        const ns = this.objects.get(this.key(this.typeOf('', 'namespaces'), '', namespace));
        if (!ns) throw new HttpError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
        if (ns.metadata.deletionTimestamp) throw new HttpError(403, 'Forbidden', `${type.plural} "${meta.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
      } else delete meta.namespace;
      for (const k of ['resourceVersion', 'uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'selfLink']) delete meta[k];
      meta.uid = randomUUID();
      meta.creationTimestamp = now();
      if (type.generation) meta.generation = 1;
      obj.metadata = meta;
      obj.apiVersion = type.group ? `${type.group}/${version}` : version;
      if (type.status && !type.builtin) delete obj.status;
      if (type.kind === 'Namespace') obj.status = { phase: 'Active' };
      this.admit(type, version, obj);
      // Validation comes first, as kube's registry validates before storage finds the name taken.
      const key = this.key(type, namespace, meta.name);
      if (this.objects.has(key)) throw new HttpError(409, 'AlreadyExists', `${type.plural}${type.group ? '.' + type.group : ''} "${meta.name}" already exists`, { name: meta.name, group: type.group, kind: type.plural });
      return this.commit('ADDED', key, obj);
    }
    const namespace = type.namespaced ? where.namespace ?? '' : '';
    const name = where.name ?? body?.metadata?.name;
    const key = this.key(type, namespace, name);
    const have = this.objects.get(key);
    if (!have) throw notFound(type, name);
    if (verb === 'delete') return this.remove(type, key, have);

    const obj = clone(body!);
    const rv = obj.metadata?.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!type.builtin && !patch) throw new HttpError(422, 'Invalid', `${type.kind}.${type.group} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
    } else if (rv !== have.metadata.resourceVersion) {
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${type.plural}${type.group ? '.' + type.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group: type.group, kind: type.plural });
    }
    let next: Obj;
    if (verb === 'status') {
      // The status subresource changes status only; everything else stays as stored.
      next = { ...clone(have), status: obj.status };
      if (obj.status === undefined) delete next.status;
    } else {
      // Identity fields are the server's; status belongs to the status subresource.
      const meta: Obj = { ...(obj.metadata ?? {}) };
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'resourceVersion']) {
        if (have.metadata[k] === undefined) delete meta[k]; else meta[k] = have.metadata[k];
      }
      meta.name = have.metadata.name;
      if (type.namespaced) meta.namespace = have.metadata.namespace;
      next = { ...obj, metadata: meta, apiVersion: have.apiVersion, kind: have.kind };
      if (type.status) { if (have.status === undefined) delete next.status; else next.status = clone(have.status); }
    }
    this.admit(type, version, next, have);
    if (verb !== 'status' && type.generation && specOf(next) !== specOf(have)) next.metadata.generation = (have.metadata.generation ?? 0) + 1;
    if (canonical(withoutRv(next)) === canonical(withoutRv(have))) return have; // a no-op write changes nothing
    // Removing the last finalizer of an object being deleted completes the deletion.
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length)) {
      this.objects.set(key, next);
      return this.remove(type, key, next);
    }
    return this.commit('MODIFIED', key, next, have);
  }

  /**
   * What kube does to an object of `type` before storing it, after the steps every type shares:
   * CRDs are defaulted and validated (their status is the controllers'); custom resources of a CRD are
   * pruned, defaulted and validated against its schema for `version`, and not created while it is deleted.
   */
  private admit(type: ResourceType, version: string, obj: Obj, old?: Obj): void {
    if (isCrd(type)) {
      defaultCrd(obj);
      obj.status = old
        ? { ...obj.status, storedVersions: storedVersions(obj, obj.status?.storedVersions) }
        : { acceptedNames: { plural: '', kind: '' }, storedVersions: storedVersions(obj) };
      const errors = validateCrd(obj, old);
      if (errors.length) throw invalid(type, obj.metadata.name, errors);
      return;
    }
    const def = this.crds.get(`${type.group}/${type.plural}`);
    const schema = def && schemaOf(def, version);
    if (!schema) return;
    if (!old && def.metadata.deletionTimestamp) {
      throw new HttpError(405, 'MethodNotAllowed', `create is not supported on resources of kind "${type.plural}.${type.group}"`);
    }
    prune(obj, schema, true);
    applyDefaults(obj, schema, true);
    const errors = validate(obj, schema, '', true);
    if (errors.length) throw invalid(type, obj.metadata.name, errors);
  }

  /**
   * kube's apiextensions controllers, run at once after every write of a CRD (kube runs them right
   * after, asynchronously): naming, then establishing (one status write each), the cleanup of a
   * deleted CRD; then what is served follows the established CRDs. A CRD gone frees its names for
   * the others of its group.
   */
  private crdChanged(key: string, last: Obj): void {
    const def = this.objects.get(key);
    if (def?.metadata.deletionTimestamp) {
      if (def.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return this.cleanUp(key, def);
    } else if (def) {
      const status = nextStatus(def, this.crdsOf(def.spec.group).map(([, o]) => o), now());
      if (status) { this.commit('MODIFIED', key, { ...clone(def), status }, def); return; } // whose own call carries on
    }
    this.refreshServed();
    if (!def) for (const [k, o] of this.crdsOf(last.spec.group)) this.crdChanged(k, o);
  }

  private crdsOf(group: string): Array<[string, Obj]> {
    return [...this.objects].filter(([k, o]) => k.startsWith(CRD_PREFIX) && o.spec.group === group);
  }

  /** kube's CRD finalizer controller: every custom resource deleted, then the cleanup finalizer dropped. */
  private cleanUp(key: string, def: Obj): void {
    let done = { type: 'Terminating', status: 'False' as const, reason: 'NeverEstablished', message: 'resource was never established' };
    if (established(def)) {
      const type = customResourceType(def);
      const prefix = `${type.group}/${type.plural}/`;
      for (const [k, o] of [...this.objects]) if (k.startsWith(prefix)) this.forceRemove(type, k, o);
      done = { ...done, reason: 'InstanceDeletionCompleted', message: 'removed all instances' };
    }
    const next = clone(def);
    next.status = withCondition(next.status ?? {}, done, now());
    next.metadata.finalizers = next.metadata.finalizers.filter((f: string) => f !== CLEANUP_FINALIZER);
    if (next.metadata.finalizers.length > 0) { this.commit('MODIFIED', key, next, def); return; }
    this.objects.set(key, next);
    this.remove(CRD_TYPE, key, next);
  }

  /** Serves the constructor's types and what every established CRD serves; ends the watches of what is no longer served. */
  private refreshServed(): void {
    this.crds = new Map();
    const fromCrds: ResourceType[] = [];
    for (const [k, def] of this.objects) {
      if (!k.startsWith(CRD_PREFIX) || !established(def)) continue;
      for (const t of servedTypes(def)) { fromCrds.push(t); this.crds.set(`${t.group}/${t.plural}`, def); }
    }
    this.served = [...this.builtinTypes.filter((t) => !this.crds.has(`${t.group}/${t.plural}`)), ...fromCrds];
    for (const w of this.watches) {
      if (this.served.some((t) => `${t.group}/${t.plural}` === w.resource)) continue;
      this.watches.delete(w);
      w.res.end(); // as kube-apiserver ends them when a CRD's storage is torn down
    }
  }

  /** A controller's deletion done in one step (the namespace or CRD finalizer's work): finalizers and all. */
  private forceRemove(type: ResourceType, key: string, have: Obj): void {
    const c = clone(have);
    delete c.metadata.finalizers;
    this.objects.set(key, c);
    this.remove(type, key, c);
  }

  private remove(type: ResourceType, key: string, have: Obj): Obj {
    if (isCrd(type) && !have.metadata.deletionTimestamp) {
      // kube's CRD delete adds the cleanup finalizer and a Terminating condition with the deletion timestamp.
      const next = clone(have);
      next.metadata.deletionTimestamp = now();
      next.metadata.finalizers = [...new Set([...(next.metadata.finalizers ?? []), CLEANUP_FINALIZER])];
      next.status = withCondition(next.status ?? {}, {
        type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending',
        message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
      }, now());
      return this.commit('MODIFIED', key, next, have);
    }
    if (have.metadata.finalizers?.length) {
      if (have.metadata.deletionTimestamp) return have;
      const next = clone(have);
      next.metadata.deletionTimestamp = now();
      return this.commit('MODIFIED', key, next, have);
    }
    if (type.kind === 'Namespace') {
      // The namespace controller's work, done at once: everything in the namespace goes first.
      for (const [k, o] of [...this.objects]) {
        const t = this.types.find((x) => k.startsWith(`${x.group}/${x.plural}/`));
        if (t?.namespaced && o.metadata.namespace === have.metadata.name) this.forceRemove(t, k, o);
      }
    }
    this.objects.delete(key);
    const gone = clone(have);
    this.revision++;
    gone.metadata.resourceVersion = String(this.revision);
    this.record({ rv: this.revision, type: 'DELETED', key, object: gone, prev: have });
    if (key.startsWith(CRD_PREFIX)) this.crdChanged(key, gone);
    return gone;
  }

  private commit(type: 'ADDED' | 'MODIFIED', key: string, obj: Obj, prev?: Obj): Obj {
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    this.objects.set(key, obj);
    this.record({ rv: this.revision, type, key, object: obj, prev });
    if (key.startsWith(CRD_PREFIX)) this.crdChanged(key, obj);
    return obj;
  }

  private record(entry: HistoryEntry): void {
    this.history.push(entry);
    for (const w of this.watches) this.deliver(w, entry);
  }

  // --- reads -----------------------------------------------------------------------------------
  /** The objects under `prefix` at revision `rv` (≥ the compaction), rebuilt by undoing newer events. */
  private stateAt(rv: number, prefix: string): Map<string, Obj> {
    const state = new Map([...this.objects].filter(([k]) => k.startsWith(prefix)));
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const e = this.history[i];
      if (!e.key.startsWith(prefix)) continue;
      if (e.prev) state.set(e.key, e.prev); else state.delete(e.key);
    }
    return state;
  }

  private listResponse(type: ResourceType, version: string, namespace: string | undefined, q: URLSearchParams): Obj {
    const selector: Selector = { labels: parseLabelSelector(q.get('labelSelector')), fields: parseFieldSelector(q.get('fieldSelector')) };
    const limit = Number(q.get('limit') ?? 0);
    const cont = q.get('continue');
    const rvParam = q.get('resourceVersion');
    const match = q.get('resourceVersionMatch');
    let at = this.revision;
    let after = '';
    if (cont) {
      if (rvParam) throw new HttpError(400, 'BadRequest', 'specifying resource version is not allowed when using continue');
      let token: { rv: number; start: string };
      try { token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')); } catch { throw new HttpError(400, 'BadRequest', 'continue key is not valid'); }
      if (token.rv < this.compactedAt) {
        throw new HttpError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      at = token.rv;
      after = token.start;
    } else if (rvParam && rvParam !== '0') {
      const want = Number(rvParam);
      if (!Number.isInteger(want) || want < 0) throw new HttpError(400, 'BadRequest', `invalid resource version: ${rvParam}`);
      // Legacy semantics: a resourceVersion with a limit (or Exact) asks for that exact revision.
      const exact = match === 'Exact' || (match === null && limit > 0);
      if (want > this.revision) throw new HttpError(504, 'Timeout', `Too large resource version: ${want}, current: ${this.revision}`);
      if (exact) {
        if (want < this.compactedAt) throw new HttpError(410, 'Expired', `too old resource version: ${want} (${this.compactedAt})`);
        at = want;
      }
    }
    const prefix = `${type.group}/${type.plural}/`;
    const items = [...this.stateAt(at, prefix)]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .filter(([, o]) => matches(selector, o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .filter(([k]) => k > after);
    const page = limit > 0 ? items.slice(0, limit) : items;
    const metadata: Obj = { resourceVersion: String(at) };
    if (limit > 0 && items.length > limit) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: at, start: page[page.length - 1][0] })).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
    }
    return {
      kind: `${type.kind}List`, apiVersion: type.group ? `${type.group}/${version}` : version, metadata,
      items: page.map(([, o]) => this.serve(o, version)),
    };
  }

  private watch(type: ResourceType, version: string, namespace: string | undefined, q: URLSearchParams, res: ServerResponse): void {
    const selector: Selector = { labels: parseLabelSelector(q.get('labelSelector')), fields: parseFieldSelector(q.get('fieldSelector')) };
    const rvParam = q.get('resourceVersion');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    res.flushHeaders(); // kube-apiserver answers at once; the client's watch() resolves on headers
    const prefix = `${type.group}/${type.plural}/`;
    const w: OpenWatch = { resource: prefix.slice(0, -1), namespace, selector, res, version, group: type.group };
    const inScope = (o: Obj) => namespace === undefined || o.metadata.namespace === namespace;
    if (!rvParam || rvParam === '0') {
      // "Get state and start at most recent": synthetic ADDED events for what exists now.
      for (const [k, o] of [...this.objects].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1))) {
        void k;
        if (inScope(o) && matches(selector, o)) writeEvent(res, 'ADDED', this.serve(o, version));
      }
    } else {
      const from = Number(rvParam);
      if (!Number.isInteger(from) || from < this.compactedAt) {
        writeEvent(res, 'ERROR', statusObject(new HttpError(410, 'Expired', `too old resource version: ${rvParam} (${this.compactedAt})`)));
        res.end();
        return;
      }
      for (const e of this.history) if (e.rv > from) this.deliver(w, e);
    }
    if (q.get('allowWatchBookmarks') === 'true') (w as OpenWatch & { bookmarks?: boolean }).bookmarks = true;
    this.watches.add(w);
    const done = () => this.watches.delete(w);
    res.on('close', done);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) setTimeout(() => { done(); res.end(); }, timeout * 1000).unref();
  }

  private deliver(w: OpenWatch, e: HistoryEntry): void {
    if (!e.key.startsWith(`${w.resource}/`)) return;
    const inScope = (o?: Obj) => !!o && (w.namespace === undefined || o.metadata.namespace === w.namespace) && matches(w.selector, o);
    const now = inScope(e.object) && e.type !== 'DELETED';
    const was = inScope(e.prev);
    let type: string;
    if (e.type === 'DELETED') { if (!was) return; type = 'DELETED'; }
    else if (now && was) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (was) type = 'DELETED'; // left the selector's set
    else return;
    writeEvent(w.res, type, this.serve(e.object, w.version));
  }

  private sendBookmarks(): void {
    for (const w of this.watches as Set<OpenWatch & { bookmarks?: boolean }>) {
      if (!w.bookmarks) continue;
      const [, plural] = w.resource.split('/');
      const type = this.types.find((t) => t.group === w.group && t.plural === plural)!;
      writeEvent(w.res, 'BOOKMARK', { kind: type.kind, apiVersion: type.group ? `${type.group}/${w.version}` : w.version, metadata: { resourceVersion: String(this.revision) } });
    }
  }
}

// --- helpers ------------------------------------------------------------------------------------
const isCrd = (t: ResourceType) => t.group === CRD_TYPE.group && t.plural === CRD_TYPE.plural;
const CRD_PREFIX = `${CRD_TYPE.group}/${CRD_TYPE.plural}/`;

/** 422 Invalid as kube words it: `<Kind>.<group> "<name>" is invalid: <error>` or `[<error>, …]`, each a cause. */
function invalid(type: ResourceType, name: string, errors: FieldError[]): HttpError {
  const each = errors.map((e) => `${e.field}: ${e.message}`);
  return new HttpError(422, 'Invalid', `${type.kind}${type.group ? '.' + type.group : ''} "${name}" is invalid: ${each.length === 1 ? each[0] : `[${each.join(', ')}]`}`,
    { name, group: type.group, kind: type.kind, causes: errors });
}

function splitApiVersion(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

function withoutRv(o: Obj): Obj {
  const { resourceVersion: _rv, ...meta } = o.metadata ?? {};
  return { ...o, metadata: meta };
}

/** What generation tracks: everything outside metadata and status. */
function specOf(o: Obj): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return canonical(rest);
}

function notFound(type: ResourceType, name: string): HttpError {
  return new HttpError(404, 'NotFound', `${type.plural}${type.group ? '.' + type.group : ''} "${name}" not found`, { name, group: type.group, kind: type.plural });
}

function statusObject(e: HttpError): Obj {
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason,
    ...(e.details ? { details: e.details } : {}), code: e.code,
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function writeEvent(res: ServerResponse, type: string, object: Obj): void {
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
}

function parseJson(body: string): Obj {
  try {
    const v = JSON.parse(body);
    if (!isObj(v)) throw new Error('not an object');
    return v;
  } catch (err) {
    throw new HttpError(400, 'BadRequest', `the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

