// The whole pipeline in Kubernetes mode: the test API server holds the Gateway API objects; the
// watcher, endpoint-discovery and the reporter speak to it (GANTRY_SOURCE=kubernetes): the echo
// backends' Services and EndpointSlices are created there too, and the reporter provisions the
// Gateway's proxy objects there; the other services are as always.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { serviceManifest, startPipeline, type Pipeline } from '../support/pipeline.ts';
import type { XdsClientResult, XdsGrpcClient } from '../support/xds-grpc-client.ts';
import { TestApiServer } from './api-server.ts';

const GW = 'gateway.networking.k8s.io/v1';
const CONTROLLER = 'gantry.dev/gateway-controller';
const TARGET = 'xds:///echo.test:8080';
const ECHO = '/gantry.test.Echo/Call';

const route = (name: string, host: string, backend: string) => ({
  apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: 'default' },
  spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ backendRefs: [{ name: `echo-${backend}`, port: 9000 }] }] },
});
const sum = (r: XdsClientResult) => Object.values(r.backends).reduce((a, b) => a + b, 0);
const only = (backend: string) => (r: XdsClientResult) => Object.keys(r.errors).length === 0 && sum(r) > 0 && r.backends[backend] === sum(r);

/** Whether a route's status says our Gateway accepted its current generation. */
function accepted(o: any): boolean {
  const parent = o.status?.parents?.find((p: any) => p.controllerName === CONTROLLER && p.parentRef?.name === 'gw');
  const c = parent?.conditions?.find((x: any) => x.type === 'Accepted');
  return c?.status === 'True' && c.observedGeneration === o.metadata.generation;
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kubernetes mode: API server → watcher → translator → xds-server and reporter → status', { timeout: 240_000 }, () => {
  let api: TestApiServer;
  let p: Pipeline;
  let client: XdsGrpcClient;

  before(async () => {
    api = new TestApiServer({ bookmarkIntervalMs: 1000 });
    await api.start();
    const kubeconfig = api.writeKubeconfig(process.env.TMPDIR ?? '/tmp');
    // Gantry's own CRDs, as deploy/ installs them (the Gateway API ones the test API server serves already).
    const crds = new URL('../../deploy/crds/gantry/', import.meta.url);
    for (const f of readdirSync(crds).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml')) api.create(parse(readFileSync(new URL(f, crds), 'utf8')));
    api.create({ apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'gantry' }, spec: { controllerName: CONTROLLER } });
    api.create({ apiVersion: GW, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'gantry', listeners: [{ name: 'http', protocol: 'HTTP', port: 8080 }] } });
    p = await startPipeline(['a', 'b'], { env: { GANTRY_SOURCE: 'kubernetes', KUBECONFIG: kubeconfig } });
    // The backends' ports are known once they run: their Services and slices go in afterwards.
    for (const b of Object.values(p.backends)) for (const doc of parseAllDocuments(serviceManifest(b.name, b.port))) api.create(doc.toJS());
    client = await p.client('kube-client');
  });

  after(async () => {
    await p?.stop();
    await api?.stop();
  });

  it('an HTTPRoute created, changed and deleted in the API server reaches the gRPC client, and its status comes back', async () => {
    try {
      api.create(route('echo', 'echo.test', 'a'));
      await client.runUntil({ target: TARGET, method: ECHO, count: 10 }, only('a'), 60_000);
      await until('the route Accepted', () => accepted(api.get('HTTPRoute', 'default', 'echo')), 30_000);
      // The reporter provisions the Gateway's Envoy Deployment and Service. No kubelet or cloud load
      // balancer runs here: the test reports a ready pod and an address as they would. The proxy that
      // acknowledges the listeners is the gRPC client (node.cluster default/gw).
      await until('the proxy Deployment and Service', () => !!api.get('Deployment', 'default', 'gw-gantry') && !!api.get('Service', 'default', 'gw-gantry'), 30_000);
      const programmed = () => api.get('Gateway', 'default', 'gw')?.status?.conditions?.find((c: any) => c.type === 'Programmed');
      await until('Programmed waiting for the address', () => programmed()?.reason === 'AddressNotAssigned', 30_000);
      api.updateStatus('Service', 'default', 'gw-gantry', (o) => { o.status = { loadBalancer: { ingress: [{ ip: '192.0.2.80' }] } }; });
      api.updateStatus('Deployment', 'default', 'gw-gantry', (o) => { o.status = { replicas: 1, readyReplicas: 1 }; });
      await until('the Gateway Programmed', () => programmed()?.status === 'True', 30_000);
      assert.deepEqual(api.get('Gateway', 'default', 'gw')!.status.addresses, [{ type: 'IPAddress', value: '192.0.2.80' }]);
      const spec = api.get('HTTPRoute', 'default', 'echo')!.spec;
      api.update('HTTPRoute', 'default', 'echo', (o) => { o.spec.rules[0].backendRefs[0].name = 'echo-b'; });
      await client.runUntil({ target: TARGET, method: ECHO, count: 10 }, only('b'), 30_000);
      await until('the new generation Accepted', () => accepted(api.get('HTTPRoute', 'default', 'echo')), 30_000);
      assert.notDeepEqual(api.get('HTTPRoute', 'default', 'echo')!.spec, spec, 'the reporter never wrote spec back');
      api.delete('HTTPRoute', 'default', 'echo');
      await client.runUntil({ target: TARGET, method: ECHO, count: 3, deadlineMs: 2000 }, (r) => sum(r) === 0, 30_000);
      assert.equal(api.get('HTTPRoute', 'default', 'echo'), undefined);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${p.logs.slice(-60).join('\n')}`);
    }
  });

  it('1,000 HTTPRoutes created at once all show Accepted', async () => {
    const N = 1000;
    const started = Date.now();
    for (let i = 0; i < N; i++) api.create(route(`bulk-${i}`, `bulk-${i}.example.com`, i % 2 ? 'a' : 'b'));
    const created = Date.now();
    await until('every route Accepted', () => api.list('HTTPRoute').filter((o) => o.metadata.name.startsWith('bulk-') && accepted(o)).length === N, 180_000);
    const done = Date.now();
    process.stdout.write(`# 1,000 HTTPRoutes: created in ${created - started} ms; all Accepted ${done - started} ms after the first was created\n`);
    const gw = api.get('Gateway', 'default', 'gw')!;
    assert.equal(gw.status.listeners[0].attachedRoutes, N);
  });

  it('Gantry\'s own kinds: endpoint-discovery writes the Services\' Upstreams, options and Upstreams get their status', async () => {
    const acceptedNow = (kind: string, name: string) => api.get(kind, 'default', name)?.status?.conditions?.some((c: any) => c.type === 'Accepted' && c.status === 'True');
    try {
      await until('the discovered Upstream of echo-a Accepted', () => !!acceptedNow('Upstream', 'echo-a-9000'), 30_000);
      assert.equal(api.get('Upstream', 'default', 'echo-a-9000')!.metadata.labels['gateway.gantry.dev/discovered'], 'true');
      api.create(route('opt', 'opt.test', 'a'));
      api.create({ apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'RouteOption', metadata: { name: 'opt-timeouts', namespace: 'default' }, spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'opt' }], options: { timeouts: { request: '5s' } },
      } });
      await until('the RouteOption Accepted', () => !!acceptedNow('RouteOption', 'opt-timeouts'), 30_000);
      api.delete('Service', 'default', 'echo-b');
      await until('the Upstream of the deleted Service removed', () => !api.get('Upstream', 'default', 'echo-b-9000'), 30_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${p.logs.slice(-60).join('\n')}`);
    }
  });
});
