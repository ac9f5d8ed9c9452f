// The xDS port's security: mTLS with proxy authentication (a proxy's client certificate must name,
// as a SPIFFE ID, the Gateway its node.cluster names), and isolation (a proxy only ever gets its own
// Gateway's resources, whatever names it asks for).
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkProxyIdentity, spiffeGateways, uriSans } from '../../libs/xds-server/node.ts';
import { encode } from '../../libs/xds/encode.ts';
import type { EncodedResource, EncodedSnapshot } from '../../libs/snapshots/manifest.ts';
import { PER_TYPE_SERVICES } from '../../services/xds-server/ads-server.ts';
import {
  adsClient, cluster, deltaClient, endpoints, namesOf, routeConfig, seedSnapshot, socketListener, startEnv, TYPES, type Env,
} from './helpers.ts';
import { TestPki } from './pki.ts';

const { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } = TYPES;

function secret(name: string): EncodedResource {
  return { typeUrl: SECRET, name, bytes: encode('envoy.extensions.transport_sockets.tls.v3.Secret', { name, validation_context: { trusted_ca: { inline_string: 'x' } } }) };
}

/** A Gateway's snapshot whose every name carries the Gateway's own prefix. */
function gatewaySnapshot(gateway: string, p: string): EncodedSnapshot {
  return {
    gateway,
    resources: [
      cluster(`${p}-cluster`), endpoints(`${p}-cluster`, [9001]), secret(`${p}-secret`),
      socketListener(`${p}-listener`, 80, `${p}-route`), routeConfig(`${p}-route`, [{ domains: ['*'], cluster: `${p}-cluster` }]),
    ],
    grpcRoutes: [routeConfig(`${p}-grpc-route`, [{ domains: ['*'], cluster: `${p}-cluster` }])],
    apiListeners: [],
  };
}

// --- pure: reading identities from certificates ---------------------------------------------------
test('uriSans/spiffeGateways read SPIFFE IDs from Node\'s subjectaltname, quoted values included', () => {
  const san = 'DNS:envoy.local, URI:spiffe://corp.test/ns/default/gateway/web, URI:"spiffe://corp.test/ns/a/gateway/b,c", IP Address:10.0.0.1';
  assert.deepEqual(uriSans(san), ['spiffe://corp.test/ns/default/gateway/web', 'spiffe://corp.test/ns/a/gateway/b,c']);
  assert.deepEqual(spiffeGateways(san), ['default/web', 'a/b,c']);
  assert.deepEqual(spiffeGateways(san, 'other.test'), [], 'another trust domain does not count');
  assert.deepEqual(spiffeGateways('URI:spiffe://corp.test/ns/default/sa/envoy'), [], 'a service-account ID names no Gateway');
  assert.equal(checkProxyIdentity(san, 'default/web', 'corp.test'), undefined);
  assert.match(checkProxyIdentity(san, 'default/api')!, /is for Gateway default\/web, a\/b,c, not default\/api/);
  assert.match(checkProxyIdentity(undefined, 'default/web')!, /no SPIFFE ID spiffe:\/\/<trust-domain>\/ns\/<namespace>\/gateway\/<name>/);
});

// --- mTLS against a real replica ------------------------------------------------------------------
let env: Env;
let pki: TestPki;
let port: number;
const GW_A = 'default/gw-a';
const GW_B = 'default/gw-b';

before(async () => {
  pki = new TestPki();
  env = await startEnv();
  await seedSnapshot(env, gatewaySnapshot(GW_A, 'a'));
  await seedSnapshot(env, gatewaySnapshot(GW_B, 'b'));
  const server = pki.leaf('xds-server', 'DNS:localhost,IP:127.0.0.1');
  const replica = await env.startReplica('mtls', {
    GANTRY_XDS_TLS_CERT: server.certPath, GANTRY_XDS_TLS_KEY: server.keyPath, GANTRY_XDS_TLS_CLIENT_CA: pki.caPath,
    GANTRY_XDS_TRUST_DOMAIN: 'gantry.test',
  });
  port = replica.port;
});
after(async () => {
  await env.stop();
  pki.remove();
});

const tls = (leaf?: { cert: string; key: string }) =>
  grpc.credentials.createSsl(Buffer.from(pki.ca), leaf ? Buffer.from(leaf.key) : null, leaf ? Buffer.from(leaf.cert) : null);

test('mTLS: a proxy whose certificate names its Gateway (SPIFFE URI SAN) is served', async () => {
  const leaf = pki.leaf('envoy', 'URI:spiffe://gantry.test/ns/default/gateway/gw-a');
  const c = adsClient(port, { id: 'envoy-a', cluster: GW_A }, undefined, tls(leaf));
  try {
    c.send({ type_url: CLUSTER });
    assert.deepEqual(namesOf(await c.next(CLUSTER)), ['a-cluster']);
  } finally {
    c.close();
  }
});

test('mTLS: a certificate for another Gateway, without a SPIFFE ID, or in another trust domain ends the stream with PERMISSION_DENIED', async () => {
  const cases = [
    { san: 'URI:spiffe://gantry.test/ns/default/gateway/gw-a', cluster: GW_B, message: /is for Gateway default\/gw-a, not default\/gw-b/ },
    { san: 'DNS:gw-b.default.svc', cluster: GW_B, message: /has no SPIFFE ID/ },
    { san: 'URI:spiffe://elsewhere.test/ns/default/gateway/gw-b', cluster: GW_B, message: /in trust domain gantry\.test/ },
  ];
  for (const k of cases) {
    const c = adsClient(port, { id: 'envoy-x', cluster: k.cluster }, undefined, tls(pki.leaf('envoy', k.san)));
    try {
      c.send({ type_url: CLUSTER });
      const status = await c.status;
      assert.equal(status.code, grpc.status.PERMISSION_DENIED, k.san);
      assert.match(status.details, k.message);
      await c.nothingWithin(50);
    } finally {
      c.close();
    }
  }
  // The per-type services check the same, in both variants.
  const cds = PER_TYPE_SERVICES.find((s) => s.typeUrl === CLUSTER)!;
  const d = deltaClient(port, { id: 'envoy-x', cluster: GW_B }, { service: cds.service, method: cds.delta },
    tls(pki.leaf('envoy', 'URI:spiffe://gantry.test/ns/default/gateway/gw-a')));
  try {
    d.send({ type_url: CLUSTER, resource_names_subscribe: ['*'] });
    assert.equal((await d.status).code, grpc.status.PERMISSION_DENIED);
  } finally {
    d.close();
  }
});

test('mTLS: no client certificate, or one from an untrusted CA, gets no stream at all', async () => {
  const other = pki.otherCa();
  for (const creds of [tls(), tls(pki.leaf('envoy', 'URI:spiffe://gantry.test/ns/default/gateway/gw-a', other))]) {
    const c = adsClient(port, { id: 'envoy-a', cluster: GW_A }, undefined, creds);
    try {
      c.send({ type_url: CLUSTER });
      const status = await c.status;
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      await c.nothingWithin(20);
    } finally {
      c.close();
    }
  }
  // And plaintext is not spoken on the TLS port.
  const plain = adsClient(port, { id: 'envoy-a', cluster: GW_A });
  try {
    plain.send({ type_url: CLUSTER });
    assert.equal((await plain.status).code, grpc.status.UNAVAILABLE);
  } finally {
    plain.close();
  }
});

// --- isolation (plaintext replica; the cache is per Gateway whatever the transport) -----------------
const B_NAMES: Record<string, string[]> = {
  [LISTENER]: ['b-listener'],
  [ROUTE]: ['b-route', 'b-grpc-route'],
  [CLUSTER]: ['b-cluster'],
  [ENDPOINT]: ['b-cluster'],
  [SECRET]: ['b-secret'],
};
// Names that would reach another object through a JavaScript prototype if lookups were careless.
const ODD_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '*'];

test('isolation: a proxy of Gateway A asking for B\'s listener, route, cluster, endpoint and secret names gets none of them (SotW)', async () => {
  const c = adsClient(env.xds.port, { id: 'envoy-a', cluster: GW_A });
  try {
    for (const [typeUrl, names] of Object.entries(B_NAMES)) {
      c.send({ type_url: typeUrl, resource_names: [...names, ...ODD_NAMES.filter((n) => n !== '*')] });
      const r = await c.next(typeUrl);
      assert.deepEqual(namesOf(r), [], typeUrl);
    }
  } finally {
    c.close();
  }
  // Its own names still resolve, and only in its own snapshot.
  const own = adsClient(env.xds.port, { id: 'envoy-a2', cluster: GW_A });
  try {
    own.send({ type_url: SECRET, resource_names: ['a-secret', 'b-secret', '__proto__'] });
    assert.deepEqual(namesOf(await own.next(SECRET)), ['a-secret']);
    own.send({ type_url: LISTENER, resource_names: ['*', 'b-listener', 'constructor'] });
    assert.deepEqual(namesOf(await own.next(LISTENER)), ['a-listener'], 'the wildcard is A\'s listeners only');
  } finally {
    own.close();
  }
});

test('isolation: the same over delta, and with type URLs that are not types', async () => {
  const d = deltaClient(env.xds.port, { id: 'envoy-a', cluster: GW_A });
  try {
    for (const [typeUrl, names] of Object.entries(B_NAMES)) {
      d.send({ type_url: typeUrl, resource_names_subscribe: [...names, ...ODD_NAMES.filter((n) => n !== '*')] });
      const r = await d.next(typeUrl);
      assert.deepEqual(r.resources.map((x) => x.name), [], typeUrl);
    }
    d.send({ type_url: '__proto__', resource_names_subscribe: ['*', 'b-cluster'] });
    d.send({ type_url: 'constructor', resource_names_subscribe: ['name', 'length'] });
    const odd = [await d.next('__proto__'), await d.next('constructor')];
    assert.deepEqual(odd.map((r) => r.resources.length), [0, 0]);
  } finally {
    d.close();
  }
});
