// CustomResourceDefinitions in the test API server, driven by the unmodified client-node: creating one
// serves its resource once kube's controllers would have named and established it; its schema
// prunes, defaults and validates custom resources; deleting it deletes them and stops serving it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ApiException, CustomObjectsApi, KubernetesObjectApi, loadAllYaml, PatchStrategy, setHeaderOptions, Watch, type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { eventually } from '../edge/edge-support.ts';
import { CORE_TYPES, TestApiServer } from './api-server.ts';
import { startTestCluster } from './cluster.ts';

type Obj = Record<string, any>;
const GROUP = 'example.com';

/** A Widget CRD: v1 (storage, status subresource), v1beta1 (served, no status subresource), v1alpha1 (not served). */
const widgetsCrd = (name = `widgets.${GROUP}`, kind = 'Widget', plural = 'widgets', extra = '') => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${name}${extra}}
spec:
  group: ${GROUP}
  scope: Namespaced
  names: {kind: ${kind}, plural: ${plural}}
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema: &schema
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, enum: [blue, red], default: blue}
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, required: [name], properties: {name: {type: string}, count: {type: integer, default: 1}}}
          status: {type: object, properties: {ready: {type: boolean}}}
  - {name: v1, served: true, storage: true, schema: *schema, subresources: {status: {}}}
  - {name: v1alpha1, served: false, storage: false, schema: *schema}
`;

let api: TestApiServer;
let kc: KubeConfig;
let objects: KubernetesObjectApi;
let custom: CustomObjectsApi;
before(async () => {
  ({ api, kc } = await startTestCluster({ gatewayApi: false, bookmarkIntervalMs: 60_000 }));
  objects = KubernetesObjectApi.makeApiClient(kc);
  custom = kc.makeApiClient(CustomObjectsApi);
});
after(async () => { await api.stop(); });

const createYaml = (text: string) => objects.create(loadAllYaml(text)[0] as KubernetesObject) as Promise<Obj>;
const crd = (name: string) => api.get('CustomResourceDefinition', '', name);
const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c: Obj) => c.type === type);
const get = async (path: string) => { const r = await fetch(`${api.url}${path}`); return { code: r.status, body: await r.json() as Obj }; };
const widget = (name: string, spec: Obj, extra: Obj = {}) => ({ apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name, namespace: 'default' }, spec, ...extra });
const invalid = (pattern: RegExp) => (e: ApiException<string>) => e.code === 422 && pattern.test(JSON.parse(e.body).message);

test('a created CRD is named and established (two status writes after the create), then served and listed at its served versions', async () => {
  const events: string[] = [];
  const watching = await new Watch(kc).watch('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {},
    (type, o: Obj) => events.push(`${type}:${cond(o, 'Established')?.reason ?? '-'}`), () => undefined);
  const created = await createYaml(widgetsCrd());
  assert.deepEqual(created.status.storedVersions, ['v1']);
  assert.ok(!created.status.conditions?.length, 'the create answers before the controllers run');
  assert.equal(created.spec.names.singular, 'widget', 'names defaulted');
  assert.equal(created.spec.names.listKind, 'WidgetList');
  const stored = crd(`widgets.${GROUP}`)!;
  assert.deepEqual(
    stored.status.conditions.map((c: Obj) => [c.type, c.status, c.reason]),
    [['NamesAccepted', 'True', 'NoConflicts'], ['Established', 'True', 'InitialNamesAccepted']],
  );
  assert.equal(stored.status.acceptedNames.kind, 'Widget');
  await eventually('the CRD events', async () => events.length === 3);
  watching.abort();
  assert.deepEqual(events, ['ADDED:-', 'MODIFIED:Installing', 'MODIFIED:InitialNamesAccepted']);

  const group = await get(`/apis/${GROUP}`);
  assert.equal(group.body.preferredVersion.version, 'v1', 'v1 is preferred over v1beta1');
  assert.deepEqual(group.body.versions.map((v: Obj) => v.version), ['v1', 'v1beta1'], 'v1alpha1 is not served');
  const names = async (v: string) => (await get(`/apis/${GROUP}/${v}`)).body.resources.map((r: Obj) => r.name);
  assert.deepEqual(await names('v1'), ['widgets', 'widgets/status']);
  assert.deepEqual(await names('v1beta1'), ['widgets'], 'the status subresource is per version');
  assert.equal((await get(`/apis/${GROUP}/v1alpha1/widgets`)).code, 404);
});

test('custom resources: unknown fields pruned, defaults applied, status per version, the schema enforced (422 with causes)', async () => {
  const w = await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets',
    body: widget('w1', { size: 2, bogus: true, parts: [{ name: 'a' }] }, { status: { ready: true } }) });
  assert.deepEqual(w.spec, { size: 2, color: 'blue', parts: [{ name: 'a', count: 1 }] });
  assert.equal(w.status, undefined, 'v1 has the status subresource');
  assert.equal(w.metadata.generation, 1);
  const beta = await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'widgets',
    body: { ...widget('w2', { size: 1 }, { status: { ready: true, extra: 1 } }), apiVersion: `${GROUP}/v1beta1` } });
  assert.deepEqual(beta.status, { ready: true }, 'v1beta1 has no status subresource: status is written with the object');
  await assert.rejects(custom.getNamespacedCustomObjectStatus({ group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'widgets', name: 'w2' }),
    (e: ApiException<string>) => e.code === 404);

  const bad = custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets',
    body: widget('bad', { size: 0, color: 'green', parts: [{ name: 'a' }, { name: 'a' }, {}] }) });
  await assert.rejects(bad, (e: ApiException<string>) => {
    const status = JSON.parse(e.body);
    assert.equal(e.code, 422);
    assert.equal(status.reason, 'Invalid');
    assert.match(status.message, /^Widget\.example\.com "bad" is invalid: \[/);
    assert.deepEqual(status.details.causes.map((c: Obj) => `${c.reason} ${c.field}`).sort(), [
      'FieldValueDuplicate spec.parts[1]', 'FieldValueInvalid spec.size', 'FieldValueNotSupported spec.color', 'FieldValueRequired spec.parts[2].name',
    ]);
    return true;
  });
  await assert.rejects(custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets', body: widget('bad', { size: 'big' }) }),
    invalid(/spec\.size in body must be of type integer: "string"/));
  await assert.rejects(custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1', body: { spec: { size: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch)), invalid(/spec\.size: Required value/), 'updates are validated too');
  const grown = await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1', body: { spec: { size: 3, bogus: 1 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(grown.metadata.generation, 2);
  assert.equal(grown.spec.bogus, undefined);
  const again = await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'widgets', name: 'w1', body: { spec: { other: 1 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(again.metadata.resourceVersion, grown.metadata.resourceVersion, 'a change that pruning removes is no write');
});

test('names another CRD of the group holds are refused (not served); deleting that CRD frees them', async () => {
  await createYaml(widgetsCrd(`gadgets.${GROUP}`, 'Widget', 'gadgets'));
  const gadgets = crd(`gadgets.${GROUP}`)!;
  // kind and listKind are both taken; as in kube, the last conflict checked names the reason.
  assert.deepEqual([cond(gadgets, 'NamesAccepted')?.reason, cond(gadgets, 'NamesAccepted')?.message], ['ListKindConflict', '"WidgetList" is already in use']);
  assert.equal(gadgets.status.acceptedNames.kind, '', 'a refused name is not accepted');
  assert.equal(gadgets.status.acceptedNames.plural, 'gadgets');
  assert.deepEqual([cond(gadgets, 'Established')?.status, cond(gadgets, 'Established')?.reason], ['False', 'NotAccepted']);
  assert.equal((await get(`/apis/${GROUP}/v1/namespaces/default/gadgets`)).code, 404);
  await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${GROUP}` } });
  assert.equal(cond(crd(`gadgets.${GROUP}`), 'Established')?.status, 'True');
  assert.equal((await get(`/apis/${GROUP}/v1/namespaces/default/gadgets`)).code, 200);
  await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `gadgets.${GROUP}` } });
});

test('deleting a CRD: Terminating with the cleanup finalizer, its objects deleted (watchers see it, then their watch ends), no longer served', async () => {
  await createYaml(widgetsCrd(`widgets.${GROUP}`, 'Widget', 'widgets', ', finalizers: [example.com/hold]'));
  for (const name of ['d1', 'd2']) await objects.create(widget(name, { size: 1 }));
  const seen: string[] = [];
  const crdEvents: Obj[] = [];
  let ended = false;
  const watch = new Watch(kc);
  await watch.watch(`/apis/${GROUP}/v1/widgets`, { resourceVersion: api.resourceVersion }, (type, o: Obj) => seen.push(`${type}:${o.metadata.name}`), () => { ended = true; });
  const crdWatch = await watch.watch('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { resourceVersion: api.resourceVersion }, (_type, o: Obj) => crdEvents.push(o), () => undefined);
  await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${GROUP}` } });
  await eventually('the deletions', async () => seen.length === 2 && crdEvents.length === 2);
  crdWatch.abort();
  assert.deepEqual(seen.sort(), ['DELETED:d1', 'DELETED:d2']);
  const [deleting, held] = crdEvents;
  assert.ok(deleting.metadata.deletionTimestamp);
  assert.deepEqual(deleting.metadata.finalizers, ['example.com/hold', 'customresourcecleanup.apiextensions.k8s.io']);
  assert.equal(cond(deleting, 'Terminating')?.reason, 'InstanceDeletionPending');
  assert.deepEqual(held.metadata.finalizers, ['example.com/hold'], 'its own finalizer dropped, another one holds the CRD');
  assert.deepEqual([cond(held, 'Terminating')?.status, cond(held, 'Terminating')?.reason], ['False', 'InstanceDeletionCompleted']);
  await assert.rejects(objects.create(widget('d3', { size: 1 })), (e: ApiException<string>) => e.code === 405, 'no creates while terminating');
  await objects.patch({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${GROUP}`, finalizers: [] } },
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
  assert.equal(crd(`widgets.${GROUP}`), undefined);
  await eventually('the widget watch to end', async () => ended);
  assert.equal((await get(`/apis/${GROUP}/v1/namespaces/default/widgets/d1`)).code, 404);
  assert.equal((await get(`/apis/${GROUP}`)).code, 404);
  await createYaml(widgetsCrd());
  assert.deepEqual(api.list('Widget'), [], 'the same CRD again serves none of the old objects');
  await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${GROUP}` } });
});

test('a CRD kube would refuse is 422: name, storage versions, schema, approval of a *.k8s.io group, scope change', async () => {
  const base = loadAllYaml(widgetsCrd())[0] as Obj;
  const refused = async (change: (c: Obj) => void, pattern: RegExp) => {
    const c = structuredClone(base);
    change(c);
    await assert.rejects(objects.create(c as KubernetesObject), invalid(pattern));
  };
  await refused((c) => { c.metadata.name = 'widget.example.com'; }, /metadata\.name: Invalid value: "widget\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
  await refused((c) => { c.spec.versions[0].storage = true; }, /must have exactly one version marked as storage version/);
  await refused((c) => { delete c.spec.versions[2].schema; }, /spec\.versions\[2\]\.schema\.openAPIV3Schema: Required value: schemas are required/);
  await refused((c) => { c.spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.size.type = undefined; },
    /spec\.versions\[1\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[size\]\.type: Required value/);
  await refused((c) => { c.spec.group = 'widgets.k8s.io'; c.metadata.name = 'widgets.widgets.k8s.io'; }, /protected groups must have approval annotation "api-approved\.kubernetes\.io"/);
  await createYaml(widgetsCrd());
  await assert.rejects(objects.patch({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `widgets.${GROUP}` }, spec: { scope: 'Cluster' } } as KubernetesObject,
    undefined, undefined, undefined, undefined, PatchStrategy.MergePatch), invalid(/spec\.scope: Invalid value: "Cluster": field is immutable/));
});

test('the default server serves the built-in kinds deploy/ renders and the Gateway API types; `gatewayApi: false` does not; `types` keeps its meaning', async () => {
  const preinstalled = new TestApiServer();
  await preinstalled.start();
  try {
    const resources = async (server: TestApiServer, gv: string) => {
      const r = await fetch(`${server.url}/apis/${gv}`);
      return r.ok ? ((await r.json()) as Obj).resources.map((x: Obj) => x.name) : r.status;
    };
    assert.deepEqual(await resources(preinstalled, 'apps/v1'), ['deployments', 'deployments/status', 'statefulsets', 'statefulsets/status']);
    assert.deepEqual(await resources(preinstalled, 'coordination.k8s.io/v1'), ['leases']);
    assert.deepEqual(await resources(preinstalled, 'rbac.authorization.k8s.io/v1'), ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings']);
    assert.ok((await resources(preinstalled, 'gateway.networking.k8s.io/v1') as string[]).includes('httproutes'));
    assert.equal(await resources(api, 'gateway.networking.k8s.io/v1'), 404);
  } finally {
    await preinstalled.stop();
  }
  assert.throws(() => new TestApiServer({ types: CORE_TYPES, gatewayApi: false }), /not both/);
  const deployment = CORE_TYPES.find((t) => t.kind === 'Deployment')!;
  const twice = new TestApiServer({ types: [...CORE_TYPES, { ...deployment }] });
  assert.equal(twice.types.filter((t) => t.kind === 'Deployment').length, 1, 'a type given twice is served once');
});
