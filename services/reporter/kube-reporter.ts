// The reporter in Kubernetes mode: follows REPORTS of its own cluster (compacted replay, then live)
// and PROXIES, and writes each object's status to the API server through the status subresource,
// never the main resource, so spec is never touched. A write happens only when the status the
// object should have (libs/kube/status.ts: the report, with proxies' NACKs applied as in file mode,
// and other controllers' entries kept) differs from what the object has. Each write is a JSON merge
// patch carrying the resourceVersion it was computed from: a 409 means someone wrote in between,
// so the object is read again and the status recomputed. A 404 means the object is gone: its
// status is dropped. Other failures (the API server away) are retried with backoff; only the
// latest report per object is ever written.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { ProxyEventSchema, ReportEventSchema, STREAMS, subjects, type ReportEvent } from '../../libs/contracts/index.ts';
import { followStream, type EventLog, type Follower } from '../../libs/eventlog/index.ts';
import { kindByName } from '../../libs/kube/kinds.ts';
import { desiredStatus, stableJson, statusMergePatch } from '../../libs/kube/status.ts';
import type { Logger } from '../../libs/service/index.ts';
import { gatewayObjectKey, objectKey, proxyStateChange, reduceProxyTable, statusDocument, type ProxyStates, type ProxyTable } from '../../libs/status/index.ts';
import type { XdsTarget } from '../../libs/provisioning/infrastructure.ts';
import { applyInfrastructure, proxyCounts } from '../../libs/provisioning/status.ts';
import { startProvisioner, type RunningProvisioner } from './provisioner.ts';

export interface KubeReporterOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  controllerName: string;
  /** Status writes in flight at once. */
  concurrency?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Gateway provisioning (provisioner.ts); off when absent. */
  provisioning?: { xds: XdsTarget; envoyImage: string; debounceMs: number };
}

export interface RunningKubeReporter {
  caughtUp: Promise<void>;
  /** Resolves once no write is pending or running. */
  idle(): Promise<void>;
  /** Status writes done so far (PATCH requests that succeeded). */
  readonly writes: number;
  stop(): Promise<void>;
}

const MAX_CONFLICT_RETRIES = 10;
const PROVISIONING_WAIT_MS = 30_000;

export async function startKubeReporter(opts: KubeReporterOptions): Promise<RunningKubeReporter> {
  const { eventLog, log, controllerName } = opts;
  const custom = opts.kc.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const backoff = opts.backoff ?? { initialMs: 200, maxMs: 30_000 };
  const concurrency = opts.concurrency ?? 16;
  /** Latest report per object key ("<Kind>/<ns>/<name>"); a delete is kept until written. */
  const reports = new Map<string, ReportEvent>();
  let proxies: ProxyStates = new Map();
  let proxyTable: ProxyTable = new Map();
  let provisioner: RunningProvisioner | undefined;
  /**
   * Until provisioning has replayed and listed, a Gateway's infrastructure is unknown: its status
   * waits rather than flapping to Programmed and back on every restart (at most PROVISIONING_WAIT_MS,
   * so an API server refusing the lists cannot hold Gateway status back for good).
   */
  let provisioningKnown = !opts.provisioning;
  const heldGateways = new Set<string>();
  const pending = new Set<string>();
  const running = new Set<string>();
  const failures = new Map<string, number>();
  let writes = 0;
  let stopped = false;
  const idleWaiters: Array<() => void> = [];

  const target = (r: ReportEvent) => {
    const kind = kindByName(r.kind);
    if (!kind?.status) return undefined;
    const [group, version] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
    if (group !== kind.group) return undefined;
    const base = { group, version, plural: kind.plural, name: r.name };
    return kind.namespaced ? { ...base, namespace: r.namespace } : base;
  };
  const read = (t: any) => ('namespace' in t ? custom.getNamespacedCustomObject(t) : custom.getClusterCustomObject(t));
  const patch = (t: any, body: object) => ('namespace' in t
    ? custom.patchNamespacedCustomObjectStatus({ ...t, body }, mergePatch)
    : custom.patchClusterCustomObjectStatus({ ...t, body }, mergePatch));

  /** Makes one object's status what its latest report says; true when done, false to retry later. */
  const sync = async (key: string): Promise<boolean> => {
    const report = reports.get(key);
    if (!report) return true;
    const t = target(report);
    if (!t) return true;
    if (report.kind === 'Gateway' && !provisioningKnown) { heldGateways.add(key); return true; }
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      let live: any;
      try {
        live = await read(t);
      } catch (err) {
        if ((err as { code?: number }).code === 404) { if (report.op === 'delete') reports.delete(key); return true; }
        throw err;
      }
      let ours = report.op === 'upsert' ? statusDocument(report, proxies).status : null;
      const infrastructure = ours && report.kind === 'Gateway' ? provisioner?.infrastructureOf(report.namespace, report.name) : undefined;
      if (ours && infrastructure) {
        const counts = proxyCounts(proxyTable, `${report.namespace}/${report.name}`);
        ours = applyInfrastructure(ours, { ...infrastructure, connectedProxies: counts.connected, programmedProxies: counts.programmed },
          live.status, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      }
      const want = desiredStatus(live.status, ours, controllerName);
      if (stableJson(want) === stableJson(live.status ?? {})) break;
      try {
        await patch(t, { metadata: { resourceVersion: live.metadata.resourceVersion }, status: statusMergePatch(live.status, want) });
        writes++;
        log.info({ kind: report.kind, namespace: report.namespace, objectName: report.name, generation: report.generation }, 'wrote status');
        break;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === 409) { log.debug({ key }, 'status conflict; reading again'); continue; }
        if (code === 404) break;
        throw err;
      }
    }
    if (report.op === 'delete' && reports.get(key) === report) reports.delete(key);
    return true;
  };

  const pump = () => {
    if (stopped) return;
    for (const key of pending) {
      if (running.size >= concurrency) break;
      if (running.has(key)) continue;
      pending.delete(key);
      running.add(key);
      void sync(key)
        .then(() => failures.delete(key))
        .catch((err) => {
          const n = (failures.get(key) ?? 0) + 1;
          failures.set(key, n);
          const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(n - 1, 16));
          log.warn({ key, err: String((err as Error).message ?? err), retryInMs: delay }, 'status write failed; retrying');
          setTimeout(() => { pending.add(key); pump(); }, delay).unref();
        })
        .finally(() => {
          running.delete(key);
          pump();
          if (pending.size === 0 && running.size === 0 && failures.size === 0) for (const w of idleWaiters.splice(0)) w();
        });
    }
  };
  const schedule = (key: string) => { pending.add(key); pump(); };

  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  const followers: Follower[] = [];
  followers.push(await followStream(eventLog, {
    stream: STREAMS.REPORTS, filter: subjects.reportsOfCluster(opts.cluster), schema: ReportEventSchema, log, from: 'last',
    onEvent: (e) => {
      const key = objectKey(e.kind, e.namespace, e.name);
      reports.set(key, e);
      schedule(key);
    },
    onCaughtUp: () => { log.info({ objects: reports.size }, 'reports replayed'); resolveCaughtUp(); },
  }));
  followers.push(await followStream(eventLog, {
    stream: STREAMS.PROXIES, schema: ProxyEventSchema, log, from: 'last',
    onEvent: (e) => {
      if (opts.provisioning) {
        // Provisioned Gateways are Programmed once a proxy has acknowledged listeners: a change of the
        // counts is a change of status. (Kept from the replay on, before the provisioner starts.)
        const counted = proxyCounts(proxyTable, e.gateway);
        proxyTable = reduceProxyTable(proxyTable, e);
        const counts = proxyCounts(proxyTable, e.gateway);
        const gatewayKey = gatewayObjectKey(e.gateway);
        if (gatewayKey && (counts.connected !== counted.connected || counts.programmed !== counted.programmed)) schedule(gatewayKey);
      }
      const change = proxyStateChange(proxies, e);
      if (!change) return;
      proxies = change.states;
      for (const o of change.objects) schedule(o);
    },
  }));

  if (opts.provisioning) {
    provisioner = await startProvisioner({
      eventLog, cluster: opts.cluster, kc: opts.kc, log: log.child({ part: 'provisioner' }), controllerName,
      ...opts.provisioning,
      onGatewayChanged: (gateway) => { const key = gatewayObjectKey(gateway); if (key) schedule(key); },
    });
    const release = (why: string) => {
      if (provisioningKnown) return;
      provisioningKnown = true;
      log.info({ gateways: heldGateways.size, why }, 'writing Gateway status');
      for (const k of heldGateways) schedule(k);
      heldGateways.clear();
    };
    void provisioner.synced.then(() => release('provisioning in step'));
    setTimeout(() => release('provisioning not in step yet; writing what is known'), PROVISIONING_WAIT_MS).unref();
  }

  return {
    caughtUp: provisioner ? Promise.all([caughtUp, provisioner.synced]).then(() => undefined) : caughtUp,
    get writes() { return writes; },
    idle: async () => {
      await provisioner?.idle();
      if (pending.size > 0 || running.size > 0 || failures.size > 0) await new Promise<void>((r) => idleWaiters.push(r));
    },
    stop: async () => {
      stopped = true;
      await provisioner?.stop();
      for (const f of followers) await f.stop();
      while (running.size > 0) await new Promise((r) => setTimeout(r, 10));
    },
  };
}
