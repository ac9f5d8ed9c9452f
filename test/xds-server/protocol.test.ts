// The pure parts of the xds-server: node → Gateway, subscription rules, API listener matching and
// the state-of-the-world protocol against an in-memory snapshot. No servers needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildManifest } from '../../libs/snapshots/manifest.ts';
import { parseNode } from '../../libs/xds-server/node.ts';
import { findApiListener, nextSnapshot } from '../../libs/xds-server/snapshot.ts';
import { SotwStream } from '../../libs/xds-server/sotw.ts';
import { nextSubscription, StreamState } from '../../libs/xds-server/stream-state.ts';
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import { apiListenerTemplate, cluster, endpoints, routeConfig, TYPES } from './helpers.ts';

test('node.cluster "<namespace>/<gateway-name>" names the Gateway; anything else is an error value', () => {
  assert.deepEqual(parseNode({ id: 'n', cluster: 'default/web' }), { ok: true, value: { gateway: 'default/web', nodeId: 'n' } });
  for (const cluster of ['', 'web', '/web', 'default/', 'a/b/c', 'Default/web']) {
    const r = parseNode({ id: 'n', cluster });
    assert.equal(r.ok, false, cluster);
  }
  assert.equal(parseNode(null).ok, false);
});

test('LDS and CDS: a first empty request is a legacy wildcard, kept until names are given', () => {
  const first = nextSubscription(TYPES.LISTENER, undefined, []);
  assert.equal(first.subscription.wildcard, true);
  const prev = { typeUrl: TYPES.LISTENER, ...first, subscriptionChanged: false };
  assert.equal(nextSubscription(TYPES.LISTENER, prev, []).subscription.wildcard, true);
  assert.equal(nextSubscription(TYPES.LISTENER, prev, ['a']).subscription.wildcard, false);
  assert.equal(nextSubscription(TYPES.LISTENER, prev, ['*', 'a']).subscription.wildcard, true);
  assert.equal(nextSubscription(TYPES.ENDPOINT, undefined, []).subscription.wildcard, false, 'EDS is never wildcard');
  assert.equal(nextSubscription(TYPES.ROUTE, undefined, ['*']).subscription.wildcard, false, 'RDS is never wildcard');
});

test('API listener entries: port must match when given; hostnames exact, *.suffix or *', () => {
  const entries = [
    { port: 80, hostnames: ['a.test'], template: 't80' },
    { port: 8080, hostnames: ['*.apps.test'], template: 't8080' },
    { port: 9090, hostnames: ['*'], template: 't9090' },
  ];
  assert.equal(findApiListener(entries, 'a.test:80')?.template, 't80');
  assert.equal(findApiListener(entries, 'A.Test')?.template, 't80', 'no port: first entry accepting the host');
  assert.equal(findApiListener(entries, 'x.y.apps.test:8080')?.template, 't8080');
  assert.equal(findApiListener(entries, 'apps.test:8080'), undefined, '*.suffix needs one more label');
  assert.equal(findApiListener(entries, 'a.test:8080'), undefined);
  assert.equal(findApiListener(entries, 'anything:9090')?.template, 't9090');
  assert.equal(findApiListener(entries, 'nowhere.test')?.template, 't9090');
});

function request(r: Partial<DiscoveryRequest__Output>): DiscoveryRequest__Output {
  return { version_info: '', node: null, resource_names: [], type_url: '', response_nonce: '', error_detail: null, resource_locators: [], ...r };
}

test('SotW: responses only on change, stale nonces ignored, NACK leaves the version', () => {
  const { manifest, blobs } = buildManifest({
    gateway: 'ns/gw',
    resources: [cluster('c1'), endpoints('c1', [1])],
    grpcRoutes: [],
    apiListeners: [{ port: 80, hostnames: ['*'], template: apiListenerTemplate('r') }],
  }, {});
  const snap = nextSnapshot(manifest, new Map(), blobs);
  const sotw = new SotwStream(new StreamState({ gateway: 'ns/gw', nodeId: 'n' }, 's'));
  const [r1] = sotw.onRequest(request({ type_url: TYPES.CLUSTER }), snap);
  assert.equal(r1.kind, 'response');
  if (r1.kind !== 'response') return;
  assert.deepEqual(sotw.onRequest(request({ type_url: TYPES.CLUSTER, response_nonce: 'old' }), snap).map((o) => o.kind), ['stale']);
  const acked = sotw.onRequest(request({ type_url: TYPES.CLUSTER, response_nonce: r1.nonce, version_info: r1.version }), snap);
  assert.deepEqual(acked.map((o) => o.kind), ['ack']);
  assert.deepEqual(sotw.onSnapshot(snap), [], 'same snapshot: nothing to send');
  const nack = sotw.onRequest(request({ type_url: TYPES.CLUSTER, response_nonce: r1.nonce, error_detail: { code: 3, message: 'no', details: [] } }), snap);
  assert.deepEqual(nack.map((o) => o.kind), ['nack']);
  // An API listener built twice for one name is built once (cached per template and name).
  sotw.onRequest(request({ type_url: TYPES.LISTENER, resource_names: ['h:80'] }), snap);
  const built = snap.apiListeners.get(`${manifest.apiListeners[0].template} h:80`);
  assert.ok(built);
  const again = nextSnapshot(manifest, blobs, new Map(), snap);
  assert.equal(again.apiListeners.get(`${manifest.apiListeners[0].template} h:80`), built, 'carried over to the next snapshot');
});

test('SotW make-before-break: a dropped cluster stays served until the routes that dropped it are ACKed', () => {
  const snapOf = (clusters: string[], route: string) => {
    const { manifest, blobs } = buildManifest({
      gateway: 'ns/gw',
      resources: [...clusters.map((c) => cluster(c)), routeConfig('r', [{ domains: ['*'], cluster: route }])],
      grpcRoutes: [],
      apiListeners: [],
    }, {});
    return nextSnapshot(manifest, new Map(), blobs);
  };
  const names = (o: ReturnType<SotwStream['onSnapshot']>[number]) => (o.kind === 'response' ? `${o.typeUrl.split('.').pop()}:${o.names.join(',')}` : o.kind);
  const v1 = snapOf(['a', 'b'], 'b');
  const sotw = new SotwStream(new StreamState({ gateway: 'ns/gw', nodeId: 'n' }, 's'));
  const ack = (o: ReturnType<SotwStream['onSnapshot']>[number], snap: typeof v1, resource_names: string[]) => {
    assert.equal(o.kind, 'response');
    if (o.kind !== 'response') return [];
    return sotw.onRequest(request({ type_url: o.typeUrl, response_nonce: o.nonce, version_info: o.version, resource_names }), snap);
  };
  ack(sotw.onRequest(request({ type_url: TYPES.CLUSTER, resource_names: ['a', 'b'] }), v1)[0], v1, ['a', 'b']);
  ack(sotw.onRequest(request({ type_url: TYPES.ROUTE, resource_names: ['r'] }), v1)[0], v1, ['r']);

  // v2 drops cluster b and routes to a: clusters are sent first, still holding b.
  const v2 = snapOf(['a'], 'a');
  const pushed = sotw.onSnapshot(v2);
  assert.deepEqual(pushed.map(names), ['RouteConfiguration:r']);
  // Only once the new routes are ACKed does b go.
  const afterAck = ack(pushed[0], v2, ['r']);
  assert.deepEqual(afterAck.map(names), ['ack', 'Cluster:a']);
});
