// Status as the reporter writes it (pure): the document of one object, where it lives in the status
// directory, and what proxies say about a Gateway. A NACK from a proxy makes the Gateway (and each
// listener) not Programmed until that proxy accepts a later version of the same resource type; a
// NACK of route configurations also makes the routes whose rules they hold not Accepted by that
// Gateway. The proxies themselves (ACKed versions per type, NACKs) are listed per Gateway.
import { stringify } from 'yaml';
import type { ProxyEvent, ReportEvent } from '../contracts/index.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../xds/type-urls.ts';

/** One proxy's rejection of one resource type's version. */
export interface ProxyRejection {
  node: string;
  typeUrl: string;
  version: string;
  message: string;
  /** When the proxy rejected it (the event's time): the condition's lastTransitionTime. */
  at: string;
  /** The stream that reported it: a `disconnected` of another (older) stream does not clear it. */
  stream?: string;
  /** Route configurations: the routes ("<Kind>/<ns>/<name>") whose rules were rejected. */
  objects?: readonly string[];
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
        {
          node: e.node, typeUrl, version: e.version ?? '', message: e.errorDetail?.message || 'configuration rejected', at: e.emittedAt,
          ...(e.stream ? { stream: e.stream } : {}), ...(e.objects?.length ? { objects: e.objects } : {}),
        },
      ];
      break;
    case 'ack':
      next = current.filter((r) => !(r.node === e.node && r.typeUrl === typeUrl && r.version !== (e.version ?? '')));
      break;
    case 'disconnected':
      next = current.filter((r) => !(r.node === e.node && sameStream(r.stream, e.stream)));
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

/** Whether a `disconnected` of `ended` ends what `recorded` came from (unknown streams match: older producers). */
function sameStream(recorded: string | undefined, ended: string | undefined): boolean {
  return recorded === undefined || ended === undefined || recorded === ended;
}

export type Condition = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number; lastTransitionTime?: string; [k: string]: unknown };
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `conditions` with `want` set (keeping lastTransitionTime when status and reason already match, else `at`). */
export function withCondition(conditions: unknown, want: { type: string; status: string; reason: string; message: string }, at: string): Condition[] {
  const list = (Array.isArray(conditions) ? conditions.filter(isObj) : []) as Condition[];
  const existing = list.find((c) => c.type === want.type);
  const unchanged = existing && existing.status === want.status && existing.reason === want.reason;
  const next: Condition = {
    ...(existing ?? {}),
    ...want,
    lastTransitionTime: unchanged && existing.lastTransitionTime ? existing.lastTransitionTime : at,
  };
  return existing ? list.map((c) => (c === existing ? next : c)) : [...list, next];
}

function withNotProgrammed(conditions: unknown, message: string, at: string): Condition[] {
  return withCondition(conditions, { type: 'Programmed', status: 'False', reason: 'Invalid', message }, at);
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

/** The kind/namespace/name key route objects are named by in NACK events. */
export const objectKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** The object key of the Gateway proxies report under ("<namespace>/<name>"), or undefined for a malformed one. */
export function gatewayObjectKey(gateway: string): string | undefined {
  const slash = gateway.indexOf('/');
  return slash > 0 ? objectKey('Gateway', gateway.slice(0, slash), gateway.slice(slash + 1)) : undefined;
}

/**
 * One PROXIES event folded into the rejection states, with the objects whose status it may change:
 * the Gateway, and the routes its rejections name before or after. Undefined when nothing changed.
 */
export function proxyStateChange(states: ProxyStates, e: ProxyEvent): { states: ProxyStates; objects: string[] } | undefined {
  const gateway = gatewayObjectKey(e.gateway);
  if (!gateway) return undefined;
  const next = reduceProxyState(states, e);
  if (next === states) return undefined;
  const routes = new Set([...(states.get(e.gateway) ?? []), ...(next.get(e.gateway) ?? [])].flatMap((r) => r.objects ?? []));
  return { states: next, objects: [gateway, ...routes] };
}

/** The Gateway ("<ns>/<name>") a route's parentRef names, or undefined for other parent kinds (ListenerSets). */
function parentGateway(ref: unknown, routeNamespace: string): string | undefined {
  if (!isObj(ref) || typeof ref.name !== 'string') return undefined;
  if (ref.kind !== undefined && ref.kind !== 'Gateway') return undefined;
  if (ref.group !== undefined && ref.group !== 'gateway.networking.k8s.io') return undefined;
  return `${typeof ref.namespace === 'string' && ref.namespace ? ref.namespace : routeNamespace}/${ref.name}`;
}

/**
 * A route's status with the proxies' rejections of its rules applied: on each parent that is a
 * Gateway whose proxies NACKed a route configuration holding the route's rules, `Accepted` becomes
 * False, reason `UnsupportedValue` (the spec's reason for a route with a value the implementation
 * cannot program), message "rejected by proxy <node> (<config names>): <detail>". The route spec has
 * no Programmed condition, and the Gateway did not accept what it cannot serve; the proxy keeps
 * serving its last good version meanwhile (the message says so). Cleared by an ACK of a later version.
 */
export function applyRouteRejections(
  status: Record<string, unknown>, key: string, routeNamespace: string, proxies: ProxyStates,
): Record<string, unknown> {
  if (!Array.isArray(status.parents) || proxies.size === 0) return status;
  let changed = false;
  const parents = status.parents.map((p) => {
    if (!isObj(p)) return p;
    const gw = parentGateway(p.parentRef, routeNamespace);
    const rejections = (gw ? proxies.get(gw) ?? [] : []).filter((r) => r.objects?.includes(key));
    if (rejections.length === 0) return p;
    changed = true;
    const sorted = [...rejections].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    const message = sorted.map((r) => `rejected by proxy ${r.node}: ${r.message}`).join('; ')
      + ' (the proxy keeps serving its last accepted version)';
    const at = sorted.map((r) => r.at).sort()[0];
    return { ...p, conditions: withCondition(p.conditions, { type: 'Accepted', status: 'False', reason: 'UnsupportedValue', message }, at) };
  });
  return changed ? { ...status, parents } : status;
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
  else status = applyRouteRejections(status, objectKey(report.kind, report.namespace, report.name), report.namespace, proxies);
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

// --- proxies, per Gateway ------------------------------------------------------------------------

/** The short names the proxies file and table use for the xDS types. */
export const PROXY_TYPES: ReadonlyArray<{ typeUrl: string; short: string }> = [
  { typeUrl: LISTENER, short: 'LDS' }, { typeUrl: ROUTE, short: 'RDS' }, { typeUrl: CLUSTER, short: 'CDS' },
  { typeUrl: ENDPOINT, short: 'EDS' }, { typeUrl: SECRET, short: 'SDS' },
];
const shortType = (typeUrl: string) => PROXY_TYPES.find((t) => t.typeUrl === typeUrl)?.short ?? typeUrl;

export interface ProxyTypeState {
  /** The last version of the type the proxy accepted. */
  acked?: string;
  /** Its rejection standing since (cleared by an ACK of another version). */
  nack?: { version: string; message: string; at: string };
}

export interface ProxyRecord {
  node: string;
  replica: string;
  /** The stream of the replica serving it (the latest one reporting). */
  stream?: string;
  /** The time of its latest event. */
  lastSeen: string;
  /** By short type name (LDS, RDS, CDS, EDS, SDS). */
  types: Readonly<Record<string, ProxyTypeState>>;
}

/** Per Gateway ("<namespace>/<name>"), its connected proxies by node id. */
export type ProxyTable = ReadonlyMap<string, ReadonlyMap<string, ProxyRecord>>;

/**
 * Folds one PROXIES event into the table: `connected`, `ack` and `nack` create or update the node's
 * record (replica, stream, last seen; per type the acked version or the standing NACK);
 * `disconnected` removes it, unless it names another stream than the record's (the proxy already
 * reconnected, maybe to another replica, and the old stream's end was reported late).
 */
export function reduceProxyTable(table: ProxyTable, e: ProxyEvent): ProxyTable {
  const nodes = table.get(e.gateway) ?? new Map<string, ProxyRecord>();
  const current = nodes.get(e.node);
  let next: ProxyRecord | undefined;
  if (e.event === 'disconnected') {
    if (!current || !sameStream(current.stream, e.stream) || (e.stream === undefined && current.replica !== e.replica)) return table;
    next = undefined;
  } else {
    const types: Record<string, ProxyTypeState> = { ...(current?.types ?? {}) };
    if (e.typeUrl && (e.event === 'ack' || e.event === 'nack')) {
      const t = shortType(e.typeUrl);
      const was = types[t] ?? {};
      types[t] = e.event === 'ack'
        ? { acked: e.version ?? '', ...(was.nack && was.nack.version === (e.version ?? '') ? { nack: was.nack } : {}) }
        : { ...(was.acked !== undefined ? { acked: was.acked } : {}), nack: { version: e.version ?? '', message: e.errorDetail?.message || 'configuration rejected', at: e.emittedAt } };
    }
    next = { node: e.node, replica: e.replica, ...(e.stream ? { stream: e.stream } : {}), lastSeen: e.emittedAt, types };
  }
  const out = new Map(table);
  const updated = new Map(nodes);
  if (next) updated.set(e.node, next); else updated.delete(e.node);
  if (updated.size === 0) out.delete(e.gateway); else out.set(e.gateway, updated);
  return out;
}

export interface ProxiesDocument {
  gateway: string;
  proxies: ProxyRecord[];
}

/** The proxies file of one Gateway (nodes sorted), or null when it has none. */
export function proxiesDocument(gateway: string, table: ProxyTable): ProxiesDocument | null {
  const nodes = table.get(gateway);
  if (!nodes || nodes.size === 0) return null;
  const proxies = [...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map(({ stream: _stream, ...rest }) => rest);
  return { gateway, proxies };
}

/** Proxies files live beside the status files, under a directory no kind can be named. */
export const PROXIES_DIR = '_proxies';

/** `_proxies/<namespace>/<gateway>.yaml`, relative to the status directory. */
export function proxiesFilePath(gateway: string): string {
  const slash = gateway.indexOf('/');
  return `${PROXIES_DIR}/${segment(gateway.slice(0, slash))}/${segment(gateway.slice(slash + 1))}.yaml`;
}

export function renderProxiesYaml(doc: ProxiesDocument): string {
  return stringify(doc, { lineWidth: 0 });
}
