// `gantry status`: the status files the reporter wrote, read back and shown as a table, one row per
// object (per parent for routes), with the key conditions and a message for anything not well.
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROXIES_DIR, PROXY_TYPES, type ProxiesDocument, type ProxyRecord } from './index.ts';

export interface StatusEntry {
  kind: string;
  namespace: string;
  name: string;
  generation: number | undefined;
  status: Record<string, unknown>;
  /** The file, relative to the status directory. */
  path: string;
  /** Set when the file could not be read as a status document. */
  error?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every `<kind>/<namespace|_cluster>/<name>.yaml` under `dir` (sorted); unreadable files become entries with `error`. */
export function readStatusDir(dir: string): StatusEntry[] {
  const entries: StatusEntry[] = [];
  const walk = (rel: string) => {
    let items: Dirent[];
    try {
      items = readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const item of items) {
      const n = item.name;
      if (n.startsWith('.') || (rel === '' && n === PROXIES_DIR)) continue;
      const relPath = rel ? `${rel}/${n}` : n;
      if (item.isDirectory()) { walk(relPath); continue; }
      if (!n.endsWith('.yaml')) continue;
      const parts = relPath.split('/');
      const fallback: StatusEntry = {
        kind: decodeURIComponent(parts[0] ?? ''), namespace: parts[1] === '_cluster' ? '' : decodeURIComponent(parts[1] ?? ''),
        name: decodeURIComponent(n.slice(0, -'.yaml'.length)), generation: undefined, status: {}, path: relPath,
      };
      try {
        const doc = parse(readFileSync(join(dir, relPath), 'utf8')) as unknown;
        if (!isObj(doc)) throw new Error('not a mapping');
        const meta = isObj(doc.metadata) ? doc.metadata : {};
        entries.push({
          kind: typeof doc.kind === 'string' ? doc.kind : fallback.kind,
          namespace: typeof meta.namespace === 'string' ? meta.namespace : fallback.namespace,
          name: typeof meta.name === 'string' ? meta.name : fallback.name,
          generation: typeof meta.generation === 'number' ? meta.generation : undefined,
          status: isObj(doc.status) ? doc.status : {},
          path: relPath,
        });
      } catch (err) {
        entries.push({ ...fallback, error: `unreadable status file: ${(err as Error).message}` });
      }
    }
  };
  walk('');
  return entries;
}

const KEY_CONDITIONS = ['Accepted', 'ResolvedRefs', 'Programmed'];
/** Conditions whose True is the bad state. */
const NEGATIVE_POLARITY = new Set(['Conflicted', 'Detached', 'OverlappingTLSConfig', 'Degraded']);
const KIND_ORDER = ['GatewayClass', 'Gateway', 'ListenerSet', 'XListenerSet', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'];

type Condition = { type: string; status: string; reason?: string; message?: string };
function conditionsOf(v: unknown): Condition[] {
  return (Array.isArray(v) ? v : []).filter((c): c is Condition => isObj(c) && typeof c.type === 'string' && typeof c.status === 'string');
}
const isBad = (c: Condition) => (NEGATIVE_POLARITY.has(c.type) ? c.status === 'True' : c.status !== 'True');

function summary(conditions: Condition[]): string {
  const parts = KEY_CONDITIONS.flatMap((t) => {
    const c = conditions.find((x) => x.type === t);
    if (!c) return [];
    return [c.status === 'True' ? `${t}=True` : `${t}=${c.status}(${c.reason ?? ''})`];
  });
  return parts.join(' ') || '-';
}

function problems(conditions: Condition[], where = ''): string[] {
  return conditions.filter(isBad).map((c) => `${where}${c.type}: ${c.message || c.reason || c.status}`);
}

function parentName(ref: unknown, ownNamespace: string): string {
  if (!isObj(ref)) return '?';
  const ns = typeof ref.namespace === 'string' && ref.namespace !== ownNamespace ? `${ref.namespace}/` : '';
  const kind = typeof ref.kind === 'string' && ref.kind !== 'Gateway' ? `${ref.kind}:` : '';
  const section = typeof ref.sectionName === 'string' ? `:${ref.sectionName}` : '';
  const port = typeof ref.port === 'number' ? `:${ref.port}` : '';
  return `${kind}${ns}${String(ref.name ?? '?')}${section}${port}`;
}

type Row = [string, string, string, string, string, string, string];

function rowsOf(e: StatusEntry): Row[] {
  const base = [e.kind, e.namespace || '-', e.name, e.generation === undefined ? '-' : String(e.generation)] as const;
  if (e.error) return [[...base, '-', '-', e.error]];
  const s = e.status;
  if (Array.isArray(s.parents)) {
    const parents = s.parents.filter(isObj);
    if (parents.length === 0) return [[...base, '-', '-', 'no parent accepted or rejected this route yet']];
    return parents.map((p) => {
      const conds = conditionsOf(p.conditions);
      return [...base, parentName(p.parentRef, e.namespace), summary(conds), problems(conds).join('; ')];
    });
  }
  const conds = conditionsOf(s.conditions);
  const messages = problems(conds);
  if (Array.isArray(s.listeners)) {
    for (const l of s.listeners.filter(isObj)) {
      const lp = problems(conditionsOf(l.conditions), `listener ${String(l.name ?? '?')} `);
      // The Gateway's own message usually says the same; show a listener's only when it adds something.
      for (const m of lp) if (!messages.some((g) => m.endsWith(g.slice(g.indexOf(':'))))) messages.push(m);
    }
  }
  return [[...base, '-', summary(conds), messages.join('; ')]];
}

/** The table `gantry status` prints. */
export function formatStatusTable(entries: StatusEntry[]): string {
  if (entries.length === 0) return 'No status written yet.';
  const rank = (k: string) => (KIND_ORDER.indexOf(k) === -1 ? KIND_ORDER.length : KIND_ORDER.indexOf(k));
  const sorted = [...entries].sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind)
    || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const header: Row = ['KIND', 'NAMESPACE', 'NAME', 'GEN', 'PARENT', 'CONDITIONS', 'MESSAGE'];
  const rows: Row[] = [header, ...sorted.flatMap(rowsOf)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

// --- proxies ----------------------------------------------------------------------------------------

/** Every `_proxies/<ns>/<gateway>.yaml` under `dir`, sorted by Gateway; unreadable files are skipped with a note. */
export function readProxiesDir(dir: string): { gateways: ProxiesDocument[]; errors: string[] } {
  const gateways: ProxiesDocument[] = [];
  const errors: string[] = [];
  const root = join(dir, PROXIES_DIR);
  let namespaces: string[];
  try {
    namespaces = readdirSync(root).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return { gateways, errors };
  }
  for (const ns of namespaces) {
    let files: string[];
    try {
      files = readdirSync(join(root, ns)).filter((n) => n.endsWith('.yaml') && !n.startsWith('.')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const doc = parse(readFileSync(join(root, ns, f), 'utf8')) as unknown;
        if (!isObj(doc) || typeof doc.gateway !== 'string' || !Array.isArray(doc.proxies)) throw new Error('not a proxies document');
        gateways.push({ gateway: doc.gateway, proxies: doc.proxies.filter(isObj) as unknown as ProxyRecord[] });
      } catch (err) {
        errors.push(`${PROXIES_DIR}/${ns}/${f}: ${(err as Error).message}`);
      }
    }
  }
  gateways.sort((a, b) => a.gateway.localeCompare(b.gateway));
  return { gateways, errors };
}

/**
 * The proxies table `gantry status` prints after the objects: per proxy its Gateway, node, per type
 * (LDS, RDS, CDS, EDS, SDS) the ACKed version or `NACK`, replica and last event; NACK messages last.
 */
export function formatProxiesTable(gateways: readonly ProxiesDocument[]): string {
  const header = ['GATEWAY', 'NODE', ...PROXY_TYPES.map((t) => t.short), 'REPLICA', 'LAST SEEN', 'MESSAGE'];
  const rows: string[][] = [header];
  for (const g of gateways) {
    for (const p of g.proxies) {
      const types = isObj(p.types) ? p.types : {};
      const cells = PROXY_TYPES.map(({ short }) => {
        const t = isObj(types[short]) ? types[short] : undefined;
        if (t?.nack) return 'NACK';
        return typeof t?.acked === 'string' && t.acked ? t.acked : '-';
      });
      const messages = PROXY_TYPES.flatMap(({ short }) => {
        const nack = isObj(types[short]) ? types[short].nack : undefined;
        return isObj(nack) ? [`${short} ${String(nack.version ?? '?')}: ${String(nack.message ?? '')}`] : [];
      });
      rows.push([g.gateway, String(p.node ?? '?') || '(no id)', ...cells, String(p.replica ?? '-'), String(p.lastSeen ?? '-'), messages.join('; ')]);
    }
  }
  if (rows.length === 1) return 'No proxies connected.';
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}
