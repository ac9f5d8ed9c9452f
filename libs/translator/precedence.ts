// Route precedence. Envoy takes the first route that matches, so routes are emitted in the order the
// Gateway API says ties between matches are broken. Hostname specificity comes before this order:
// virtual-hosts.ts puts the routes of a more specific matching hostname first, then sorts by this.
import type { RouteKind } from './ir.ts';

export interface Precedence {
  kind: RouteKind;
  /** HTTPRoute: 0 Exact, 1 RegularExpression, 2 PathPrefix (regex placement is ours to choose). */
  pathRank: number;
  pathLength: number;
  hasMethod: boolean;
  headers: number;
  queryParams: number;
  /** GRPCRoute: characters of the matched service and method. */
  serviceLength: number;
  methodLength: number;
  /** ISO 8601; "" when unknown, which sorts as oldest. */
  creationTimestamp: string;
  /** "<namespace>/<name>" */
  route: string;
  rule: number;
  match: number;
}

const cmp = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);
const moreFirst = (a: number, b: number): number => b - a;

function httpRoute(a: Precedence, b: Precedence): number {
  return cmp(a.pathRank, b.pathRank)
    || moreFirst(a.pathLength, b.pathLength)
    || moreFirst(Number(a.hasMethod), Number(b.hasMethod))
    || moreFirst(a.headers, b.headers)
    || moreFirst(a.queryParams, b.queryParams);
}

function grpcRoute(a: Precedence, b: Precedence): number {
  return moreFirst(a.serviceLength, b.serviceLength)
    || moreFirst(a.methodLength, b.methodLength)
    || moreFirst(a.headers, b.headers);
}

/**
 * GRPCRoute matches come before HTTPRoute ones on a shared hostname: they only match gRPC requests
 * (content-type), whereas an HTTPRoute commonly ends in a catch-all "/" that would shadow them.
 */
export function comparePrecedence(a: Precedence, b: Precedence): number {
  if (a.kind !== b.kind) return a.kind === 'GRPCRoute' ? -1 : 1;
  return (a.kind === 'HTTPRoute' ? httpRoute(a, b) : grpcRoute(a, b))
    || cmp(a.creationTimestamp, b.creationTimestamp)
    || cmp(a.route, b.route)
    || cmp(a.rule, b.rule)
    || cmp(a.match, b.match);
}
