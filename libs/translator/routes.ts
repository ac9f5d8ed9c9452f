// HTTPRoutes and GRPCRoutes, read into one kind-agnostic model: every match compiled to the IR and
// ranked for precedence, so that attachment and Envoy translation need not know the route kind.
import type { ObjectIdentity, ObjectRecord } from './index-state.ts';
import { objectKey } from './index-state.ts';
import type { MatchIR, PathMatchIR, RouteKind } from './ir.ts';
import {
  salvageParentRefs,
  type BackendRef, type GRPCRoute, type RouteBackendRef, type GrpcMethodMatch, type GrpcRouteMatch, type HTTPRoute, type HttpRouteMatch, type ParentRef,
} from './objects.ts';
import type { Precedence } from './precedence.ts';
import type { RouteRetry, RouteTimeouts } from './filter-objects.ts';
import { compileRuleFilters, type CompiledRuleFilters, type RuleInput } from './filters.ts';

export interface CompiledMatch {
  match: MatchIR;
  precedence: Precedence;
}

export interface RuleModel {
  index: number;
  /** spec.rules[].name, when the rule is named. */
  name?: string;
  matches: CompiledMatch[];
  /** Route kinds without filters (TLSRoute, ...) leave `filters` out. */
  backendRefs: Array<BackendRef & Partial<Pick<RouteBackendRef, 'filters'>>>;
  /** Filters, timeouts and retries (filters.ts); `problem` set = the rule is left out. */
  compiled?: CompiledRuleFilters;
}

export interface RouteModel {
  id: ObjectIdentity;
  kind: RouteKind;
  /** "<kind>/<namespace>/<name>" */
  key: string;
  parentRefs: ParentRef[];
  hostnames: string[];
  rules: RuleModel[];
  /** The schema error, when the route could not be read; it then has no rules. */
  invalid?: string;
}

type MatchRank = Omit<Precedence, 'creationTimestamp' | 'route' | 'rule' | 'match'>;

const NO_RANK: MatchRank = {
  kind: 'HTTPRoute', pathRank: 0, pathLength: 0, hasMethod: false, headers: 0, queryParams: 0, serviceLength: 0, methodLength: 0,
};

const PATH_RANK: Record<PathMatchIR['type'], number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2, StringPrefix: 2 };

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "/foo/" and "/foo" are the same PathPrefix: it matches whole segments either way. */
function normalizePrefix(value: string): string {
  const trimmed = value.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function compileHttpMatch(m: HttpRouteMatch): { match: MatchIR; rank: MatchRank } {
  const path: PathMatchIR = m.path.type === 'PathPrefix' ? { type: 'PathPrefix', value: normalizePrefix(m.path.value) } : m.path;
  return {
    match: { path, headers: m.headers, queryParams: m.queryParams, method: m.method, grpcOnly: false },
    rank: {
      ...NO_RANK,
      pathRank: PATH_RANK[path.type],
      pathLength: path.value.length,
      hasMethod: m.method !== undefined,
      headers: m.headers.length,
      queryParams: m.queryParams.length,
    },
  };
}

/** gRPC calls are POSTs to "/<service>/<method>", so a method match is a path match. */
function grpcPath(method: GrpcMethodMatch | undefined): PathMatchIR {
  if (!method) return { type: 'StringPrefix', value: '/' };
  const { service, method: name } = method;
  if (method.type === 'RegularExpression') return { type: 'RegularExpression', value: `/${service ?? '[^/]+'}/${name ?? '[^/]+'}` };
  if (service !== undefined && name !== undefined) return { type: 'Exact', value: `/${service}/${name}` };
  if (service !== undefined) return { type: 'StringPrefix', value: `/${service}/` };
  return { type: 'RegularExpression', value: `/[^/]+/${escapeRegex(name!)}` };
}

function compileGrpcMatch(m: GrpcRouteMatch): { match: MatchIR; rank: MatchRank } {
  return {
    match: { path: grpcPath(m.method), headers: m.headers, queryParams: [], grpcOnly: true },
    rank: {
      ...NO_RANK,
      kind: 'GRPCRoute',
      serviceLength: m.method?.service?.length ?? 0,
      methodLength: m.method?.method?.length ?? 0,
      headers: m.headers.length,
    },
  };
}

interface AnyRouteSpec<M> {
  parentRefs: ParentRef[];
  hostnames: string[];
  rules: Array<RuleInput & { name?: string; matches: M[]; backendRefs: RouteBackendRef[]; timeouts?: RouteTimeouts; retry?: RouteRetry }>;
}

function routeModel<M>(
  kind: RouteKind,
  record: ObjectRecord<{ metadata: { creationTimestamp?: string }; spec: AnyRouteSpec<M> }>,
  compile: (m: M) => { match: MatchIR; rank: MatchRank },
  matchAll: M,
  pathType: (m: M) => string,
): RouteModel {
  const { id } = record;
  const key = `${kind}/${objectKey(id.namespace, id.name)}`;
  if (!record.parsed.ok) {
    return { id, kind, key, parentRefs: salvageParentRefs(record.object), hostnames: [], rules: [], invalid: record.parsed.message };
  }
  const { metadata, spec } = record.parsed.value;
  const routeName = objectKey(id.namespace, id.name);
  const rules = spec.rules.map((rule, index): RuleModel => ({
    index,
    ...(rule.name !== undefined ? { name: rule.name } : {}),
    backendRefs: rule.backendRefs,
    compiled: compileRuleFilters(kind, rule, (rule.matches.length > 0 ? rule.matches : [matchAll]).map(pathType)),
    matches: (rule.matches.length > 0 ? rule.matches : [matchAll]).map((m, match) => {
      const { match: ir, rank } = compile(m);
      // Spelled out rather than spread: a spread object gets a hidden class of its own, and tens of
      // thousands of them cost memory and make every precedence comparison megamorphic.
      const precedence: Precedence = {
        kind: rank.kind, pathRank: rank.pathRank, pathLength: rank.pathLength, hasMethod: rank.hasMethod, headers: rank.headers,
        queryParams: rank.queryParams, serviceLength: rank.serviceLength, methodLength: rank.methodLength,
        creationTimestamp: metadata.creationTimestamp ?? '', route: routeName, rule: index, match,
      };
      return { match: ir, precedence };
    }),
  }));
  return { id, kind, key, parentRefs: spec.parentRefs, hostnames: spec.hostnames, rules };
}

export function httpRouteModel(record: ObjectRecord<HTTPRoute>): RouteModel {
  const matchAll: HttpRouteMatch = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };
  return routeModel('HTTPRoute', record, compileHttpMatch, matchAll, (m) => m.path.type);
}

export function grpcRouteModel(record: ObjectRecord<GRPCRoute>): RouteModel {
  return routeModel('GRPCRoute', record, compileGrpcMatch, { headers: [] }, () => 'gRPC method');
}
