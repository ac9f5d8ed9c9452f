// End to end: nats-server, redis-server and the five services as separate processes; the real
// @grpc/grpc-js-xds client (in a child process, since it reads its bootstrap once per process)
// stands in for Envoy, which cannot run on these machines, and calls gRPC echo backends.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { readHead } from '../../libs/snapshots/redis-store.ts';
import { startPipeline, type Pipeline } from '../support/pipeline.ts';
import type { XdsClientResult, XdsGrpcClient } from '../support/xds-grpc-client.ts';

const TARGET = 'xds:///echo.test:8080';
const ECHO = '/gantry.test.Echo/Call';
const OTHER = '/gantry.test.Other/Call';

const route = (defaultBackends: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [echo.test]
  rules:
    - matches: [{path: {type: PathPrefix, value: /gantry.test.Other}}]
      backendRefs: [{name: echo-b, port: 9000}]
    - matches: [{headers: [{name: x-backend, value: b}]}]
      backendRefs: [{name: echo-b, port: 9000}]
    - backendRefs: ${defaultBackends}
`;
const SPLIT_80_20 = '[{name: echo-a, port: 9000, weight: 80}, {name: echo-b, port: 9000, weight: 20}]';
const ALL_TO_B = '[{name: echo-b, port: 9000}]';

const only = (backend: string) => (r: XdsClientResult) => Object.keys(r.errors).length === 0 && r.backends[backend] === sum(r);
const sum = (r: XdsClientResult) => Object.values(r.backends).reduce((a, b) => a + b, 0);

describe('the pipeline serves Gateway API routes to a proxyless gRPC client', { timeout: 180_000 }, () => {
  let p: Pipeline;
  let client: XdsGrpcClient;
  let redis: Redis;

  before(async () => {
    p = await startPipeline(['a', 'b']);
    p.write('route.yaml', route(SPLIT_80_20));
    client = await p.client('e2e-client');
    redis = new Redis(p.redis.url);
  });

  after(async () => {
    redis?.disconnect();
    await p?.stop();
  });

  it('routes by path and by header to the right backend', async () => {
    await client.runUntil({ target: TARGET, method: OTHER, count: 10 }, only('b'), 30_000);
    const byHeader = await client.run({ target: TARGET, method: ECHO, metadata: { 'x-backend': 'b' }, count: 20 });
    assert.deepEqual(byHeader.backends, { b: 20 });
  });

  it('splits 80/20 within ±10 points over 200 calls', async () => {
    const r = await client.run({ target: TARGET, method: ECHO, count: 200 });
    assert.deepEqual(r.errors, {});
    const share = (r.backends.a ?? 0) / 200;
    assert.ok(share >= 0.7 && share <= 0.9, `echo-a got ${(share * 100).toFixed(1)}% of calls, want 80±10`);
  });

  it('moves traffic when a manifest file is edited', async () => {
    p.write('route.yaml', route(ALL_TO_B));
    await client.runUntil({ target: TARGET, method: ECHO, count: 20 }, only('b'), 15_000);
  });

  it('stops routing when the route is deleted, and routes again when it comes back', async () => {
    p.remove('route.yaml');
    const r = await client.runUntil({ target: TARGET, method: ECHO, count: 5, deadlineMs: 1000 }, (x) => sum(x) === 0, 15_000);
    assert.equal(Object.values(r.errors).reduce((a, b) => a + b, 0), 5);
    p.write('route.yaml', route(SPLIT_80_20));
    await client.runUntil({ target: TARGET, method: OTHER, count: 10 }, only('b'), 15_000);
  });

  it('a malformed file and a malformed route are reported while everything else keeps being served', async () => {
    p.write('broken.yaml', 'kind: HTTPRoute\nmetadata: {name: [unclosed\n');
    p.write('bad-route.yaml', `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: NotAType, value: 7}}], backendRefs: [{name: echo-a, port: 9000}]}]
`);
    const statusFile = join(p.statusDir, 'HTTPRoute', 'default', 'bad.yaml');
    const deadline = Date.now() + 15_000;
    while (!existsSync(statusFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const doc = parse(readFileSync(statusFile, 'utf8'));
    const accepted = doc.status.parents[0].conditions.find((c: { type: string }) => c.type === 'Accepted');
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'UnsupportedValue');
    assert.match(accepted.message, /path/);
    assert.ok(p.logs.some((l) => l.includes('broken.yaml') && l.includes('"document":0')), 'the broken file is named in a log line');
    await client.runUntil({ target: TARGET, method: OTHER, count: 10 }, only('b'), 5_000);
    p.remove('broken.yaml');
    p.remove('bad-route.yaml');
  });

  it('a killed translator comes back with the same snapshot and the same routing', async () => {
    const before = await readHead(redis, 'default/gw');
    assert.ok(before, 'the gateway has a snapshot');
    p.supervisor.signal('translator', 'SIGKILL');
    await p.supervisor.waitForRestarts('translator', 1);
    // While it restarts, the data plane keeps what it has.
    await client.runUntil({ target: TARGET, method: OTHER, count: 10 }, only('b'), 5_000);
    p.write('route.yaml', route(ALL_TO_B));
    await client.runUntil({ target: TARGET, method: ECHO, count: 20 }, only('b'), 30_000);
    p.write('route.yaml', route(SPLIT_80_20));
    await client.runUntil({ target: TARGET, method: ECHO, count: 50 }, (r) => (r.backends.a ?? 0) > 0, 15_000);
    assert.equal(await readHead(redis, 'default/gw'), before, 'the same state gives the same snapshot version');
  });

  it('a killed xds-server comes back and the client reconnects to the same routing', async () => {
    p.supervisor.signal('xds-server', 'SIGKILL');
    await p.supervisor.waitForRestarts('xds-server', 1);
    const r = await client.runUntil({ target: TARGET, method: ECHO, metadata: { 'x-backend': 'b' }, count: 10 }, only('b'), 30_000);
    assert.equal(r.backends.b, 10);
    const split = await client.run({ target: TARGET, method: ECHO, count: 200 });
    const share = (split.backends.a ?? 0) / 200;
    assert.ok(share >= 0.7 && share <= 0.9, `after the restart echo-a got ${(share * 100).toFixed(1)}%`);
  });
});
