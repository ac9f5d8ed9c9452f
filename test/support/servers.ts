// Real nats-server and redis-server for tests, each on a free loopback port with its own data
// directory, stopped when the test ends. No mocks: these are the servers production uses.
import { startLocalServer, type LocalServer } from '../../libs/service/local-servers.ts';

export { freeLoopbackPort as freePort, waitForPort } from '../../libs/service/net.ts';

export type RunningServer = LocalServer;

export const startNats = (): Promise<RunningServer> => startLocalServer('nats');
export const startRedis = (): Promise<RunningServer> => startLocalServer('redis');
