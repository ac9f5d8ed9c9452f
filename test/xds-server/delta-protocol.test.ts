// The incremental (delta) protocol against in-memory snapshots: what each request and snapshot
// makes the stream send, ACK/NACK bookkeeping, reconnects and make-before-break. No servers needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildManifest, type EncodedResource } from '../../libs/snapshots/manifest.ts';
import { DeltaStream, resourceVersion, type DeltaOutcome, type DeltaTypeState } from '../../libs/xds-server/delta.ts';
import { nextSnapshot, type GatewaySnapshot } from '../../libs/xds-server/snapshot.ts';
import { SotwStream } from '../../libs/xds-server/sotw.ts';
import { StreamState, type StreamOptions } from '../../libs/xds-server/stream-state.ts';
import type { DeltaDiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import { apiListenerTemplate, cluster, endpoints, routeConfig, socketListener, TYPES } from './helpers.ts';

const { CLUSTER, ENDPOINT, LISTENER, ROUTE } = TYPES;

function snap(resources: EncodedResource[], withApiListener = false): GatewaySnapshot {
  const { manifest, blobs } = buildManifest({
    gateway: 'ns/gw', resources, grpcRoutes: [],
    apiListeners: withApiListener ? [{ port: 8080, hostnames: ['echo.test'], template: apiListenerTemplate('r') }] : [],
  }, {});
  return nextSnapshot(manifest, new Map(), blobs);
}

function stream(options: StreamOptions = {}): DeltaStream {
  return new DeltaStream(new StreamState<DeltaTypeState>({ gateway: 'ns/gw', nodeId: 'n' }, 's', options));
}

function req(r: Partial<DeltaDiscoveryRequest__Output>): DeltaDiscoveryRequest__Output {
  return {
    node: null, type_url: '', resource_names_subscribe: [], resource_names_unsubscribe: [], initial_resource_versions: {},
    response_nonce: '', error_detail: null, resource_locators_subscribe: [], resource_locators_unsubscribe: [], ...r,
  };
}

type Response = Extract<DeltaOutcome, { kind: 'response' }>;
const responses = (out: DeltaOutcome[]) => out.filter((o): o is Response => o.kind === 'response');
/** `Type:+a,b -c` for each response: names sent and removed. */
const summary = (out: DeltaOutcome[]) => out.map((o) => (o.kind === 'response'
  ? `${o.typeUrl.split('.').pop()}:+${o.names.join(',')}${o.removed.length ? ` -${o.removed.join(',')}` : ''}`
  : o.kind));
const ack = (d: DeltaStream, o: Response, s: GatewaySnapshot, extra: Partial<DeltaDiscoveryRequest__Output> = {}) =>
  d.onRequest(req({ type_url: o.typeUrl, response_nonce: o.nonce, ...extra }), s);

test('delta wildcard CDS: everything once, then only what changed, and removals of deleted clusters', () => {
  const d = stream();
  const v1 = snap([cluster('a'), cluster('b')]);
  const [first] = responses(d.onRequest(req({ type_url: CLUSTER }), v1));
  assert.deepEqual(first.names, ['a', 'b'], 'an empty first CDS request is the legacy wildcard');
  assert.deepEqual(first.response.resources.map((r) => r.version), ['a', 'b'].map((n) => resourceVersion(v1.manifest.resources[CLUSTER][n])));
  assert.deepEqual(summary(ack(d, first, v1)), ['ack']);
  assert.deepEqual(d.onSnapshot(v1), [], 'same snapshot: nothing');

  const changedB = cluster('b');
  changedB.bytes = cluster('b-other').bytes; // different content under the same name
  const v2 = snap([cluster('a'), changedB, cluster('c')]);
  const [second] = responses(d.onSnapshot(v2));
  assert.deepEqual(second.names, ['b', 'c'], 'a is unchanged, so not sent');
  assert.notEqual(second.nonce, first.nonce);
  ack(d, second, v2);

  const v3 = snap([cluster('c')]);
  assert.deepEqual(summary(d.onSnapshot(v3)), ['Cluster:+ -a,b'], 'no listeners or routes on the stream: nothing to drain');
});

test('delta named subscriptions: missing names wait, unsubscribing is silent, re-subscribing re-sends', () => {
  const d = stream();
  const v1 = snap([cluster('a'), endpoints('a', [1])]);
  const out = d.onRequest(req({ type_url: ENDPOINT, resource_names_subscribe: ['a', 'later'] }), v1);
  assert.deepEqual(summary(out), ['ClusterLoadAssignment:+a'], 'a name that does not exist is not sent');
  ack(d, responses(out)[0], v1);

  const v2 = snap([cluster('a'), endpoints('a', [1]), endpoints('later', [2])]);
  const appeared = d.onSnapshot(v2);
  assert.deepEqual(summary(appeared), ['ClusterLoadAssignment:+later']);
  ack(d, responses(appeared)[0], v2);

  // Unsubscribing sends nothing, and a later deletion of that resource is not reported either.
  assert.deepEqual(d.onRequest(req({ type_url: ENDPOINT, resource_names_unsubscribe: ['later'] }), v2), []);
  assert.deepEqual(d.onSnapshot(snap([cluster('a'), endpoints('a', [1])])), []);
  // Subscribing again to something the client had is answered anyway (it may have dropped it).
  assert.deepEqual(summary(d.onRequest(req({ type_url: ENDPOINT, resource_names_subscribe: ['a'] }), v2)), ['ClusterLoadAssignment:+a']);
  assert.equal(d.state.types.get(ENDPOINT)!.subscription.wildcard, false, 'EDS is never wildcard');
});

test('delta explicit wildcard: `*` subscribes, unsubscribing `*` keeps only named resources', () => {
  const d = stream();
  const v1 = snap([cluster('a'), cluster('b')]);
  const [r] = responses(d.onRequest(req({ type_url: CLUSTER, resource_names_subscribe: ['*', 'a'] }), v1));
  assert.deepEqual(r.names, ['a', 'b']);
  ack(d, r, v1, { resource_names_unsubscribe: ['*'] });
  assert.deepEqual(d.onSnapshot(snap([cluster('a')])), [], 'b was unsubscribed (with the wildcard), so its deletion is not news');
});

test('delta reconnect: initial_resource_versions at the current versions get nothing; changed or deleted ones do', () => {
  const v1 = snap([cluster('a'), cluster('b'), cluster('c')]);
  const held = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, resourceVersion(v1.manifest.resources[CLUSTER][n])]));

  const same = stream();
  const [empty] = responses(same.onRequest(req({ type_url: CLUSTER, initial_resource_versions: held }), v1));
  assert.deepEqual([empty.names, empty.removed], [[], []], 'the first request is answered, with nothing the client has');

  const changed = stream();
  const v2 = snap([cluster('a'), cluster('c'), cluster('d')]);
  const out = changed.onRequest(req({ type_url: CLUSTER, initial_resource_versions: { ...held, c: 'old' } }), v2);
  assert.deepEqual(summary(out), ['Cluster:+c,d -b']);

  const named = stream();
  const out2 = named.onRequest(req({ type_url: ENDPOINT, resource_names_subscribe: ['gone', 'a'], initial_resource_versions: { gone: 'x', other: 'y' } }), v1);
  assert.deepEqual(summary(out2), ['ClusterLoadAssignment:+ -gone'], 'a name held but no longer existing is removed; unsubscribed names are ignored');
});

test('delta NACK: the last good versions stay, the rejected content is not re-sent, later changes are', () => {
  const d = stream();
  const v1 = snap([cluster('a')]);
  const [r1] = responses(d.onRequest(req({ type_url: CLUSTER }), v1));
  ack(d, r1, v1);
  const v2 = snap([cluster('a'), cluster('b')]);
  const [r2] = responses(d.onSnapshot(v2));
  const [nack] = ack(d, r2, v2, { error_detail: { code: 3, message: 'bad cluster b', details: [] } });
  assert.equal(nack.kind, 'nack');
  if (nack.kind !== 'nack') return;
  assert.deepEqual([nack.version, nack.lastGood, nack.snapshot, nack.names], [r2.version, r1.version, v2.manifest.version, ['b']]);
  assert.deepEqual(d.state.types.get(CLUSTER)!.acked, new Map([['a', resourceVersion(v1.manifest.resources[CLUSTER].a)]]));
  assert.deepEqual(d.onSnapshot(v2), [], 'the rejected content is not sent again');
  const v3 = snap([cluster('a'), cluster('c')]);
  assert.deepEqual(summary(d.onSnapshot(v3)), ['Cluster:+c -b']);
  assert.deepEqual(summary(d.onRequest(req({ type_url: CLUSTER, response_nonce: 'nope' }), v3)), ['stale']);
});

test('delta make-before-break: clusters before routes; a dropped cluster goes once the routes are ACKed', () => {
  const d = stream();
  const v1 = snap([cluster('a'), cluster('b'), routeConfig('r', [{ domains: ['*'], cluster: 'b' }])]);
  ack(d, responses(d.onRequest(req({ type_url: CLUSTER }), v1))[0], v1);
  ack(d, responses(d.onRequest(req({ type_url: ROUTE, resource_names_subscribe: ['r'] }), v1))[0], v1);

  const v2 = snap([cluster('a'), cluster('c'), routeConfig('r', [{ domains: ['*'], cluster: 'c' }])]);
  const pushed = responses(d.onSnapshot(v2));
  assert.deepEqual(summary(pushed), ['Cluster:+c', 'RouteConfiguration:+r'], 'b is still served');
  assert.deepEqual(summary(ack(d, pushed[0], v2)), ['ack'], 'the cluster ACK alone ends nothing');
  assert.deepEqual(summary(ack(d, pushed[1], v2)), ['ack', 'Cluster:+ -b']);
});

test('delta: a proxyless client names its API listener; per-type streams and the name cap end the stream', () => {
  const d = stream();
  const v1 = snap([socketListener('http-80', 80, 'r'), routeConfig('r', [{ domains: ['*'], cluster: 'a' }])], true);
  const [lds] = responses(d.onRequest(req({ type_url: LISTENER, resource_names_subscribe: ['echo.test:8080'] }), v1));
  assert.deepEqual(lds.names, ['echo.test:8080'], 'named LDS is not a wildcard: the socket listener is not sent');
  assert.match(lds.response.resources[0].version, /^api:/);

  const cds = stream({ onlyType: CLUSTER });
  assert.deepEqual(summary(cds.onRequest(req({}), v1)), ['Cluster:+'], 'an empty type_url is the stream\'s type');
  const [end] = cds.onRequest(req({ type_url: ROUTE, resource_names_subscribe: ['r'] }), v1);
  assert.deepEqual(end.kind === 'end' && end.code, 'invalid-argument');

  const capped = stream({ maxNames: 2 });
  capped.onRequest(req({ type_url: ENDPOINT, resource_names_subscribe: ['a', 'b'] }), v1);
  const [over] = capped.onRequest(req({ type_url: ROUTE, resource_names_subscribe: ['r'] }), v1);
  assert.equal(over.kind === 'end' && over.code, 'resource-exhausted');
  assert.match(over.kind === 'end' ? over.message : '', /3 resource names; at most 2/);
});

function sotwReq(r: Partial<DiscoveryRequest__Output>): DiscoveryRequest__Output {
  return { version_info: '', node: null, resource_names: [], type_url: '', response_nonce: '', error_detail: null, resource_locators: [], ...r };
}

test('SotW: a snapshot that drops a cluster but leaves the routes alone removes it at once', () => {
  const sotw = new SotwStream(new StreamState({ gateway: 'ns/gw', nodeId: 'n' }, 's'));
  const v1 = snap([cluster('a'), cluster('b'), routeConfig('r', [{ domains: ['*'], cluster: 'a' }])]);
  for (const [type_url, resource_names] of [[CLUSTER, []], [ROUTE, ['r']]] as const) {
    const [o] = sotw.onRequest(sotwReq({ type_url, resource_names: [...resource_names] }), v1);
    assert.equal(o.kind, 'response');
    if (o.kind === 'response') sotw.onRequest(sotwReq({ type_url, resource_names: [...resource_names], response_nonce: o.nonce }), v1);
  }
  const v2 = snap([cluster('a'), routeConfig('r', [{ domains: ['*'], cluster: 'a' }])]);
  const out = sotw.onSnapshot(v2);
  assert.deepEqual(out.map((o) => (o.kind === 'response' ? o.names.join(',') : o.kind)), ['a'],
    'the unchanged, already ACKed routes count as accepting v2, so b does not linger');
});
