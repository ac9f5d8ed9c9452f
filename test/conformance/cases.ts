// The Gateway API conformance cases (shared/gateway-api/conformance-cases.json), parsed once with
// zod, and each case's input built the way the upstream suite builds it: base + case manifests with
// placeholders substituted, our GatewayClass, and the certificates/Secrets/ConfigMaps the suite
// creates in code. Format: shared/gateway-api/README.md. Every object is `.strict()`: a field the
// README does not describe is format drift and fails the run loudly.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseManifestText, type ManifestObject } from '../../libs/manifests/index.ts';
import type { KubeObject } from '../../libs/translator/api.ts';
import { applyErrata } from './errata.ts';
import { suiteRuntimeObjects, type SuitePki } from './pki.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The conformance data kit (upstream Gateway API v1.6.1 conformance manifests and the derived
 * cases file), kept in the repo so the suite runs from any clone; GANTRY_CONFORMANCE_KIT points at
 * another copy (e.g. a newer ../shared/gateway-api).
 */
export const KIT_DIR = process.env.GANTRY_CONFORMANCE_KIT ?? join(REPO_ROOT, 'test/conformance/kit');
export const CASES_FILE = join(KIT_DIR, 'conformance-cases.json');

export const GATEWAY_CLASS = 'gantry-conformance';
export const CONTROLLER = 'gantry.dev/gateway-controller';
export const USABLE_ADDRS = [{ type: 'IPAddress', value: '127.0.0.1' }];
export const UNUSABLE_ADDRS = [{ type: 'IPAddress', value: '198.51.100.1' }];

// --- the format ---------------------------------------------------------------------------------
const Condition = z.object({ type: z.string(), status: z.string(), reason: z.string().optional() }).strict();
const NsName = z.object({ namespace: z.string().optional(), name: z.string() }).strict();
const ParentRef = z.object({
  group: z.string().optional(), kind: z.string().optional(), namespace: z.string().optional(), name: z.string(),
  sectionName: z.string().optional(), port: z.number().optional(),
}).strict();
const common = { subtest: z.string().optional(), phase: z.number().int().nonnegative().optional() };

export const StatusEntry = z.object({
  ...common,
  assertion: z.enum([
    'GatewayAndRoutesMustBeAccepted', 'ParentListenersMustBeReady', 'WaitForGatewayAddress', 'RouteParentsMustMatch',
    'RouteMustHaveCondition', 'RouteMustHaveNoAcceptedParents', 'GatewayMustHaveCondition', 'GatewayClassMustHaveCondition',
    'ListenerSetMustHaveCondition', 'ConditionsHaveLatestObservedGeneration', 'ListenersMustHaveConditions',
    'GatewayMustHaveZeroRoutes', 'GatewayMustHaveAttachedListenerSets', 'PolicyAncestorMustHaveCondition',
  ]),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  conditions: z.array(Condition).optional(),
  parent: ParentRef.optional(),
  parents: z.array(z.object({ parentRef: ParentRef, controllerName: z.string().optional(), conditions: z.array(Condition).optional() }).strict()).optional(),
  parentNamespaceRequired: z.boolean().optional(),
  addressRequired: z.boolean().optional(),
  allListenersConditions: z.array(Condition).optional(),
  listenerNames: z.union([z.literal('all'), z.array(z.string())]).optional(),
  listenerConditions: z.array(Condition).optional(),
  attachedListenerSets: z.number().int().optional(),
  ancestor: ParentRef.optional(),
}).strict();
export type StatusEntry = z.infer<typeof StatusEntry>;

export const ListenersEntry = z.object({
  ...common,
  kind: z.enum(['Gateway', 'ListenerSet']),
  namespace: z.string(),
  name: z.string(),
  listeners: z.array(z.object({
    name: z.string(),
    attachedRoutes: z.number().int().optional(),
    supportedKinds: z.array(z.object({ group: z.string().optional(), kind: z.string() }).strict()).optional(),
    conditions: z.array(Condition).optional(),
  }).strict()),
}).strict();
export type ListenersEntry = z.infer<typeof ListenersEntry>;

const StatusCode = z.union([z.number().int(), z.array(z.number().int())]);
export const RequestEntry = z.object({
  ...common,
  gateway: NsName.optional(),
  listener: z.string().optional(),
  port: z.number().int().optional(),
  protocol: z.enum(['HTTPS', 'gRPC', 'TCP', 'TLS', 'UDP', 'UDP-DNS', 'WebSocket', 'mesh-HTTP']).optional(),
  fromMeshClient: z.record(z.string(), z.string()).optional(),
  host: z.string().optional(),
  path: z.string().optional(),
  query: z.string().optional(),
  rawPath: z.string().optional(),
  method: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  httpProtocol: z.string().optional(),
  unfollowRedirect: z.boolean().optional(),
  tlsServerName: z.string().optional(),
  trustedServerCertificate: z.string().optional(),
  trustedCA: z.string().optional(),
  clientCertificate: z.string().optional(),
  backendSetResponseHeaders: z.record(z.string(), z.string()).optional(),
  grpcService: z.string().optional(),
  grpcMethod: z.string().optional(),
  origin: z.string().optional(),
  sendText: z.string().optional(),
  sendBinary: z.array(z.number()).optional(),
  dnsQuestion: z.object({ name: z.string(), type: z.string() }).strict().optional(),
  // expectations
  expectedStatusCode: StatusCode.optional(),
  expectedBackend: z.string().optional(),
  expectedNamespace: z.string().optional(),
  expectedRequestHeaders: z.record(z.string(), z.string()).optional(),
  expectedAbsentRequestHeaders: z.array(z.string()).optional(),
  rewrittenPath: z.string().optional(),
  expectedRequestHost: z.string().optional(),
  expectedResponseHeaders: z.record(z.string(), z.string()).optional(),
  expectedResponseHeaderOneOf: z.record(z.string(), z.array(z.string())).optional(),
  responseHeaderIgnoreWhitespace: z.boolean().optional(),
  expectedAbsentResponseHeaders: z.array(z.string()).optional(),
  expectedRedirect: z.object({
    scheme: z.string().optional(), host: z.string().optional(), port: z.union([z.number(), z.string()]).optional(), path: z.string().optional(),
  }).strict().optional(),
  mirroredTo: z.array(z.object({ name: z.string(), namespace: z.string(), percent: z.number().optional() }).strict()).optional(),
  weightsExpected: z.record(z.string(), z.number()).optional(),
  answeredByGateway: z.boolean().optional(),
  expectNon200Response: z.boolean().optional(),
  expectRequestError: z.boolean().optional(),
  expectConnectionRejected: z.boolean().optional(),
  expectClientCertificateRequested: z.boolean().optional(),
  expectedBackendSNI: z.string().optional(),
  expectedBackendClientCert: z.string().optional(),
  expectedBackendIsTLS: z.boolean().optional(),
  expectedGrpcCode: z.string().optional(),
  expectEcho: z.boolean().optional(),
  expectEchoedFrames: z.boolean().optional(),
  expectAnyDNSResponse: z.boolean().optional(),
}).strict();
export type RequestEntry = z.infer<typeof RequestEntry>;

export const Mutation = z.object({
  phase: z.number().int().positive(),
  action: z.enum(['patch', 'create', 'delete']),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  change: z.string().optional(),
  subtest: z.string().optional(),
}).strict();
export type Mutation = z.infer<typeof Mutation>;

export const ConformanceCase = z.object({
  name: z.string(),
  description: z.string(),
  features: z.array(z.string()),
  mesh: z.boolean().optional(),
  provisional: z.boolean().optional(),
  runOnlyIf: z.string().optional(),
  manifests: z.array(z.string()).min(1),
  sourceFile: z.string(),
  gatewayNN: z.array(NsName),
  expectedStatus: z.array(StatusEntry),
  expectedListeners: z.array(ListenersEntry).optional(),
  requests: z.array(RequestEntry),
  mutations: z.array(Mutation).optional(),
  notes: z.union([z.string(), z.array(z.string())]),
}).strict();
export type ConformanceCase = z.infer<typeof ConformanceCase>;

export function loadCases(file = CASES_FILE): ConformanceCase[] {
  const parsed = z.array(ConformanceCase).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 10).map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`${file} does not match the format in shared/gateway-api/README.md (format drift?):\n${issues}`);
  }
  return applyErrata(parsed.data);
}

// --- which cases run ----------------------------------------------------------------------------
export type Scope = { run: true } | { run: false; why: 'mesh' | 'runOnlyIf'; detail: string };

/** Every feature is claimed: mesh cases are out of scope, "...does NOT support feature X" returns early. */
export function scopeOf(c: ConformanceCase): Scope {
  if (c.mesh) return { run: false, why: 'mesh', detail: 'mesh (GAMMA) case' };
  if (c.runOnlyIf) {
    const m = /suite (does NOT support|supports) feature (\w+)/.exec(c.runOnlyIf);
    if (!m) throw new Error(`${c.name}: runOnlyIf "${c.runOnlyIf}" is not a form the harness knows`);
    if (m[1] === 'does NOT support') return { run: false, why: 'runOnlyIf', detail: c.runOnlyIf };
  }
  return { run: true };
}

// --- inputs -------------------------------------------------------------------------------------
export const GATEWAY_CLASS_OBJECT: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GatewayClass',
  metadata: { name: GATEWAY_CLASS, generation: 1 },
  spec: { controllerName: CONTROLLER },
};

const ADDR_PLACEHOLDER = /^([ \t]*)-[ \t]+value:[ \t]*["']?PLACEHOLDER_(UNUSABLE|USABLE)_ADDRS["']?[ \t]*$/gm;

/** Text substitution, as upstream does before applying (no YAML round trip). */
export function substitutePlaceholders(text: string): string {
  return text
    .replaceAll('{GATEWAY_CLASS_NAME}', GATEWAY_CLASS)
    .replaceAll('{GATEWAY_CONTROLLER_NAME}', CONTROLLER)
    .replace(ADDR_PLACEHOLDER, (_all, indent: string, which: string) =>
      (which === 'UNUSABLE' ? UNUSABLE_ADDRS : USABLE_ADDRS)
        .map((a) => `${indent}- type: ${a.type}\n${indent}  value: "${a.value}"`).join('\n'));
}

const manifestCache = new Map<string, ManifestObject[]>();

/** The objects of one manifest file of the kit (parsed once per process). */
export function manifestObjects(rel: string): ManifestObject[] {
  let objs = manifestCache.get(rel);
  if (!objs) {
    const path = join(KIT_DIR, 'conformance', rel);
    const text = substitutePlaceholders(readFileSync(path, 'utf8'));
    if (/PLACEHOLDER_|\{GATEWAY_/.test(text)) throw new Error(`${rel}: a placeholder the harness does not know is left`);
    const parsed = parseManifestText(text, rel);
    const syntax = parsed.problems.filter((p) => p.severity === 'syntax');
    if (syntax.length) throw new Error(`${rel}: ${syntax.map((p) => `document ${p.document}: ${p.message}`).join('; ')}`);
    objs = parsed.objects;
    manifestCache.set(rel, objs);
  }
  return objs;
}

/** Objects are copied, so phases can change them freely. Later documents replace earlier ones (kubectl apply). */
export function caseObjects(c: ConformanceCase, pki: SuitePki): KubeObject[] {
  const byKey = new Map<string, KubeObject>();
  const add = (o: KubeObject) => {
    const copy = structuredClone(o);
    copy.metadata.generation ??= 1;
    byKey.set(objectKey(copy), copy);
  };
  add(GATEWAY_CLASS_OBJECT);
  for (const o of suiteRuntimeObjects(pki)) add(o);
  for (const rel of c.manifests) for (const m of manifestObjects(rel)) add(m.object);
  return [...byKey.values()];
}

const CLUSTER_SCOPED = new Set(['GatewayClass', 'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

export function objectKey(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return keyOf(o.kind, o.metadata.namespace, o.metadata.name);
}

export function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${CLUSTER_SCOPED.has(kind) ? '' : namespace || 'default'}/${name}`;
}
