// Wiring of one xds-server replica: NATS (event log), Redis (snapshots), the snapshot cache and
// the discovery server (ADS and the per-type services, state of the world and delta). main.ts
// adds configuration and signals; tests start replicas with this directly.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ProxyEventSchema, PROXY_SCHEMA, subjects } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, publishEventNoAck } from '../../libs/eventlog/index.ts';
import { streamUses } from '../../libs/eventlog/permissions.ts';
import type { Check } from '../../libs/service/health.ts';
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
  /**
   * A connection older than this (± grpc-js's own 10% jitter) is sent a GOAWAY, so proxies rebalance
   * over replicas added since; 0 keeps connections forever.
   */
  GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS: z.coerce.number().nonnegative().default(1800),
  /** Then streams still open on it (ADS streams never end by themselves) are cut after this. */
  GANTRY_XDS_MAX_CONNECTION_AGE_GRACE_SECONDS: z.coerce.number().nonnegative().default(30),
  /** Server certificate chain and key (PEM files): TLS on the xDS port. */
  GANTRY_XDS_TLS_CERT: z.string().min(1).optional(),
  GANTRY_XDS_TLS_KEY: z.string().min(1).optional(),
  /** CA bundle (PEM file) for client certificates: with it, proxies must present one (mTLS). */
  GANTRY_XDS_TLS_CLIENT_CA: z.string().min(1).optional(),
  /** With mTLS: a proxy's certificate must carry the SPIFFE ID of the Gateway its node.cluster names. */
  GANTRY_XDS_AUTHENTICATE_PROXIES: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  /** With proxy authentication: the SPIFFE trust domain accepted (any, when unset). */
  GANTRY_XDS_TRUST_DOMAIN: z.string().min(1).optional(),
});
export type XdsServerConfig = z.output<typeof XdsServerConfig>;

export interface RunningXdsServer {
  port: number;
  address: string;
  cache: RedisSnapshotCache;
  /**
   * Readiness: listening, and Redis reached at least once (before that a replica has nothing to
   * serve). Not Redis or NATS *now*: a replica keeps serving what it holds through an outage, and
   * failing readiness on a dependency every replica shares would take them all out of the Service
   * at once, leaving proxies nowhere to connect.
   */
  checks: Record<string, Check>;
  stop(): Promise<void>;
}

/** The xDS port's credentials: plaintext, TLS, or mTLS when a client CA is set. */
export function xdsCredentials(config: XdsServerConfig): grpc.ServerCredentials {
  const { GANTRY_XDS_TLS_CERT: cert, GANTRY_XDS_TLS_KEY: key, GANTRY_XDS_TLS_CLIENT_CA: ca } = config;
  if (!cert && !key && !ca) return grpc.ServerCredentials.createInsecure();
  if (!cert || !key) throw new Error('GANTRY_XDS_TLS_CERT and GANTRY_XDS_TLS_KEY go together (and GANTRY_XDS_TLS_CLIENT_CA needs both)');
  return grpc.ServerCredentials.createSsl(
    ca ? readFileSync(ca) : null,
    [{ cert_chain: readFileSync(cert), private_key: readFileSync(key) }],
    Boolean(ca),
  );
}

export async function startXdsServer(
  config: XdsServerConfig, baseLog: Logger, observe?: AdsServerOptions['observe'],
): Promise<RunningXdsServer> {
  const replica = config.GANTRY_REPLICA_ID;
  const credentials = xdsCredentials(config); // before connecting anything: a bad file fails fast
  const mtls = Boolean(config.GANTRY_XDS_TLS_CLIENT_CA);
  const log = baseLog.child({ replica });
  const events = await connectEventLog(config.GANTRY_NATS_URL, `xds-server ${replica}`, log);
  await ensureStreams(events.jsm, streamUses('xds-server'), log);

  // Fail fast while Redis is down (no offline queue): the cache keeps serving what it holds.
  const redis = new Redis(config.GANTRY_REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.debug({ err: err.message }, 'redis error'));
  let redisReached = false;
  redis.on('ready', () => { redisReached = true; });

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
    maxConnectionAgeMs: config.GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS * 1000,
    maxConnectionAgeGraceMs: config.GANTRY_XDS_MAX_CONNECTION_AGE_GRACE_SECONDS * 1000,
    credentials,
    authenticateProxies: mtls && config.GANTRY_XDS_AUTHENTICATE_PROXIES ? { trustDomain: config.GANTRY_XDS_TRUST_DOMAIN } : undefined,
    // One event per proxy ACK: 5,000 proxies on a push are 5,000 events. A core publish (stored and
    // deduplicated by the PROXIES stream) costs no request, reply inbox and timer per event.
    reportProxyEvent: async (event, msgId) => {
      publishEventNoAck(events.nc, ProxyEventSchema, subjects.proxy(event.gateway, event.node), {
        ...event, schema: PROXY_SCHEMA, replica, emittedAt: new Date().toISOString(),
      }, msgId);
    },
  });
  const port = await server.listen(config.GANTRY_XDS_ADDRESS, config.GANTRY_XDS_PORT);
  const address = `${config.GANTRY_XDS_ADDRESS}:${port}`;
  log.info({
    address, tls: config.GANTRY_XDS_TLS_CERT ? (mtls ? 'mtls' : 'tls') : 'off',
    authenticateProxies: mtls && config.GANTRY_XDS_AUTHENTICATE_PROXIES,
    maxConnectionAgeSeconds: config.GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS || undefined,
  }, 'xds-server listening');

  return {
    port, address, cache,
    checks: { listening: () => true, 'redis reached': () => redisReached || redis.status === 'ready' || `Redis ${redis.status}, never reached yet` },
    stop: async () => {
      await server.stop();
      cache.stop();
      redis.disconnect();
      await events.close().catch(() => undefined);
    },
  };
}
