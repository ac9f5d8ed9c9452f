// What the Kubernetes-mode edge services share: the source switch, the kubeconfig (KUBECONFIG, then
// ~/.kube/config, then the pod's service account: client-node's loadFromDefault), and a whole main.
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { connectEventLog, ensureStreams, type EventLog } from '../eventlog/index.ts';
import { streamUses } from '../eventlog/permissions.ts';
import { LeaseConfig } from '../lease/index.ts';
import { runWhileLeading } from '../lease/writer.ts';
import { CommonConfig, createLogger, loadConfig, onShutdown, type Logger, type ServiceName } from '../service/index.ts';
import { serveHealth } from '../service/health.ts';

export const SourceConfig = z.object({ GANTRY_SOURCE: z.enum(['file', 'kubernetes']).default('file') });

/** Where the cluster's objects live for this process: `file` (a manifests directory) or `kubernetes`. */
export function sourceOf(env: NodeJS.ProcessEnv = process.env): 'file' | 'kubernetes' {
  return loadConfig('gantry', SourceConfig, env).GANTRY_SOURCE;
}

export const KubeSourceConfig = CommonConfig.extend({
  GANTRY_DEBOUNCE_MS: z.coerce.number().int().nonnegative().default(20),
  GANTRY_CONTROLLER_NAME: z.string().default('gantry.dev/gateway-controller'),
  ...LeaseConfig.shape,
});

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured (KUBECONFIG, ~/.kube/config or in-cluster service account)');
  return kc;
}

export interface KubeServiceOptions {
  eventLog: EventLog;
  cluster: string;
  kc: KubeConfig;
  log: Logger;
  debounceMs: number;
  controllerName: string;
}

/**
 * A Kubernetes-mode service's whole `main`: configuration, logger, event log, kubeconfig, and the
 * service started only while it holds its lease (libs/lease/writer.ts), stopped when it loses it.
 */
export async function serveKubeSource(
  service: ServiceName, start: (opts: KubeServiceOptions) => Promise<{ stop(): Promise<void>; synced?: Promise<void>; caughtUp?: Promise<void> }>, message: string,
): Promise<void> {
  const config = loadConfig(service, KubeSourceConfig);
  const log = createLogger(service, config.GANTRY_LOG_LEVEL);
  const kc = loadKubeConfig();
  const eventLog = await connectEventLog(config.GANTRY_NATS_URL, `gantry-${service}`, log);
  await ensureStreams(eventLog.jsm, streamUses(service), log);
  const health = await serveHealth(service, config, log, { nats: eventLog.nc });
  const lease = runWhileLeading({
    eventLog, service, cluster: config.GANTRY_CLUSTER, ttlMs: config.GANTRY_LEASE_TTL_MS, log, health, check: 'in step',
    start: async () => {
      const running = await start({
        eventLog, cluster: config.GANTRY_CLUSTER, kc, log, debounceMs: config.GANTRY_DEBOUNCE_MS, controllerName: config.GANTRY_CONTROLLER_NAME,
      });
      log.info({ server: kc.getCurrentCluster()?.server, cluster: config.GANTRY_CLUSTER }, message);
      return running;
    },
    // In step once the API server's state is in the log (watcher) or the reports are replayed (reporter).
    inStep: (running) => running.synced ?? running.caughtUp ?? Promise.resolve(),
  });
  onShutdown(log, async () => {
    await lease.stop();
    await eventLog.close();
  });
}
