// xds-server: serves each proxy its Gateway's snapshot over ADS or the per-type services, state of
// the world or delta. Stateless:
// snapshots come from Redis, change notices from NATS, and proxy events go back to NATS.
//   node --import tsx services/xds-server/main.ts
// Environment: GANTRY_NATS_URL, GANTRY_REDIS_URL, GANTRY_CLUSTER, GANTRY_LOG_LEVEL, GANTRY_XDS_PORT
// (18000), GANTRY_XDS_ADDRESS (127.0.0.1), GANTRY_REPLICA_ID (hostname-pid), GANTRY_XDS_RESYNC_SECONDS (30),
// GANTRY_XDS_MAX_RECEIVE_BYTES (4 MiB), GANTRY_XDS_MAX_SEND_BYTES (64 MiB), GANTRY_XDS_MAX_NAMES (10000),
// GANTRY_XDS_MAX_CONNECTION_AGE_SECONDS (1800), GANTRY_XDS_MAX_CONNECTION_AGE_GRACE_SECONDS (30),
// GANTRY_XDS_TLS_CERT, GANTRY_XDS_TLS_KEY, GANTRY_XDS_TLS_CLIENT_CA, GANTRY_XDS_AUTHENTICATE_PROXIES (true),
// GANTRY_XDS_TRUST_DOMAIN.
import { createLogger, loadConfig, onShutdown } from '../../libs/service/index.ts';
import { startXdsServer, XdsServerConfig, type RunningXdsServer } from './service.ts';
import { serveHealth } from '../../libs/service/health.ts';

const config = loadConfig('xds-server', XdsServerConfig);
const log = createLogger('xds-server', config.GANTRY_LOG_LEVEL);
let running: RunningXdsServer | undefined;
// Installed first, so a signal that arrives while starting still shuts down in order.
onShutdown(log, async () => running?.stop());
running = await startXdsServer(config, log);
await serveHealth('xds-server', config, log, { checks: running.checks });
