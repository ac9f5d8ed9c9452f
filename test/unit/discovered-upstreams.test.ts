// Discovered Upstreams, the pure part (libs/endpoints/upstreams.ts), and the watcher's side of the
// subjects it shares with endpoint-discovery in file mode (libs/manifests/resources.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceEvent } from '../../libs/contracts/index.ts';
import {
  diffDiscoveredUpstreams, discoveredUpstreams, discoverySwitch, planDiscoveredUpstreams, planUpstreamWrites, upstreamName, upstreamProtocol,
} from '../../libs/endpoints/upstreams.ts';
import { parseManifestText } from '../../libs/manifests/index.ts';
import { diffResources, planResources, resourceDigest } from '../../libs/manifests/resources.ts';
import type { LogEntry } from '../../libs/manifests/sync.ts';
import type { KubeObject } from '../../libs/translator/api.ts';

const svc = (ports: unknown[], meta: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', uid: 'svc-uid', ...meta }, spec: { ports } });
const ns = (annotations?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', ...(annotations ? { annotations } : {}) } });
const off = { annotations: { 'discovery.gantry.dev/upstreams': 'disabled' } };
const on = { annotations: { 'discovery.gantry.dev/upstreams': 'enabled' } };

test('names are <service>-<port>; past 253 characters they are cut and end in a hash, still distinct', () => {
  assert.equal(upstreamName('web', 8080), 'web-8080');
  assert.equal(upstreamName('a'.repeat(250), 80).length, 253, 'exactly 253: kept whole');
  const a = upstreamName('a'.repeat(251), 80);
  const b = upstreamName('a'.repeat(251), 81);
  assert.ok(a.length <= 253 && b.length <= 253);
  assert.match(a, /^a+-[0-9a-f]{10}$/);
  assert.notEqual(a, b);
});

test('the protocol comes from appProtocol, else from the port name\'s first word; nothing said is HTTP', () => {
  const cases: Array<[{ name?: string; appProtocol?: string }, string]> = [
    [{ appProtocol: 'grpc' }, 'GRPC'], [{ appProtocol: 'kubernetes.io/h2c' }, 'H2C'], [{ appProtocol: 'h2c' }, 'H2C'],
    [{ appProtocol: 'http' }, 'HTTP'], [{ appProtocol: 'kubernetes.io/ws' }, 'HTTP'], [{ appProtocol: 'HTTP2' }, 'H2C'],
    [{ appProtocol: 'https' }, 'TCP'], [{ appProtocol: 'postgresql' }, 'TCP'], [{ name: 'grpc', appProtocol: 'http' }, 'HTTP'],
    [{ name: 'grpc-api' }, 'GRPC'], [{ name: 'http2' }, 'H2C'], [{ name: 'tcp-db' }, 'TCP'], [{ name: 'redis' }, 'TCP'],
    [{ name: 'https' }, 'TCP'], [{ name: 'web' }, 'HTTP'], [{ name: '' }, 'HTTP'], [{}, 'HTTP'],
  ];
  for (const [port, want] of cases) assert.equal(upstreamProtocol(port), want, JSON.stringify(port));
});

test('the switch: the Service\'s annotation, else its Namespace\'s, else the default; a bad value is a problem and ignored', () => {
  assert.deepEqual(discoverySwitch(true, svc([])), { on: true, problems: [] });
  assert.deepEqual(discoverySwitch(false, svc([])), { on: false, problems: [] });
  assert.equal(discoverySwitch(true, svc([]), ns(off.annotations)).on, false);
  assert.equal(discoverySwitch(false, svc([]), ns(on.annotations)).on, true);
  assert.equal(discoverySwitch(true, svc([], on), ns(off.annotations)).on, true, 'the Service wins');
  assert.equal(discoverySwitch(true, svc([], off), ns(on.annotations)).on, false, 'the Service wins');
  const bad = discoverySwitch(true, svc([], { annotations: { 'discovery.gantry.dev/upstreams': 'off' } }), ns(off.annotations));
  assert.equal(bad.on, false, 'falls through to the Namespace');
  assert.deepEqual(bad.problems, ['Service shop/web: annotation discovery.gantry.dev/upstreams is "off", not "enabled" or "disabled"; ignored']);
});

test('one Upstream per TCP port, labelled, owned by the Service without blocking its deletion', () => {
  const s = svc([{ name: 'http', port: 80 }, { name: 'api', port: 9000, appProtocol: 'grpc' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 0 }]);
  const { upstreams, problems } = discoveredUpstreams(true, s);
  assert.deepEqual(problems, []);
  assert.deepEqual(upstreams[0], {
    apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'Upstream',
    metadata: {
      name: 'web-80', namespace: 'shop', labels: { 'gateway.gantry.dev/discovered': 'true', 'gateway.gantry.dev/service': 'web' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: false, blockOwnerDeletion: false }],
    },
    spec: { type: 'Kube', kube: { serviceName: 'web', serviceNamespace: 'shop', servicePort: 80 }, protocol: 'HTTP' },
  });
  assert.deepEqual(upstreams.map((u) => [u.metadata.name, (u.spec as any).protocol]), [['web-80', 'HTTP'], ['web-9000', 'GRPC']]);
  assert.deepEqual(discoveredUpstreams(true, svc([{ port: 80 }], off)).upstreams, []);
  assert.equal((discoveredUpstreams(true, svc([{ port: 80 }], { uid: undefined })).upstreams[0]!.metadata as any).ownerReferences, undefined, 'no uid, no owner');
});

test('Kubernetes writes: create what is missing, replace what differs, delete what is no longer wanted, never a hand-written one', () => {
  const want = discoveredUpstreams(true, svc([{ port: 80 }, { port: 81 }, { port: 82 }])).upstreams;
  const stored = (o: any, extra: Record<string, unknown> = {}) => ({ ...o, metadata: { ...o.metadata, uid: `u-${o.metadata.name}`, resourceVersion: '7', ...extra }, status: { conditions: [] } });
  const same = stored(want[0]);
  const edited = stored({ ...want[1], spec: { ...want[1]!.spec as object, connectTimeout: '1s' } }, { labels: { ...want[1]!.metadata.labels, team: 'a' } });
  const handWritten = { apiVersion: 'gateway.gantry.dev/v1alpha1', kind: 'Upstream', metadata: { name: 'web-82', namespace: 'shop', resourceVersion: '3' }, spec: {} };
  const stale = stored({ ...want[0], metadata: { ...want[0]!.metadata, name: 'web-79' } });
  const byName = new Map<string, any>([['web-80', same], ['web-81', edited], ['web-82', handWritten], ['web-79', stale]]);
  const { writes, taken } = planUpstreamWrites('web', want, (n) => byName.get(n), [same, edited, stale]);
  assert.deepEqual(writes.map((w) => [w.op, w.object.metadata.name]), [['replace', 'web-81'], ['delete', 'web-79']]);
  const replaced = writes[0]!.object;
  assert.deepEqual(replaced.spec, want[1]!.spec, 'the whole spec is discovery\'s: the added field goes');
  assert.deepEqual([replaced.metadata.resourceVersion, replaced.metadata.uid, replaced.metadata.labels.team, replaced.status], ['7', 'u-web-81', 'a', undefined]);
  assert.deepEqual(taken, [handWritten]);
  // Absent: created. Discovered, but for another Service (a relabelled object): left alone too.
  const other = stored(want[0], { labels: { 'gateway.gantry.dev/discovered': 'true', 'gateway.gantry.dev/service': 'other' } });
  const again = planUpstreamWrites('web', want.slice(0, 2), (n) => (n === 'web-80' ? other : undefined), []);
  assert.deepEqual(again.writes.map((w) => [w.op, w.object.metadata.name]), [['create', 'web-81']]);
  assert.deepEqual(again.taken, [other]);
});

const files = (text: string) => parseManifestText(text, 'a.yaml').objects;
const entry = (e: ResourceEvent, seq = 1): LogEntry<ResourceEvent> => ({ seq, ...resourceDigest(e), event: e });

test('file mode: discovered Upstream events; the files\' Namespace switch counts; a hand-written Upstream in the log wins', () => {
  const objects = files(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {ports: [{port: 9000, appProtocol: grpc}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: quiet}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: quiet, annotations: {discovery.gantry.dev/upstreams: disabled}}
`);
  const { desired, problems } = planDiscoveredUpstreams('local', objects, true, 'now');
  assert.deepEqual(problems, []);
  assert.deepEqual([...desired.keys()], ['gantry.res.local.Upstream.shop.web-80', 'gantry.res.local.Upstream.shop.api-9000']);
  const web = desired.get('gantry.res.local.Upstream.shop.web-80')!.event;
  assert.deepEqual(web.source, { type: 'discovered', service: { namespace: 'shop', name: 'web' } });
  assert.deepEqual([web.kind, web.apiVersion, web.op, (web.object as any).metadata.ownerReferences], ['Upstream', 'gateway.gantry.dev/v1alpha1', 'upsert', undefined]);

  const api = desired.get('gantry.res.local.Upstream.shop.api-9000')!;
  const handWritten = { ...api.event, source: { type: 'file' as const, path: 'mine.yaml', document: 0 }, object: { spec: { protocol: 'HTTP' } } };
  const oldOwn = { ...web, name: 'old-80', object: { ...web.object!, metadata: { name: 'old-80' } } };
  const mineGone = { ...handWritten, name: 'gone' };
  const log = new Map([
    ['gantry.res.local.Upstream.shop.api-9000', entry(handWritten)],
    ['gantry.res.local.Upstream.shop.old-80', entry(oldOwn)],
    ['gantry.res.local.Upstream.shop.gone', entry(mineGone)],
  ]);
  const diff = diffDiscoveredUpstreams(desired, log, false, 'later');
  assert.deepEqual(diff.publish.map((p) => [p.subject, p.event.op]), [
    ['gantry.res.local.Upstream.shop.web-80', 'upsert'], ['gantry.res.local.Upstream.shop.old-80', 'delete'],
  ], 'the hand-written one is neither overwritten nor withdrawn');
  assert.deepEqual(diff.yielded.map((y) => y.want.subject), ['gantry.res.local.Upstream.shop.api-9000']);
  assert.deepEqual(diffDiscoveredUpstreams(desired, log, true, 'later').publish.map((p) => p.event.op), ['upsert'], 'keepGone: no tombstones');
  // A tombstone frees the name; the same content again is not republished.
  log.set('gantry.res.local.Upstream.shop.api-9000', { ...entry(handWritten, 2), deleted: true, digest: 'deleted' });
  log.set('gantry.res.local.Upstream.shop.web-80', entry(desired.get('gantry.res.local.Upstream.shop.web-80')!.event, 3));
  assert.deepEqual(diffDiscoveredUpstreams(desired, log, false, 'later').publish.map((p) => p.subject), [
    'gantry.res.local.Upstream.shop.api-9000', 'gantry.res.local.Upstream.shop.old-80',
  ]);
  // Globally off: every discovered one is withdrawn, nothing else.
  const none = planDiscoveredUpstreams('local', objects, false, 'now');
  assert.deepEqual(diffDiscoveredUpstreams(none.desired, log, false, 'later').publish.map((p) => [p.subject, p.event.op]), [
    ['gantry.res.local.Upstream.shop.old-80', 'delete'], ['gantry.res.local.Upstream.shop.web-80', 'delete'],
  ]);
});

test('the watcher never withdraws a discovered Upstream, and its hand-written one of the same name goes over it', () => {
  const objects = files('apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n');
  const discovered = planDiscoveredUpstreams('local', objects, true, 'now').desired.get('gantry.res.local.Upstream.shop.web-80')!.event;
  const log = new Map([['gantry.res.local.Upstream.shop.web-80', entry(discovered)]]);
  assert.deepEqual(diffResources(planResources('local', { objects: [], problems: [], files: [] }, 'now'), log, 'now').publish, []);
  const mine = parseManifestText(`apiVersion: gateway.gantry.dev/v1alpha1
kind: Upstream
metadata: {name: web-80, namespace: shop}
spec: {type: Static, static: {hosts: [{address: 10.0.0.1, port: 80}]}}
`, 'mine.yaml');
  const publish = diffResources(planResources('local', { ...mine, files: ['mine.yaml'] }, 'now'), log, 'now').publish;
  assert.deepEqual(publish.map((p) => [p.subject, p.event.op, p.event.source?.type]), [['gantry.res.local.Upstream.shop.web-80', 'upsert', 'file']]);
});
