// Wiring of one xds-server replica: NATS (event log), Redis (snapshots), the snapshot cache and
// the discovery server (ADS and the per-type services, state of the world and delta). main.ts
// adds configuration and signals; tests start replicas with this directly.
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ProxyEventSchema, PROXY_SCHEMA, subjects } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEvent } from '../../libs/eventlog/index.ts';
import { CommonConfig } from '../../libs/service/index.ts';
import { DEFAULT_MAX_NAMES } from '../../libs/xds-server/stream-state.ts';
import { AdsServer, DEFAULT_MAX_RECEIVE_BYTES, DEFAULT_MAX_SEND_BYTES, type AdsServerOptions } from './ads-server.ts';
import { RedisSnapshotCache } from './snapshot-cache.ts';

export const XdsServerConfig = CommonConfig.extend({
  GANTRY_XDS_PORT: z.coerce.number().int().min(0).max(65535).default(18000),
  GANTRY_XDS_ADDRESS: z.string().min(1).default('127.0.0.1'),
  GANTRY_REPLICA_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** How often every held Gateway's head is re-read from Redis, in case an event was missed. */
  GANTRY_XDS_RESYNC_SECONDS: z.coerce.number().positive().default(30),
  /** Largest request a proxy may send; larger ends its stream with RESOURCE_EXHAUSTED. */
  GANTRY_XDS_MAX_RECEIVE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_RECEIVE_BYTES),
  /** Largest response the server sends; a larger one ends the stream with RESOURCE_EXHAUSTED. */
  GANTRY_XDS_MAX_SEND_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_SEND_BYTES),
  /** Most resource names one stream may subscribe to, over all types; more ends it with RESOURCE_EXHAUSTED. */
  GANTRY_XDS_MAX_NAMES: z.coerce.number().int().positive().default(DEFAULT_MAX_NAMES),
});
export type XdsServerConfig = z.output<typeof XdsServerConfig>;

export interface RunningXdsServer {
  port: number;
  address: string;
  cache: RedisSnapshotCache;
  stop(): Promise<void>;
}

export async function startXdsServer(
  config: XdsServerConfig, baseLog: Logger, observe?: AdsServerOptions['observe'],
): Promise<RunningXdsServer> {
  const replica = config.GANTRY_REPLICA_ID;
  const log = baseLog.child({ replica });
  const events = await connectEventLog(config.GANTRY_NATS_URL, `xds-server ${replica}`, log);
  await ensureStreams(events.jsm);

  // Fail fast while Redis is down (no offline queue): the cache keeps serving what it holds.
  const redis = new Redis(config.GANTRY_REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.debug({ err: err.message }, 'redis error'));

  const cache = new RedisSnapshotCache({ redis, log, resyncMs: config.GANTRY_XDS_RESYNC_SECONDS * 1000 });
  cache.start(events.nc);

  const server = new AdsServer({
    cache,
    log,
    replica,
    observe,
    maxReceiveBytes: config.GANTRY_XDS_MAX_RECEIVE_BYTES,
    maxSendBytes: config.GANTRY_XDS_MAX_SEND_BYTES,
    maxNames: config.GANTRY_XDS_MAX_NAMES,
    reportProxyEvent: async (event, msgId) => {
      await publishEvent(events.js, ProxyEventSchema, subjects.proxy(event.gateway, event.node), {
        ...event, schema: PROXY_SCHEMA, replica, emittedAt: new Date().toISOString(),
      }, msgId);
    },
  });
  const port = await server.listen(config.GANTRY_XDS_ADDRESS, config.GANTRY_XDS_PORT);
  const address = `${config.GANTRY_XDS_ADDRESS}:${port}`;
  log.info({ address }, 'xds-server listening');

  return {
    port, address, cache,
    stop: async () => {
      await server.stop();
      cache.stop();
      redis.disconnect();
      await events.close().catch(() => undefined);
    },
  };
}
