// translator: replays RESOURCES and ENDPOINTS into a World, translates it into one snapshot per
// Gateway, stores snapshots in Redis, announces them on SNAPSHOTS and publishes status on REPORTS.
// Several may run: only the holder of the `translator.<cluster>` lease (libs/lease) writes; the
// others are hot standbys, following the log into their World so that taking over is one cycle.
import { Redis } from 'ioredis';
import { EndpointsEventSchema, ResourceEventSchema, STREAMS } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, followStream } from '../../libs/eventlog/index.ts';
import { streamUses } from '../../libs/eventlog/permissions.ts';
import { holderIdentity, leaseCheck, startLease, type Lease } from '../../libs/lease/index.ts';
import { createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { redisCheck, serveHealth } from '../../libs/service/health.ts';
import { SnapshotWriter } from '../../libs/snapshots/redis-store.ts';
import { localAddresses } from '../../libs/service/local-addresses.ts';
import { World } from '../../libs/world/world.ts';
import { Publisher } from './publisher.ts';

import { TranslatorConfig as Config } from './config.ts';

const config = loadConfig('translator', Config);
const log = createLogger('translator', config.GANTRY_LOG_LEVEL);
const events = await connectEventLog(config.GANTRY_NATS_URL, 'gantry-translator', log);
await ensureStreams(events.jsm, streamUses('translator'), log);

/**
 * The Redis connection of the lease term being led. Each term writes on a connection of its own,
 * closed when the term ends: ioredis queues commands while Redis is unreachable and would send
 * them on reconnecting, long after another translator took over; closing drops them unsent.
 */
let termRedis: Redis | undefined;
let lease: Lease | undefined;
const world = new World();
const publisher = new Publisher({
  events, log, world,
  options: { controllerName: config.GANTRY_CONTROLLER_NAME, defaultAddress: config.GANTRY_GATEWAY_ADDRESS, usableAddresses: localAddresses() },
});
// A standby uses no Redis, so only the leader's readiness follows it (a standby can take over
// while Redis is away: its first cycle then waits for Redis, as a leader's would).
const health = await serveHealth('translator', config, log, {
  nats: events.nc, waitFor: ['caught up'],
  checks: { redis: () => (termRedis ? redisCheck(termRedis)() : true), lease: leaseCheck(() => lease, () => publisher.inStep) },
});

let timer: NodeJS.Timeout | undefined;
let replayed = false;
const schedule = () => {
  if (!replayed) return;
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
replayed = true;
health.ready('caught up');

// Campaigning starts only now: a translator that has not replayed the log never leads.
const holder = holderIdentity();
lease = startLease({
  nc: events.nc, service: 'translator', cluster: config.GANTRY_CLUSTER, ttlMs: config.GANTRY_LEASE_TTL_MS, log, holder,
  run: async (term) => {
    // Named after the holder, so CLIENT LIST shows which translator writes.
    const redis = new Redis(config.GANTRY_REDIS_URL, { maxRetriesPerRequest: null, connectionName: `gantry-translator:${holder}` });
    redis.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error'));
    termRedis = redis;
    try {
      await publisher.lead(new SnapshotWriter(redis, term.fence), term);
    } finally {
      termRedis = undefined;
      redis.disconnect();
    }
  },
});

onShutdown(log, async () => {
  clearTimeout(timer);
  await lease?.stop(); // ends the term (no write after this) and releases the lease
  await resources.stop();
  await endpoints.stop();
  await events.close();
});
