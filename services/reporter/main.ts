// reporter (file mode): writes every object's computed status (REPORTS), with the proxies' NACKs
// applied to Gateways (PROXIES), as YAML files under GANTRY_STATUS_DIR.
import { z } from 'zod';
import { connectEventLog, ensureStreams } from '../../libs/eventlog/index.ts';
import { CommonConfig, createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { startReporter } from './reporter.ts';

const Config = CommonConfig.extend({ GANTRY_STATUS_DIR: z.string().min(1) });

const config = loadConfig('reporter', Config);
const log = createLogger('reporter', config.GANTRY_LOG_LEVEL);
const eventLog = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-reporter', log);
await ensureStreams(eventLog.jsm);
const reporter = await startReporter({ eventLog, cluster: config.GANTRY_CLUSTER, statusDir: config.GANTRY_STATUS_DIR, log });
log.info({ statusDir: config.GANTRY_STATUS_DIR, cluster: config.GANTRY_CLUSTER }, 'writing status');
onShutdown(log, async () => {
  await reporter.stop();
  await eventLog.close();
});
