// translator: replays RESOURCES and ENDPOINTS into a World, translates it into one snapshot per
// Gateway, stores snapshots in Redis, announces them on SNAPSHOTS and publishes status on REPORTS.
import { Redis } from 'ioredis';
import {
  EndpointsEventSchema, ReportEventSchema, ResourceEventSchema, STREAMS,
} from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, followStream } from '../../libs/eventlog/index.ts';
import { createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { serveHealth } from '../../libs/service/health.ts';
import { SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { localAddresses } from '../../libs/service/local-addresses.ts';
import { World } from '../../libs/world/world.ts';
import { Publisher } from './publisher.ts';

import { TranslatorConfig as Config } from './config.ts';

const config = loadConfig('translator', Config);
const log = createLogger('translator', config.GANTRY_LOG_LEVEL);
const events = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-translator', log);
await ensureStreams(events.jsm);
const redis = new Redis(config.GANTRY_REDIS_URL, { maxRetriesPerRequest: null });
redis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error'));
const health = await serveHealth('translator', config, log, { nats: events.nc, redis, waitFor: ['caught up'] });

const world = new World();
const publisher = new Publisher({
  events, writer: new SnapshotWriter(redis), log, world,
  options: { controllerName: config.GANTRY_CONTROLLER_NAME, defaultAddress: config.GANTRY_GATEWAY_ADDRESS, usableAddresses: localAddresses() },
});

await publisher.loadHeads();

// What REPORTS already holds, so a restarted translator publishes only what changed.
const reports = await followStream(events, {
  stream: STREAMS.REPORTS, filter: 'gantry.rep.>', schema: ReportEventSchema, log,
  onEvent: (e) => publisher.notePublishedReport(e),
});
await reports.caughtUp;
await reports.stop();

let timer: NodeJS.Timeout | undefined;
let ready = false;
const schedule = () => {
  if (!ready) return;
  clearTimeout(timer);
  timer = setTimeout(() => void publisher.run(), config.GANTRY_DEBOUNCE_MS);
};

const resources = await followStream(events, {
  stream: STREAMS.RESOURCES, schema: ResourceEventSchema, log,
  onEvent: (e, m) => {
    if (world.applyResource(e, m.seq)) {
      log.debug({ resource: `${e.kind}/${e.namespace}/${e.name}`, op: e.op, seq: m.seq }, 'resource event applied');
      schedule();
    }
  },
});
const endpoints = await followStream(events, {
  stream: STREAMS.ENDPOINTS, schema: EndpointsEventSchema, log,
  onEvent: (e, m) => {
    if (world.applyEndpoints(e, m.seq)) schedule();
  },
});
await Promise.all([resources.caughtUp, endpoints.caughtUp]);
log.info({ streams: world.streams }, 'event log replayed');
ready = true;
await publisher.run();
health.ready('caught up');

onShutdown(log, async () => {
  clearTimeout(timer);
  await resources.stop();
  await endpoints.stop();
  await publisher.idle();
  await events.close();
  redis.disconnect();
});
