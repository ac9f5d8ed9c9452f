import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWatcher, type RunningWatcher } from '../../services/watcher/watcher.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from './edge-support.ts';

let env: EdgeEnv;
before(async () => { env = await startEdgeEnv(); });
after(async () => { await env.close(); });

const GW = 'gantry.res.local.Gateway.default.web';
const CLASS = 'gantry.res.local.GatewayClass._.gantry';
const gateway = (port: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web}
spec:
  gatewayClassName: gantry
  listeners: [{name: http, protocol: HTTP, port: ${port}}]
`;
const gatewayClass = 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gantry}\nspec: {controllerName: gantry.dev/gateway}\n';
const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: backend}\nspec: {ports: [{port: 80}]}\n';
const start = (watch = false) => startWatcher({ eventLog: env.eventLog, cluster: 'local', manifests: env.dir, debounceMs: 20, log: quietLog, watch });

// The scenarios build on each other, in order, against one stream.
test('files become resource events: watcher kinds only, with identity, defaults and source', async () => {
  writeFileSync(join(env.dir, 'gateway.yaml'), `${gatewayClass}---\n${gateway(80)}`);
  writeFileSync(join(env.dir, 'backend.yaml'), service);
  const w = await start();
  await w.stop();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), 2, 'the GatewayClass and the Gateway; the Service is not the watcher\'s');
  const gw = (await latest(env.eventLog, 'RESOURCES', GW))!.data;
  assert.equal(gw.schema, 'gantry.resource/v3');
  assert.deepEqual([gw.cluster, gw.kind, gw.namespace, gw.name, gw.op, gw.generation], ['local', 'Gateway', 'default', 'web', 'upsert', 1]);
  assert.deepEqual(gw.source, { type: 'file', path: 'gateway.yaml', document: 1 });
  assert.match(gw.resourceVersion, /^[0-9a-f]{64}$/);
  assert.match(gw.uid, /^[0-9a-f-]{36}$/);
  assert.equal((await latest(env.eventLog, 'RESOURCES', CLASS))!.data.namespace, '');
});

test('a restart with unchanged files publishes nothing', async () => {
  const before = await lastSeq(env.eventLog, 'RESOURCES');
  const w = await start();
  assert.deepEqual(await w.pass(), { published: 0, upserts: 0, tombstones: 0, kept: 0 });
  await w.stop();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before);
});

let watcher: RunningWatcher;
test('an edited file is seen by the directory watch and republished', async () => {
  watcher = await start(true);
  const was = (await latest(env.eventLog, 'RESOURCES', GW))!;
  writeFileSync(join(env.dir, 'gateway.yaml'), `${gatewayClass}---\n${gateway(8080)}`);
  const now = await eventually('the edited Gateway', async () => {
    const m = await latest(env.eventLog, 'RESOURCES', GW);
    return m && m.seq > was.seq ? m : undefined;
  });
  assert.equal(now.data.object.spec.listeners[0].port, 8080);
  await watcher.idle();
  assert.equal((await latest(env.eventLog, 'RESOURCES', CLASS))!.seq, 1, 'the unchanged GatewayClass is not republished');
});

test('a reverted edit inside the de-duplication window is still published', async () => {
  writeFileSync(join(env.dir, 'gateway.yaml'), `${gatewayClass}---\n${gateway(80)}`);
  assert.equal((await watcher.pass()).upserts, 1);
  const m = (await latest(env.eventLog, 'RESOURCES', GW))!;
  assert.equal(m.data.object.spec.listeners[0].port, 80);
});

test('a file that no longer parses keeps the objects it published; fixing it publishes again', async () => {
  const before = await lastSeq(env.eventLog, 'RESOURCES');
  writeFileSync(join(env.dir, 'gateway.yaml'), `${gatewayClass}---\nkind: Gateway\nmetadata: {name: web\nspec: [\n`);
  assert.deepEqual(await watcher.pass(), { published: 0, upserts: 0, tombstones: 0, kept: 1 });
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before);
  assert.equal((await latest(env.eventLog, 'RESOURCES', GW))!.data.op, 'upsert');
  // Also across a restart: the log's `source` says which file the Gateway came from.
  await watcher.stop();
  watcher = await start(true);
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before);
  writeFileSync(join(env.dir, 'gateway.yaml'), `${gatewayClass}---\n${gateway(9090)}`);
  assert.equal((await watcher.pass()).upserts, 1);
});

test('an invalid document that names its kind and name is published as written, for its status', async () => {
  writeFileSync(join(env.dir, 'route.yaml'), 'kind: HTTPRoute\nmetadata: {name: r1, namespace: team}\nspec: {}\n');
  assert.equal((await watcher.pass()).upserts, 1);
  const r = (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.team.r1'))!.data;
  assert.deepEqual(r.object, { kind: 'HTTPRoute', metadata: { name: 'r1', namespace: 'team' }, spec: {} });
  assert.deepEqual(r.source, { type: 'file', path: 'route.yaml', document: 0 });
});

test('a deleted file becomes tombstones; dot-directories are ignored', async () => {
  mkdirSync(join(env.dir, '.gantry-status'), { recursive: true });
  writeFileSync(join(env.dir, '.gantry-status/x.yaml'), gateway(1));
  rmSync(join(env.dir, 'route.yaml'));
  const r = await watcher.pass();
  assert.deepEqual([r.upserts, r.tombstones], [0, 1]);
  const t = (await latest(env.eventLog, 'RESOURCES', 'gantry.res.local.HTTPRoute.team.r1'))!.data;
  assert.deepEqual([t.op, t.object, t.kind, t.name], ['delete', null, 'HTTPRoute', 'r1']);
  await watcher.stop();
  // Restart: the tombstone is the log's state, so nothing is published again.
  const before = await lastSeq(env.eventLog, 'RESOURCES');
  const w = await start();
  await w.stop();
  assert.equal(await lastSeq(env.eventLog, 'RESOURCES'), before);
});
