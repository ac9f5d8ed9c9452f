// reporter: writes every object's computed status (REPORTS), with the proxies' NACKs applied to
// Gateways (PROXIES): as YAML files under GANTRY_STATUS_DIR (file mode), or to the API server.
import { connectEventLog, ensureStreams } from '../../libs/eventlog/index.ts';
import { streamUses } from '../../libs/eventlog/permissions.ts';
import { createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { startReporter } from './reporter.ts';
import { serveHealth } from '../../libs/service/health.ts';
import { runWhileLeading } from '../../libs/lease/writer.ts';

import { ProvisioningConfig, ReporterConfig as Config } from './config.ts';
import { serveKubeSource, sourceOf } from '../../libs/kube/serve.ts';
import { startKubeReporter } from './kube-reporter.ts';

// GANTRY_SOURCE=kubernetes: status goes to the API server's status subresources instead (kube-reporter.ts).
if (sourceOf() === 'kubernetes') {
  const p = loadConfig('reporter', ProvisioningConfig);
  const provisioning = (debounceMs: number) => (p.GANTRY_PROVISIONING
    ? { provisioning: { xds: { address: p.GANTRY_XDS_ADDRESS, port: p.GANTRY_XDS_PORT }, envoyImage: p.GANTRY_ENVOY_IMAGE, debounceMs } }
    : {});
  await serveKubeSource('reporter', (o) => startKubeReporter({ ...o, ...provisioning(o.debounceMs) }), 'writing status to the Kubernetes API');
} else await serveFiles();

async function serveFiles(): Promise<void> {
  const config = loadConfig('reporter', Config);
  const log = createLogger('reporter', config.GANTRY_LOG_LEVEL);
  const eventLog = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-reporter', log);
  await ensureStreams(eventLog.jsm, streamUses('reporter'), log);
  const health = await serveHealth('reporter', config, log, { nats: eventLog.nc });
  // Only the lease holder writes status files; a standby starts the reporter when it takes over.
  const lease = runWhileLeading({
    eventLog, service: 'reporter', cluster: config.GANTRY_CLUSTER, ttlMs: config.GANTRY_LEASE_TTL_MS, log, health, check: 'caught up',
    start: async () => {
      const reporter = await startReporter({ eventLog, cluster: config.GANTRY_CLUSTER, statusDir: config.GANTRY_STATUS_DIR, log });
      log.info({ statusDir: config.GANTRY_STATUS_DIR, cluster: config.GANTRY_CLUSTER }, 'writing status');
      return reporter;
    },
    inStep: (reporter) => reporter.caughtUp,
  });
  onShutdown(log, async () => {
    await lease.stop();
    await eventLog.close();
  });
}
