// BackendTLSPolicy: the Gateway re-encrypts to a Service's pods, verifying them against the policy's
// CA and hostname; conflicts, bad CA references and the Gateway's own client certificate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caConfigMap, makePki, tlsSecret } from './certs.ts';
import { condition, encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, reportOf, run, service, unpack, GW_API, type Cond } from './fixtures.ts';
import type { KubeObject } from '../../../libs/translator/api.ts';

const pki = makePki();
const client = pki.leaf(['gateway.example.com']);

function policy(name: string, target: Record<string, unknown>, validation: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: GW_API, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'default', generation: 1, ...metadata },
    spec: { targetRefs: [{ group: '', kind: 'Service', ...target }], validation: { hostname: 'backend.example.com', ...validation } },
  };
}

const caRef = (name = 'backend-ca') => ({ caCertificateRefs: [{ group: '', kind: 'ConfigMap', name }] });
const services = [service('default', 'secure', [{ port: 443, name: 'https' }, { port: 8443, name: 'alt' }])];
const routeTo = (...ports: number[]) => httpRoute('web', { parentRefs: [{ name: 'web' }], rules: ports.map((port) => ({ backendRefs: [{ name: 'secure', port }] })) });

function translate(objects: KubeObject[], gw: KubeObject = gateway('web', [httpListener('http')])) {
  return run([gatewayClass(), gw, caConfigMap('backend-ca', pki.ca.cert), ...objects], services);
}

function upstream(result: ReturnType<typeof run>, cluster: string) {
  const c = result.snapshots.get('default/web')!.clusters.find((x) => x.name === cluster)!;
  return c.transport_socket ? unpack('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', c.transport_socket.typed_config) : undefined;
}

type Ancestor = { ancestorRef: Record<string, string>; controllerName: string; conditions: Cond[] };
const ancestors = (result: ReturnType<typeof run>, name: string) => (reportOf(result, 'BackendTLSPolicy', name)?.status.ancestors ?? []) as Ancestor[];
const verdict = (a: Ancestor | undefined) => a && Object.fromEntries(a.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

test("a BackendTLSPolicy puts an UpstreamTlsContext on the Service port's cluster: SNI, the ConfigMap's CA, the hostname as SAN", () => {
  const result = translate([routeTo(443), policy('tls', { name: 'secure', sectionName: 'https' }, caRef())]);
  const tls = upstream(result, 'k8s/default/secure/443')!;
  assert.equal(tls.sni, 'backend.example.com');
  assert.match(tls.common_tls_context.validation_context.trusted_ca.inline_string, /BEGIN CERTIFICATE/);
  assert.deepEqual(tls.common_tls_context.validation_context.match_typed_subject_alt_names.map((m: { san_type: string; matcher: { exact: string } }) => [m.san_type, m.matcher.exact]), [['DNS', 'backend.example.com']]);
  const [ancestor] = ancestors(result, 'tls');
  assert.deepEqual(ancestor.ancestorRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'web' });
  assert.equal(ancestor.controllerName, 'gantry.dev/gateway-controller');
  assert.deepEqual(verdict(ancestor), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs' });
});

test('subjectAltNames replace the hostname as what is verified; wellKnownCACertificates System trusts the OS bundle', () => {
  const result = translate([routeTo(443), policy('tls', { name: 'secure' }, {
    wellKnownCACertificates: 'System',
    subjectAltNames: [{ type: 'Hostname', hostname: 'pod.example.com' }, { type: 'URI', uri: 'spiffe://example.com/backend' }],
  })]);
  const { validation_context: vc } = upstream(result, 'k8s/default/secure/443')!.common_tls_context;
  assert.equal(vc.trusted_ca.filename, '/etc/ssl/certs/ca-certificates.crt');
  assert.deepEqual(vc.match_typed_subject_alt_names.map((m: { san_type: string; matcher: { exact: string } }) => `${m.san_type}:${m.matcher.exact}`),
    ['DNS:pod.example.com', 'URI:spiffe://example.com/backend']);
});

test('a policy whose CA ConfigMap is missing or empty is NoValidCACertificate/InvalidCACertificateRef, and its cluster gets no endpoints', () => {
  const empty: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'empty', namespace: 'default' }, data: {} };
  for (const ca of ['nonexistent', 'empty']) {
    const result = translate([empty, routeTo(443), policy('tls', { name: 'secure' }, caRef(ca))]);
    assert.deepEqual(verdict(ancestors(result, 'tls')[0]), { Accepted: 'False/NoValidCACertificate', ResolvedRefs: 'False/InvalidCACertificateRef' });
    const snap = result.snapshots.get('default/web')!;
    assert.equal(upstream(result, 'k8s/default/secure/443'), undefined);
    assert.deepEqual(snap.endpoints.find((e) => e.cluster_name === 'k8s/default/secure/443')!.endpoints, [], 'requests fail instead of going out unverified');
  }
});

test('conflicting policies: the oldest wins and the other is Conflicted; a sectionName policy beats a whole-Service one on its port', () => {
  const result = translate([
    routeTo(443, 8443),
    policy('newer', { name: 'secure' }, { ...caRef(), hostname: 'newer.example.com' }, { creationTimestamp: '2025-02-01T00:00:00Z' }),
    policy('older', { name: 'secure' }, { ...caRef(), hostname: 'older.example.com' }, { creationTimestamp: '2025-01-01T00:00:00Z' }),
    policy('port', { name: 'secure', sectionName: 'alt' }, { ...caRef(), hostname: 'port.example.com' }, { creationTimestamp: '2025-03-01T00:00:00Z' }),
  ]);
  assert.deepEqual(verdict(ancestors(result, 'older')[0])!.Accepted, 'True/Accepted');
  assert.deepEqual(verdict(ancestors(result, 'newer')[0])!.Accepted, 'False/Conflicted');
  assert.deepEqual(verdict(ancestors(result, 'port')[0])!.Accepted, 'True/Accepted');
  assert.equal(upstream(result, 'k8s/default/secure/443')!.sni, 'older.example.com');
  assert.equal(upstream(result, 'k8s/default/secure/8443')!.sni, 'port.example.com');
});

test("the Gateway's backend client certificate is presented, over SDS, to the backends a policy verifies", () => {
  const gw = gateway('web', [httpListener('http')]);
  gw.spec = { ...(gw.spec as object), tls: { backend: { clientCertificateRef: { name: 'gw-client' } } } };
  const result = translate([tlsSecret('gw-client', client), routeTo(443, 8443), policy('tls', { name: 'secure', sectionName: 'https' }, caRef())], gw);
  const tls = upstream(result, 'k8s/default/secure/443')!;
  assert.deepEqual(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: { name: string }) => s.name), ['secret/default/gw-client']);
  assert.equal(upstream(result, 'k8s/default/secure/8443'), undefined, 'a port without a policy stays plaintext');
  assert.deepEqual(result.snapshots.get('default/web')!.secrets.map((s) => s.name), ['secret/default/gw-client']);
});

test("a policy's conditions carry its generation; a policy no Gateway of ours uses gets no report", () => {
  const result = translate([routeTo(443), policy('tls', { name: 'secure' }, caRef(), { generation: 4 }), policy('unused', { name: 'elsewhere' }, caRef())]);
  for (const c of ancestors(result, 'tls')[0].conditions) assert.equal(c.observedGeneration, 4);
  assert.equal(reportOf(result, 'BackendTLSPolicy', 'unused'), undefined);
  assert.ok(condition(ancestors(result, 'tls')[0].conditions, 'Accepted'));
});

test('every snapshot of this file encodes against Envoy protos, UpstreamTlsContext included', () => {
  assert.ok(encodeEverySnapshot() > 0);
});

const tlsRouteTo = (port: number): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TLSRoute', metadata: { name: 'pass', namespace: 'default', generation: 1 },
  spec: { parentRefs: [{ name: 'web', sectionName: 'pass' }], hostnames: ['db.example.com'], rules: [{ backendRefs: [{ name: 'secure', port }] }] },
});
const passthroughListener = { name: 'pass', port: 8443, protocol: 'TLS', tls: { mode: 'Passthrough' } };

test('TLS passthrough to a Service port with a BackendTLSPolicy uses a cluster without the policy: no double encryption', () => {
  // Reached only through passthrough: the policy applies nowhere, so no Gateway is its ancestor.
  const only = translate([tlsRouteTo(443), policy('tls', { name: 'secure' }, caRef())], gateway('web', [passthroughListener]));
  const snap = only.snapshots.get('default/web')!;
  assert.deepEqual(snap.clusters.map((c) => c.name), ['gantry/unavailable', 'k8s/default/secure/443/passthrough']);
  assert.equal(snap.clusters[1].transport_socket, undefined);
  assert.deepEqual(snap.endpoints.find((e) => e.cluster_name === 'k8s/default/secure/443/passthrough')!.endpoints!.length, 1);
  const chain = snap.listeners[0].filter_chains![0];
  assert.equal(unpack('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', chain.filters![0].typed_config).cluster, 'k8s/default/secure/443/passthrough');
  assert.equal(reportOf(only, 'BackendTLSPolicy', 'tls'), undefined);

  // Also reached by an HTTPRoute: that cluster is re-encrypted, the passthrough one is not.
  const shared = translate([routeTo(443), tlsRouteTo(443), policy('tls', { name: 'secure' }, caRef())], gateway('web', [httpListener('http'), passthroughListener]));
  assert.ok(upstream(shared, 'k8s/default/secure/443'));
  assert.equal(upstream(shared, 'k8s/default/secure/443/passthrough'), undefined);
  assert.equal(ancestors(shared, 'tls').length, 1);

  // Without a policy, passthrough keeps the Service port's cluster name.
  const plain = translate([tlsRouteTo(443)], gateway('web', [passthroughListener]));
  assert.ok(plain.snapshots.get('default/web')!.clusters.some((c) => c.name === 'k8s/default/secure/443'));
  assert.ok(encodeEverySnapshot() > 0);
});

test('a BackendTLSPolicy no Gateway of ours uses gets no report: the publisher then deletes the one it had (status cleared)', () => {
  const result = translate([policy('unused', { name: 'secure' }, caRef())]);
  assert.equal(reportOf(result, 'BackendTLSPolicy', 'unused'), undefined);
});
