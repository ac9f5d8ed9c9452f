// The rendered install (`kubectl kustomize`, every overlay) created object by object in a fresh test
// API server through @kubernetes/client-node's generic KubernetesObjectApi, loaded with client-node's
// own loadAllYaml (plain parsed YAML would lose CRD fields whose model names differ, such as `default`
// and `x-kubernetes-*`). The server starts without the Gateway API types: a custom resource is
// served only once the rendered CRD for it is created and established, as in a fresh cluster. Every
// object must then read back holding everything it was rendered with (defaults may add, nothing may
// be dropped or changed): a field its kind does not have would be lost on the way, and fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException, CustomObjectsApi, dumpYaml, KubernetesObjectApi, loadAllYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GANTRY_GROUP } from '../../libs/manifests/resources.ts';
import { kustomize, render } from '../deploy/render.ts';
import { startTestCluster } from './cluster.ts';

type Obj = Record<string, any>;
const OVERLAYS = ['single', 'ha', 'member', 'experimental'].map((o) => `deploy/overlays/${o}`);
const GW = 'gateway.networking.k8s.io';
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const named = (o: Obj) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** Namespaces first, then CRDs (what the rest may need to exist), then the rest as rendered. */
function createOrder(docs: readonly Obj[]): number[] {
  const rank = (o: Obj) => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  return docs.map((_, i) => i).sort((a, b) => rank(docs[a]) - rank(docs[b]) || a - b);
}

/** Where `actual` lacks or changes what `expected` holds; fields only `actual` has (defaults) are fine. */
function differences(expected: unknown, actual: unknown, path = ''): string[] {
  if (isObj(expected)) {
    if (!isObj(actual)) return [`${path || '.'}: ${JSON.stringify(actual)} instead of an object`];
    return Object.entries(expected).flatMap(([k, v]) => differences(v, actual[k], `${path}.${k}`));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${path}: ${JSON.stringify(actual)} instead of ${expected.length} items`];
    return expected.flatMap((v, i) => differences(v, actual[i], `${path}[${i}]`));
  }
  return expected === actual ? [] : [`${path}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`];
}

/** The object as the server now holds it, read through client-node and turned back into its wire form. */
async function readBack(objects: KubernetesObjectApi, o: Obj): Promise<Obj> {
  const back = await objects.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } });
  return parse(dumpYaml(back));
}

const failure = (e: unknown) => (e instanceof ApiException ? `HTTP ${e.code}: ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body)}` : String(e));

/** Creates every rendered object of `dir` in order, failing on the first refused, and returns what each create answered. */
async function createAll(kc: KubeConfig, dir: string): Promise<Obj[]> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const wire = render(dir);
  const typed = loadAllYaml(kustomize(dir)) as KubernetesObject[];
  const created: Obj[] = [];
  for (const i of createOrder(wire)) {
    try {
      created[i] = await objects.create(typed[i]!);
    } catch (e) {
      assert.fail(`${dir}: creating ${named(wire[i]!)} failed: ${failure(e)}`);
    }
  }
  return created;
}

for (const dir of OVERLAYS) {
  test(`${dir}: every rendered object is created through client-node in a fresh API server and reads back as rendered`, async () => {
    const { api, kc } = await startTestCluster({ gatewayApi: false });
    try {
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const wire = render(dir);
      const created = await createAll(kc, dir);
      for (const [i, o] of wire.entries()) {
        const back = await readBack(objects, o);
        assert.equal(back.metadata.uid, created[i]!.metadata.uid, `${named(o)} reads back as the object created`);
        assert.deepEqual(differences(o, back), [], `${named(o)} holds what was rendered`);
      }
      const crds = wire.filter((o) => o.kind === 'CustomResourceDefinition');
      assert.ok(crds.some((c) => c.spec.group === GANTRY_GROUP) && crds.some((c) => c.spec.group === GW), 'Gantry\'s and the Gateway API CRDs are rendered');
      for (const crd of crds) {
        const status = (await readBack(objects, crd)).status;
        for (const type of ['NamesAccepted', 'Established']) {
          assert.equal(status.conditions.find((c: Obj) => c.type === type)?.status, 'True', `${crd.metadata.name} ${type}`);
        }
        assert.deepEqual(differences(crd.spec.names, status.acceptedNames), [], `${crd.metadata.name} names accepted`);
        for (const version of crd.spec.versions.filter((v: Obj) => v.served)) {
          const listed = (await objects.list(`${crd.spec.group}/${version.name}`, crd.spec.names.kind)).items;
          assert.ok(Array.isArray(listed), `${crd.spec.names.kind} served at ${version.name}`);
        }
      }
      // A custom resource created once its CRD is: schema defaults are applied as kube applies them.
      assert.ok(wire.some((o) => o.kind === 'GatewayClass'), 'the rendered GatewayClass was created after its CRD');
      const upstream = { apiVersion: `${GANTRY_GROUP}/v1alpha1`, kind: 'Upstream', metadata: { name: 'static', namespace: 'gantry-system' },
        spec: { type: 'Static', static: { hosts: [{ address: '10.0.0.1', port: 8080 }] } } };
      await objects.create(upstream);
      const stored = await readBack(objects, upstream);
      assert.equal(stored.spec.protocol, 'HTTP');
      assert.equal(stored.spec.static.hosts[0].weight, 1);
      assert.equal(api.list('Upstream').length, 1);
    } finally {
      await api.stop();
    }
  });
}

test('what a malformed manifest would hold fails: an unknown kind, a CRD kube refuses, a custom resource its schema refuses, a field its kind lacks', async () => {
  const dir = 'deploy/overlays/single';
  const { api, kc } = await startTestCluster({ gatewayApi: false });
  try {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const gatewayClass = { apiVersion: `${GW}/v1`, kind: 'GatewayClass', metadata: { name: 'early' }, spec: { controllerName: 'gantry.dev/gateway-controller' } };
    await assert.rejects(objects.create(gatewayClass), (e: ApiException<unknown>) => e.code === 404, 'no GatewayClass before its CRD');
    await assert.rejects(custom.createClusterCustomObject({ group: GW, version: 'v1', plural: 'gatewayclasses', body: gatewayClass }),
      (e: ApiException<unknown>) => e.code === 404);
    await assert.rejects(objects.create({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }), /Unrecognized API version and kind/);

    const typed = loadAllYaml(kustomize(dir)) as Obj[];
    const gatewayClassCrd = typed.find((o) => o.kind === 'CustomResourceDefinition' && o.spec.names.kind === 'GatewayClass')!;
    const unapproved = structuredClone(gatewayClassCrd);
    delete unapproved.metadata.annotations['api-approved.kubernetes.io'];
    await assert.rejects(objects.create(unapproved), (e: ApiException<string>) => e.code === 422 && /api-approved\.kubernetes\.io/.test(String(e.body)));

    await createAll(kc, dir);
    await assert.rejects(objects.create({ ...gatewayClass, spec: {} }), (e: ApiException<string>) => e.code === 422 && /spec\.controllerName: Required value/.test(String(e.body)));
    await assert.rejects(objects.create({ ...gatewayClass, metadata: { name: 'typo' }, spec: { controllerName: 'x/y', parametersRef: { kind: 'K', name: 'n' } } }),
      (e: ApiException<string>) => e.code === 422 && /parametersRef\.group: Required value/.test(String(e.body)));

    // A field the kind does not have: client-node's model drops it on the way (kubectl's strict validation would refuse it), so it does not read back.
    const deployment = structuredClone(render(dir).find((o) => o.kind === 'Deployment')!);
    deployment.metadata.name = 'typo';
    deployment.spec.replica = 2;
    await objects.create(loadAllYaml(JSON.stringify(deployment))[0] as KubernetesObject);
    assert.deepEqual(differences(deployment, await readBack(objects, deployment)), ['.spec.replica: undefined instead of 2']);
    assert.equal(api.get('Deployment', 'gantry-system', 'typo')?.spec.replica, undefined);
  } finally {
    await api.stop();
  }
});
