import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEndpointDiscovery, type RunningDiscovery } from '../../services/endpoint-discovery/discovery.ts';
import { eventually, lastSeq, latest, quietLog, startEdgeEnv, type EdgeEnv } from './edge-support.ts';

let env: EdgeEnv;
before(async () => { env = await startEdgeEnv(); });
after(async () => { await env.close(); });

const WEB = 'gantry.ep.local.shop.web';
const service = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n`;
const slice = (addresses: string[]) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
${addresses.map((a) => `  - {addresses: [${a}], zone: z1}`).join('\n')}
`;
const start = (watch = false) => startEndpointDiscovery({ eventLog: env.eventLog, cluster: 'local', manifests: env.dir, debounceMs: 20, log: quietLog, watch });

let d: RunningDiscovery;
test('Services with their EndpointSlices become endpoints events; a Service without slices has empty ports', async () => {
  writeFileSync(join(env.dir, 'web.yaml'), `${service('web')}---\n${slice(['10.0.0.1', '10.0.0.2'])}`);
  writeFileSync(join(env.dir, 'lonely.yaml'), service('lonely'));
  d = await start(true);
  const web = (await latest(env.eventLog, 'ENDPOINTS', WEB))!.data;
  assert.deepEqual([web.schema, web.op, web.serviceType], ['gantry.endpoints/v1', 'upsert', 'ClusterIP']);
  assert.deepEqual(web.ports.map((p: any) => [p.name, p.port, p.endpoints.map((e: any) => `${e.address}:${e.port}/${e.zone}`)]), [
    ['http', 80, ['10.0.0.1:8080/z1', '10.0.0.2:8080/z1']],
  ]);
  const lonely = (await latest(env.eventLog, 'ENDPOINTS', 'gantry.ep.local.shop.lonely'))!.data;
  assert.deepEqual(lonely.ports, [{ name: 'http', port: 80, protocol: 'TCP', endpoints: [] }]);
});

test('a changed EndpointSlice is republished by the directory watch', async () => {
  const was = (await latest(env.eventLog, 'ENDPOINTS', WEB))!.seq;
  writeFileSync(join(env.dir, 'web.yaml'), `${service('web')}---\n${slice(['10.0.0.3'])}`);
  const m = await eventually('the new endpoints', async () => {
    const x = await latest(env.eventLog, 'ENDPOINTS', WEB);
    return x && x.seq > was ? x : undefined;
  });
  assert.deepEqual(m.data.ports[0].endpoints.map((e: any) => e.address), ['10.0.0.3']);
  await d.idle();
});

test('a broken file keeps its last good endpoints', async () => {
  const before = await lastSeq(env.eventLog, 'ENDPOINTS');
  writeFileSync(join(env.dir, 'web.yaml'), `${service('web')}---\nkind: EndpointSlice\nendpoints: [\n`);
  assert.equal((await d.pass()).published, 0);
  assert.equal(await lastSeq(env.eventLog, 'ENDPOINTS'), before);
});

test('a deleted Service becomes a tombstone; a restart with unchanged files publishes nothing', async () => {
  writeFileSync(join(env.dir, 'web.yaml'), `${service('web')}---\n${slice(['10.0.0.3'])}`);
  rmSync(join(env.dir, 'lonely.yaml'));
  // The Service's endpoints and its discovered Upstream (lonely-80) are withdrawn.
  assert.deepEqual(await d.pass(), { published: 1, upserts: 0, tombstones: 1, upstreams: { published: 1, upserts: 0, tombstones: 1 } });
  const t = (await latest(env.eventLog, 'ENDPOINTS', 'gantry.ep.local.shop.lonely'))!.data;
  assert.deepEqual([t.op, t.ports], ['delete', []]);
  await d.stop();
  const before = [await lastSeq(env.eventLog, 'ENDPOINTS'), await lastSeq(env.eventLog, 'RESOURCES')];
  const again = await start();
  await again.stop();
  assert.deepEqual([await lastSeq(env.eventLog, 'ENDPOINTS'), await lastSeq(env.eventLog, 'RESOURCES')], before);
});
