// watcher (file mode): publishes the Gateway API objects, Namespaces, Secrets and ConfigMaps of a
// manifests directory to the RESOURCES stream, and keeps them in step as the files change.
import { z } from 'zod';
import { connectEventLog, ensureStreams } from '../../libs/eventlog/index.ts';
import { CommonConfig, createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { startWatcher } from './watcher.ts';

const Config = CommonConfig.extend({
  GANTRY_MANIFESTS: z.string().min(1),
  GANTRY_DEBOUNCE_MS: z.coerce.number().int().nonnegative().default(100),
  GANTRY_RESYNC_MS: z.coerce.number().int().nonnegative().default(30_000),
});

const config = loadConfig('watcher', Config);
const log = createLogger('watcher', config.GANTRY_LOG_LEVEL);
const eventLog = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-watcher', log);
await ensureStreams(eventLog.jsm);
const watcher = await startWatcher({
  eventLog, cluster: config.GANTRY_CLUSTER, manifests: config.GANTRY_MANIFESTS,
  debounceMs: config.GANTRY_DEBOUNCE_MS, resyncMs: config.GANTRY_RESYNC_MS, log,
});
log.info({ manifests: config.GANTRY_MANIFESTS, cluster: config.GANTRY_CLUSTER }, 'watching manifests');
onShutdown(log, async () => {
  await watcher.stop();
  await eventLog.close();
});
