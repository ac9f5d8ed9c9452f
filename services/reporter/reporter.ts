// The reporter in file mode: follows REPORTS (compacted replay, then live) and PROXIES, and keeps
// one status file per object under the status directory. Writes are atomic (temporary file and
// rename) and only happen when a file's content changes; a Gateway's file also reflects the
// proxies' NACKs, a route's file the NACKs of route configurations holding its rules, and each
// Gateway's proxies (ACKed versions, NACKs, replica, last seen) go to `_proxies/<ns>/<gateway>.yaml`
// (see libs/status).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProxyEventSchema, ReportEventSchema, STREAMS, subjects, type ReportEvent } from '../../libs/contracts/index.ts';
import { followStream, type EventLog, type Follower } from '../../libs/eventlog/index.ts';
import type { Logger } from '../../libs/service/index.ts';
import { metrics } from '../../libs/service/metrics.ts';
import {
  PROXIES_DIR, proxiesDocument, proxiesFilePath, gatewayObjectKey, proxyStateChange, reduceProxyTable, renderProxiesYaml,
  renderStatusYaml, statusDocument, statusFilePath, type ProxyStates, type ProxyTable,
} from '../../libs/status/index.ts';

export interface ReporterOptions {
  eventLog: EventLog;
  cluster: string;
  statusDir: string;
  log: Logger;
}

export interface RunningReporter {
  /** Resolves once the REPORTS replay is written (and stale files removed). */
  caughtUp: Promise<void>;
  /** Resolves once every write asked for so far is done. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const keyOf = (kind: string, namespace: string, name: string) => statusFilePath(kind, namespace, name);

/** Status file paths of `<Kind>/<ns>/<name>` object keys. */
function statusPaths(objects: Iterable<string>): string[] {
  return [...objects].flatMap((o) => {
    const [kind, namespace, name] = o.split('/');
    return kind && namespace !== undefined && name ? [keyOf(kind, namespace, name)] : [];
  });
}

export async function startReporter(opts: ReporterOptions): Promise<RunningReporter> {
  const { eventLog, statusDir, log } = opts;
  await mkdir(statusDir, { recursive: true });
  const reports = new Map<string, ReportEvent>();
  let proxies: ProxyStates = new Map();
  let table: ProxyTable = new Map();
  /** Proxies file path → its Gateway, for the files this process manages. */
  const proxyFiles = new Map<string, string>();
  /** What each file holds, as far as this process knows (undefined: not read yet). */
  const written = new Map<string, string | null>();
  let writes: Promise<unknown> = Promise.resolve();
  /** Set by stop(): writes still queued are dropped, as the lease may be someone else's now. */
  let stopped = false;

  const render = (path: string): string | null => {
    if (path.startsWith(`${PROXIES_DIR}/`)) {
      const gateway = proxyFiles.get(path);
      const doc = gateway === undefined ? null : proxiesDocument(gateway, table);
      return doc ? renderProxiesYaml(doc) : null;
    }
    const report = reports.get(path);
    return report && report.op === 'upsert' ? renderStatusYaml(statusDocument(report, proxies)) : null;
  };
  const sync = async (path: string) => {
    if (stopped) return;
    const report = reports.get(path);
    const want = render(path);
    const file = join(statusDir, path);
    let have = written.get(path);
    if (have === undefined) have = await readFile(file, 'utf8').catch(() => null);
    if (have === want) { written.set(path, want); return; }
    if (want === null) {
      await rm(file, { force: true });
      await rmdir(dirname(file)).catch(() => undefined); // only when empty
      log.info({ file: path }, 'removed status');
      metrics.statusWrites.inc({ op: 'remove' });
    } else {
      await mkdir(dirname(file), { recursive: true });
      const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(tmp, want);
      await rename(tmp, file);
      metrics.statusWrites.inc({ op: 'write' });
      if (report) log.info({ file: path, kind: report.kind, namespace: report.namespace, objectName: report.name, generation: report.generation }, 'wrote status');
      else log.debug({ file: path }, 'wrote proxies');
    }
    written.set(path, want);
  };
  const schedule = (path: string) => {
    writes = writes.then(() => sync(path)).catch((err) => log.error({ err, file: path }, 'status write failed'));
    return writes;
  };

  /** After the replay: files of objects the log does not hold (deleted while the reporter was down). */
  const prune = async () => {
    const walk = async (rel: string): Promise<string[]> => {
      const items = await readdir(join(statusDir, rel), { withFileTypes: true }).catch(() => []);
      const out: string[] = [];
      for (const i of items) {
        const p = rel ? `${rel}/${i.name}` : i.name;
        if (i.isDirectory()) out.push(...await walk(p));
        else if (i.name.endsWith('.yaml') && !i.name.startsWith('.')) out.push(p);
      }
      return out;
    };
    for (const path of await walk('')) {
      if (!path.startsWith(`${PROXIES_DIR}/`) && !reports.has(path)) await schedule(path);
    }
  };
  /** After the PROXIES replay: proxies files of Gateways without proxies (written before a restart). */
  const pruneProxies = async () => {
    for (const ns of await readdir(join(statusDir, PROXIES_DIR)).catch(() => [] as string[])) {
      for (const f of await readdir(join(statusDir, PROXIES_DIR, ns)).catch(() => [] as string[])) {
        const path = `${PROXIES_DIR}/${ns}/${f}`;
        if (f.endsWith('.yaml') && !f.startsWith('.') && !proxyFiles.has(path)) await schedule(path); // removed
      }
    }
  };

  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  const followers: Follower[] = [];
  followers.push(await followStream(eventLog, {
    stream: STREAMS.REPORTS, filter: subjects.reportsOfCluster(opts.cluster), schema: ReportEventSchema, log, from: 'last',
    onEvent: (e) => {
      const path = keyOf(e.kind, e.namespace, e.name);
      if (e.op === 'delete') reports.delete(path); else reports.set(path, e);
      void schedule(path);
    },
    onCaughtUp: async () => {
      await prune();
      await writes;
      log.info({ objects: reports.size }, 'status replayed');
      resolveCaughtUp();
    },
  }));
  // Replay the latest event per proxy too, so a NACK standing at start-up is still shown.
  // (Only the latest event per proxy is replayed: until it reports again, a proxy shows what that says.)
  followers.push(await followStream(eventLog, {
    stream: STREAMS.PROXIES, schema: ProxyEventSchema, log, from: 'last',
    onEvent: (e) => {
      if (!gatewayObjectKey(e.gateway)) return;
      const nextTable = reduceProxyTable(table, e);
      if (nextTable !== table) {
        table = nextTable;
        const file = proxiesFilePath(e.gateway);
        proxyFiles.set(file, e.gateway);
        void schedule(file);
      }
      const change = proxyStateChange(proxies, e);
      if (!change) return;
      proxies = change.states;
      if (e.event === 'nack') log.warn({ gateway: e.gateway, node: e.node, typeUrl: e.typeUrl, version: e.version, detail: e.errorDetail?.message, objects: e.objects }, 'proxy rejected configuration');
      else log.info({ gateway: e.gateway, node: e.node, event: e.event }, 'proxy rejection cleared');
      for (const path of statusPaths(change.objects)) void schedule(path);
    },
    onCaughtUp: () => pruneProxies(),
  }));

  return {
    caughtUp,
    idle: async () => { let w; do { w = writes; await w; } while (w !== writes); },
    stop: async () => {
      stopped = true;
      for (const f of followers) await f.stop();
      await writes;
    },
  };
}
