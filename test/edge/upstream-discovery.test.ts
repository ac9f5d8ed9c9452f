// Discovered Upstreams in file mode: endpoint-discovery and the watcher read the same directory and
// share the Upstream subjects of RESOURCES, against a real nats-server. The scenarios build on each
// other, in order, against one stream.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ResourceEventSchema, STREAMS, subjects, type ResourceEvent } from '../../libs/contracts/index.ts';
import { isWrongLastSequence } from '../../libs/eventlog/index.ts';
import { resourceDigest } from '../../libs/manifests/resources.ts';
import { publishIfChanged, readLogState } from '../../libs/manifests/sync.ts';
import { startEndpointDiscovery, type RunningDiscovery } from '../../services/endpoint-discovery/discovery.ts';
import { startWatcher, type RunningWatcher } from '../../services/watcher/watcher.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from './edge-support.ts';

let env: EdgeEnv;
before(async () => { env = await startEdgeEnv(); });
after(async () => { await env.close(); });

const up = (name: string, ns = 'shop') => subjects.resource({ cluster: 'local', kind: 'Upstream', namespace: ns, name });
const upstream = async (name: string, ns = 'shop') => (await latest(env.eventLog, 'RESOURCES', up(name, ns)))?.data;
const service = (ports: string, annotation?: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop${annotation ? `, annotations: {discovery.gantry.dev/upstreams: ${annotation}}` : ''}}
spec: {ports: [${ports}]}
`;
const namespace = (annotation: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, annotations: {discovery.gantry.dev/upstreams: ${annotation}}}\n`;
const HTTP = '{name: http, port: 80}';
const GRPC = '{name: api, port: 9000, appProtocol: grpc}';
const handWritten = `apiVersion: gateway.gantry.dev/v1alpha1
kind: Upstream
metadata: {name: web-80, namespace: shop}
spec: {type: Static, static: {hosts: [{address: 10.0.0.1, port: 8080}]}}
`;
const file = (name: string, text: string) => writeFileSync(join(env.dir, name), text);
const startDiscovery = (upstreamDiscovery = true) => startEndpointDiscovery({ eventLog: env.eventLog, cluster: 'local', manifests: env.dir, debounceMs: 20, log: quietLog, watch: false, upstreamDiscovery });
const startFileWatcher = () => startWatcher({ eventLog: env.eventLog, cluster: 'local', manifests: env.dir, debounceMs: 20, log: quietLog, watch: false });

let d: RunningDiscovery;
let w: RunningWatcher;
test('every TCP port of a Service becomes a discovered Upstream event; a port removed is withdrawn', async () => {
  file('web.yaml', service(`${HTTP}, ${GRPC}`));
  d = await startDiscovery();
  w = await startFileWatcher();
  const web = await upstream('web-80');
  assert.deepEqual([web.schema, web.kind, web.op, web.apiVersion], ['gantry.resource/v3', 'Upstream', 'upsert', 'gateway.gantry.dev/v1alpha1']);
  assert.deepEqual(web.source, { type: 'discovered', service: { namespace: 'shop', name: 'web' } });
  assert.deepEqual(web.object.spec, { type: 'Kube', kube: { serviceName: 'web', serviceNamespace: 'shop', servicePort: 80 }, protocol: 'HTTP' });
  assert.deepEqual(web.object.metadata.labels, { 'gateway.gantry.dev/discovered': 'true', 'gateway.gantry.dev/service': 'web' });
  assert.equal((await upstream('web-9000')).object.spec.protocol, 'GRPC');
  file('web.yaml', service(HTTP));
  assert.deepEqual((await d.pass()).upstreams, { published: 1, upserts: 0, tombstones: 1 });
  assert.deepEqual([(await upstream('web-9000')).op, (await upstream('web-80')).op], ['delete', 'upsert']);
});

test('the watcher leaves discovered Upstreams alone, also across its restart', async () => {
  const before = await lastSeq(env.eventLog, 'RESOURCES');
  assert.deepEqual(await w.pass(), { published: 0, upserts: 0, tombstones: 0, kept: 0 });
  await w.stop();
  w = await startFileWatcher();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before);
});

test('the switches: a Service annotation, a Namespace annotation, the Service\'s wins', async () => {
  file('web.yaml', service(HTTP, 'disabled'));
  assert.equal((await d.pass()).upstreams.tombstones, 1);
  assert.equal((await upstream('web-80')).op, 'delete');
  file('web.yaml', service(HTTP));
  file('ns.yaml', namespace('disabled'));
  assert.equal((await d.pass()).upstreams.published, 0, 'still off: the Namespace says so');
  file('web.yaml', service(HTTP, 'enabled'));
  assert.equal((await d.pass()).upstreams.upserts, 1);
  assert.equal((await upstream('web-80')).op, 'upsert');
  file('web.yaml', service(HTTP, 'nonsense'));
  assert.equal((await d.pass()).upstreams.tombstones, 1, 'a value not understood is ignored: the Namespace decides');
  rmSync(join(env.dir, 'ns.yaml'));
  file('web.yaml', service(HTTP));
  assert.equal((await d.pass()).upstreams.upserts, 1);
});

test('a hand-written Upstream of the same name wins, and when it goes the discovered one comes back', async () => {
  file('mine.yaml', handWritten);
  assert.equal((await w.pass()).upserts, 1);
  const mine = await latest(env.eventLog, 'RESOURCES', up('web-80'));
  assert.deepEqual(mine!.data.source, { type: 'file', path: 'mine.yaml', document: 0 });
  // Discovery sees the watcher's event, passes again, and leaves it.
  await new Promise((r) => setTimeout(r, 100));
  await d.idle();
  assert.equal((await d.pass()).upstreams.published, 0);
  assert.equal((await latest(env.eventLog, 'RESOURCES', up('web-80')))!.seq, mine!.seq);
  rmSync(join(env.dir, 'mine.yaml'));
  assert.equal((await w.pass()).tombstones, 1);
  // No file changed for discovery: the watcher's tombstone alone brings the discovered one back.
  const back = await eventually('the discovered Upstream back', async () => {
    const m = await upstream('web-80');
    return m?.op === 'upsert' && m.source.type === 'discovered' ? m : undefined;
  });
  assert.equal(back.object.spec.kube.servicePort, 80);
  await d.idle();
});

test('a publish over a subject another writer changed meanwhile is refused, not overwriting it', async () => {
  const filter = subjects.resourcesOfKind('local', 'Upstream');
  const stale = await readLogState<ResourceEvent>(env.eventLog, { stream: STREAMS.RESOURCES, filter, schema: ResourceEventSchema, logger: quietLog, digest: resourceDigest });
  file('mine.yaml', handWritten);
  assert.equal((await w.pass()).upserts, 1);
  const want = stale.get(up('web-80'))!;
  const changed = { ...want.event, object: { ...want.event.object, spec: { changed: true } } };
  const attempt = publishIfChanged(env.eventLog, ResourceEventSchema, stale, { subject: up('web-80'), event: changed, msgId: 'x', ...resourceDigest(changed) }, { ifLatestIsKnown: true });
  await assert.rejects(attempt, (err) => isWrongLastSequence(err));
  assert.equal((await upstream('web-80')).source.type, 'file');
  rmSync(join(env.dir, 'mine.yaml'));
  await w.pass();
  await eventually('the discovered Upstream back', async () => (await upstream('web-80'))?.source.type === 'discovered');
  await d.idle();
});

test('a restart with unchanged files publishes nothing; with discovery off globally, only discovered Upstreams go', async () => {
  await d.stop();
  const before = [await lastSeq(env.eventLog, 'RESOURCES'), await lastSeq(env.eventLog, 'ENDPOINTS')];
  d = await startDiscovery();
  await d.idle();
  assert.deepEqual([await lastSeq(env.eventLog, 'RESOURCES'), await lastSeq(env.eventLog, 'ENDPOINTS')], before);
  await d.stop();
  file('other.yaml', handWritten.replace('web-80', 'other-80'));
  await w.pass();
  d = await startDiscovery(false);
  await d.idle();
  assert.equal((await upstream('web-80')).op, 'delete');
  assert.equal((await upstream('other-80')).op, 'upsert', 'a hand-written Upstream is never withdrawn by discovery');
  assert.equal((await latest(env.eventLog, 'ENDPOINTS', subjects.endpoints('local', 'shop', 'web')))!.data.op, 'upsert', 'endpoints are not switched off');
  await d.stop();
  await w.stop();
});
