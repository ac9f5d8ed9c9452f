// Real nats-server and redis-server for tests, each on a free loopback port with its own data
// directory, stopped when the test ends. No mocks: these are the servers production uses.
import { randomBytes } from 'node:crypto';
import { natsAuthorization, passwordVariable } from '../../libs/eventlog/permissions.ts';
import { SERVICES, type ServiceName } from '../../libs/service/index.ts';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../libs/service/local-servers.ts';

export { freeLoopbackPort as freePort, waitForPort } from '../../libs/service/net.ts';

export type RunningServer = LocalServer;

export const startNats = (opts?: LocalServerOptions): Promise<RunningServer> => startLocalServer('nats', 'ignore', opts);
export const startRedis = (): Promise<RunningServer> => startLocalServer('redis');

export interface NatsWithUsers extends RunningServer {
  /** `nats://<service>:<password>@host:port`: the service's own user, as its Deployment's GANTRY_NATS_URL. */
  urlOf(service: ServiceName): string;
}

/**
 * nats-server configured as deployed: the `authorization` block rendered from
 * libs/eventlog/permissions.ts, the passwords in its environment. Only the services' users exist.
 */
export async function startNatsWithUsers(): Promise<NatsWithUsers> {
  const passwords = Object.fromEntries(SERVICES.map((s) => [s, `pw${randomBytes(12).toString('hex')}`])) as Record<ServiceName, string>;
  const nats = await startNats({
    config: natsAuthorization(),
    env: Object.fromEntries(SERVICES.map((s) => [passwordVariable(s), passwords[s]])),
  });
  return { ...nats, urlOf: (service) => `nats://${service}:${passwords[service]}@127.0.0.1:${nats.port}` };
}
