// A test API server (the kube-apiserver stand-in) with an unmodified client-node KubeConfig
// pointing at it, for the Kubernetes-mode service tests.
import { KubeConfig } from '@kubernetes/client-node';
import { TestApiServer, type TestApiServerOptions } from './api-server.ts';

export async function startTestCluster(opts: TestApiServerOptions = {}): Promise<{ api: TestApiServer; kc: KubeConfig }> {
  const api = new TestApiServer(opts);
  await api.start();
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
  return { api, kc };
}
