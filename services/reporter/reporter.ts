// The reporter in file mode: follows REPORTS (compacted replay, then live) and PROXIES, and keeps
// one status file per object under the status directory. Writes are atomic (temporary file and
// rename) and only happen when a file's content changes; a Gateway's file also reflects the
// proxies' NACKs (see libs/status).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProxyEventSchema, ReportEventSchema, STREAMS, subjects, type ReportEvent } from '../../libs/contracts/index.ts';
import { followStream, type EventLog, type Follower } from '../../libs/eventlog/index.ts';
import type { Logger } from '../../libs/service/index.ts';
import { reduceProxyState, renderStatusYaml, statusDocument, statusFilePath, type ProxyStates } from '../../libs/status/index.ts';

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

export async function startReporter(opts: ReporterOptions): Promise<RunningReporter> {
  const { eventLog, statusDir, log } = opts;
  await mkdir(statusDir, { recursive: true });
  const reports = new Map<string, ReportEvent>();
  let proxies: ProxyStates = new Map();
  /** What each file holds, as far as this process knows (undefined: not read yet). */
  const written = new Map<string, string | null>();
  let writes: Promise<unknown> = Promise.resolve();

  const sync = async (path: string) => {
    const report = reports.get(path);
    const want = report && report.op === 'upsert' ? renderStatusYaml(statusDocument(report, proxies)) : null;
    const file = join(statusDir, path);
    let have = written.get(path);
    if (have === undefined) have = await readFile(file, 'utf8').catch(() => null);
    if (have === want) { written.set(path, want); return; }
    if (want === null) {
      await rm(file, { force: true });
      await rmdir(dirname(file)).catch(() => undefined); // only when empty
      log.info({ file: path }, 'removed status');
    } else {
      await mkdir(dirname(file), { recursive: true });
      const tmp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(tmp, want);
      await rename(tmp, file);
      log.info({ file: path, kind: report!.kind, namespace: report!.namespace, objectName: report!.name, generation: report!.generation }, 'wrote status');
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
    for (const path of await walk('')) if (!reports.has(path)) await schedule(path);
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
  followers.push(await followStream(eventLog, {
    stream: STREAMS.PROXIES, schema: ProxyEventSchema, log, from: 'last',
    onEvent: (e) => {
      const next = reduceProxyState(proxies, e);
      if (next === proxies) return;
      proxies = next;
      if (e.event === 'nack') log.warn({ gateway: e.gateway, node: e.node, typeUrl: e.typeUrl, version: e.version, detail: e.errorDetail?.message }, 'proxy rejected configuration');
      else log.info({ gateway: e.gateway, node: e.node, event: e.event }, 'proxy rejection cleared');
      const slash = e.gateway.indexOf('/');
      if (slash > 0) void schedule(keyOf('Gateway', e.gateway.slice(0, slash), e.gateway.slice(slash + 1)));
    },
  }));

  return {
    caughtUp,
    idle: async () => { let w; do { w = writes; await w; } while (w !== writes); },
    stop: async () => {
      for (const f of followers) await f.stop();
      await writes;
    },
  };
}
