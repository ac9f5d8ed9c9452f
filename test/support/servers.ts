// Real nats-server and redis-server for tests, each on a free loopback port with its own data
// directory, stopped when the test ends. No mocks: these are the servers production uses.
import { randomBytes } from 'node:crypto';
import { natsAuthorization, natsUser, natsUsers, passwordVariable, type Clusters } from '../../libs/eventlog/permissions.ts';
import { type ServiceName } from '../../libs/service/index.ts';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../libs/service/local-servers.ts';

export { freeLoopbackPort as freePort, waitForPort } from '../../libs/service/net.ts';

export type RunningServer = LocalServer;

export const startNats = (opts?: LocalServerOptions): Promise<RunningServer> => startLocalServer('nats', 'ignore', opts);
export const startRedis = (): Promise<RunningServer> => startLocalServer('redis');

export interface NatsWithUsers extends RunningServer {
  /**
   * `nats://<user>:<password>@host:port`: `service`'s own user from `cluster` (the main cluster when
   * omitted), as its Deployment's GANTRY_NATS_URL.
   */
  urlOf(service: ServiceName, cluster?: string): string;
}

/**
 * nats-server configured as deployed: the `authorization` block rendered from
 * libs/eventlog/permissions.ts for `clusters`, the passwords in its environment. Only the services'
 * users exist.
 */
export async function startNatsWithUsers(clusters: Clusters = ['main']): Promise<NatsWithUsers> {
  const users = natsUsers(clusters);
  const passwords = new Map(users.map((u) => [u.name, `pw${randomBytes(12).toString('hex')}`]));
  const nats = await startNats({
    config: natsAuthorization(clusters),
    env: Object.fromEntries(users.map((u) => [passwordVariable(u.name), passwords.get(u.name)])),
  });
  return {
    ...nats,
    urlOf: (service, cluster = clusters[0]) => {
      const { name } = natsUser(service, cluster, clusters);
      return `nats://${name}:${passwords.get(name)}@127.0.0.1:${nats.port}`;
    },
  };
}
