// Status as the reporter writes it (pure): the document of one object, where it lives in the status
// directory, and what proxies say about a Gateway. A NACK from a proxy makes the Gateway (and each
// listener) not Programmed until that proxy accepts a later version of the same resource type.
import { stringify } from 'yaml';
import type { ProxyEvent, ReportEvent } from '../contracts/index.ts';

/** One proxy's rejection of one resource type's version. */
export interface ProxyRejection {
  node: string;
  typeUrl: string;
  version: string;
  message: string;
  /** When the proxy rejected it (the event's time): the condition's lastTransitionTime. */
  at: string;
}

/** Per Gateway ("<namespace>/<name>"), the rejections still standing. */
export type ProxyStates = ReadonlyMap<string, readonly ProxyRejection[]>;

/**
 * Folds one PROXIES event into the states: a `nack` records (or replaces) the rejection of its
 * node and type; an `ack` of another version of that type from that node clears it (versions are
 * opaque: only equality is compared, and stream order says which is later); `disconnected` clears
 * the node's rejections, since a gone proxy rejects nothing.
 */
export function reduceProxyState(states: ProxyStates, e: ProxyEvent): ProxyStates {
  const current = states.get(e.gateway) ?? [];
  const typeUrl = e.typeUrl ?? '';
  let next: ProxyRejection[];
  switch (e.event) {
    case 'nack':
      next = [
        ...current.filter((r) => !(r.node === e.node && r.typeUrl === typeUrl)),
        { node: e.node, typeUrl, version: e.version ?? '', message: e.errorDetail?.message || 'configuration rejected', at: e.emittedAt },
      ];
      break;
    case 'ack':
      next = current.filter((r) => !(r.node === e.node && r.typeUrl === typeUrl && r.version !== (e.version ?? '')));
      break;
    case 'disconnected':
      next = current.filter((r) => r.node !== e.node);
      break;
    default:
      return states;
  }
  if (next.length === current.length && next.every((r, i) => r === current[i])) return states;
  const out = new Map(states);
  if (next.length === 0) out.delete(e.gateway);
  else out.set(e.gateway, next);
  return out;
}

type Condition = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number; lastTransitionTime?: string; [k: string]: unknown };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function withNotProgrammed(conditions: unknown, message: string, at: string): Condition[] {
  const list = (Array.isArray(conditions) ? conditions.filter(isObj) : []) as Condition[];
  const existing = list.find((c) => c.type === 'Programmed');
  const unchanged = existing && existing.status === 'False' && existing.reason === 'Invalid';
  const programmed: Condition = {
    ...(existing ?? {}),
    type: 'Programmed', status: 'False', reason: 'Invalid', message,
    lastTransitionTime: unchanged && existing.lastTransitionTime ? existing.lastTransitionTime : at,
  };
  return existing ? list.map((c) => (c === existing ? programmed : c)) : [...list, programmed];
}

/**
 * A Gateway's status with the proxies' rejections applied: `Programmed` False, reason `Invalid`,
 * message "rejected by proxy <node>: <detail>" (all rejections, in node order), on the Gateway and
 * on each listener. No rejections: the status unchanged.
 */
export function applyProxyState(status: Record<string, unknown>, rejections: readonly ProxyRejection[]): Record<string, unknown> {
  if (rejections.length === 0) return status;
  const sorted = [...rejections].sort((a, b) => (a.node + '\0' + a.typeUrl < b.node + '\0' + b.typeUrl ? -1 : 1));
  const message = sorted.map((r) => `rejected by proxy ${r.node}: ${r.message}`).join('; ');
  const at = sorted.map((r) => r.at).sort()[0];
  const out: Record<string, unknown> = { ...status, conditions: withNotProgrammed(status.conditions, message, at) };
  if (Array.isArray(status.listeners)) {
    out.listeners = status.listeners.map((l) => (isObj(l) ? { ...l, conditions: withNotProgrammed(l.conditions, message, at) } : l));
  }
  return out;
}

export interface StatusDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation: number };
  status: Record<string, unknown>;
}

/** The document written for a report (Gateways with the proxies' rejections applied). */
export function statusDocument(report: ReportEvent, proxies: ProxyStates): StatusDocument {
  let status = report.status ?? {};
  if (report.kind === 'Gateway') status = applyProxyState(status, proxies.get(`${report.namespace}/${report.name}`) ?? []);
  return {
    apiVersion: report.apiVersion,
    kind: report.kind,
    metadata: { name: report.name, ...(report.namespace ? { namespace: report.namespace } : {}), generation: report.generation },
    status,
  };
}

export function renderStatusYaml(doc: StatusDocument): string {
  return stringify(doc, { lineWidth: 0 });
}

/** A path segment from a name that came over the wire: never empty, hidden, or a directory escape. */
function segment(value: string): string {
  const s = encodeURIComponent(value);
  return s.startsWith('.') ? `%2E${s.slice(1)}` : s;
}

/** `<kind>/<namespace or _cluster>/<name>.yaml`, relative to the status directory. */
export function statusFilePath(kind: string, namespace: string, name: string): string {
  return `${segment(kind)}/${namespace ? segment(namespace) : '_cluster'}/${segment(name)}.yaml`;
}
