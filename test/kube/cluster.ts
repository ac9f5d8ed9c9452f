// A test API server (the kube-apiserver stand-in) with an unmodified client-node KubeConfig
// pointing at it, for the Kubernetes-mode service tests.
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeReporter, type KubeReporterOptions } from '../../services/reporter/kube-reporter.ts';
import { quietLog, startEdgeEnv } from '../edge/edge-support.ts';
import { TestApiServer, type TestApiServerOptions } from './api-server.ts';

export async function startTestCluster(opts: TestApiServerOptions = {}): Promise<{ api: TestApiServer; kc: KubeConfig }> {
  const api = new TestApiServer(opts);
  await api.start();
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
  return { api, kc };
}

/** The controller name the reporter tests run as (the default of GANTRY_CONTROLLER_NAME). */
export const CONTROLLER = 'gantry.dev/gateway-controller';

/**
 * A nats-server, the test API server (`prepare` runs on it first: CRDs, objects) and a
 * Kubernetes-mode reporter writing to it with short retry backoffs; `close` stops all three.
 */
export async function startReporterCluster(opts: Partial<KubeReporterOptions> = {}, prepare?: (api: TestApiServer) => void) {
  const env = await startEdgeEnv();
  const { api, kc } = await startTestCluster();
  prepare?.(api);
  const reporter = await startKubeReporter({
    eventLog: env.eventLog, cluster: 'local', kc, log: quietLog, controllerName: CONTROLLER, backoff: { initialMs: 20, maxMs: 200 }, ...opts,
  });
  return { env, api, kc, reporter, close: async () => { await reporter.stop(); await api.stop(); await env.close(); } };
}
