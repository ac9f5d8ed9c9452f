// endpoint-discovery (file mode): publishes the endpoints of every Service in a manifests
// directory (from its EndpointSlices) to the ENDPOINTS stream, and keeps them in step.
import { z } from 'zod';
import { connectEventLog, ensureStreams } from '../../libs/eventlog/index.ts';
import { CommonConfig, createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { startEndpointDiscovery } from './discovery.ts';

const Config = CommonConfig.extend({
  GANTRY_MANIFESTS: z.string().min(1),
  GANTRY_DEBOUNCE_MS: z.coerce.number().int().nonnegative().default(100),
  GANTRY_RESYNC_MS: z.coerce.number().int().nonnegative().default(30_000),
});

const config = loadConfig('endpoint-discovery', Config);
const log = createLogger('endpoint-discovery', config.GANTRY_LOG_LEVEL);
const eventLog = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-endpoint-discovery', log);
await ensureStreams(eventLog.jsm);
const discovery = await startEndpointDiscovery({
  eventLog, cluster: config.GANTRY_CLUSTER, manifests: config.GANTRY_MANIFESTS,
  debounceMs: config.GANTRY_DEBOUNCE_MS, resyncMs: config.GANTRY_RESYNC_MS, log,
});
log.info({ manifests: config.GANTRY_MANIFESTS, cluster: config.GANTRY_CLUSTER }, 'discovering endpoints from manifests');
onShutdown(log, async () => {
  await discovery.stop();
  await eventLog.close();
});
