// HTTPS listeners: certificates from Secrets served over SDS, SNI filter chains, client certificate
// validation (Gateway spec.tls.frontend), the Gateway's backend client certificate, and every way a
// certificate reference can be wrong, each a status and never a crash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { caConfigMap, makePki, rawSecret, tlsSecret } from './certs.ts';
import { condition, encodeEverySnapshot, gateway, gatewayClass, httpListener, httpRoute, reportOf, run, service, unpack, type Cond } from './fixtures.ts';
import type { KubeObject } from '../../../libs/translator/api.ts';

const pki = makePki();
const example = pki.leaf(['example.com', '*.example.com']);
const other = pki.leaf(['other.org']);

const httpsListener = (name: string, secret: string, more: Record<string, unknown> = {}, ref: Record<string, unknown> = {}) => ({
  name, port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ kind: 'Secret', group: '', name: secret, ...ref }] }, ...more,
});

type ListenerStatus = { name: string; conditions: Cond[]; supportedKinds: unknown[]; attachedRoutes: number };
const listenerStatus = (result: ReturnType<typeof run>, gw: string, name: string, ns = 'default') =>
  (reportOf(result, 'Gateway', gw, ns)!.status.listeners as ListenerStatus[]).find((l) => l.name === name)!;
const reasons = (l: ListenerStatus) => Object.fromEntries(l.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

function withGateway(gw: KubeObject, ...more: KubeObject[]) {
  return run([gatewayClass(), gw, ...more, httpRoute('web', { parentRefs: [{ name: gw.metadata.name }], rules: [{ backendRefs: [{ name: 'app', port: 8080 }] }] })],
    [service('default', 'app', [{ port: 8080 }])]);
}

test('an HTTPS listener serves its Secret over SDS: a tls_inspector, one filter chain per hostname with SNI, the HTTP routes behind TLS', () => {
  const result = withGateway(
    gateway('web', [httpsListener('any', 'example'), httpsListener('other', 'other', { hostname: 'other.org' })]),
    tlsSecret('example', example), tlsSecret('other', other),
  );
  const snap = result.snapshots.get('default/web')!;
  assert.deepEqual(snap.listeners.map((l) => l.name), ['default/web/tls-443']);
  const [listener] = snap.listeners;
  assert.deepEqual(listener.listener_filters!.map((f) => f.name), ['envoy.filters.listener.tls_inspector']);
  const chains = listener.filter_chains!;
  assert.deepEqual(chains.map((c) => [c.name, c.filter_chain_match?.server_names ?? []]), [['https/any', []], ['https/other', ['other.org']]]);
  const tls = unpack('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', chains[1].transport_socket!.typed_config);
  assert.deepEqual(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: { name: string }) => s.name), ['secret/default/other']);
  assert.deepEqual(tls.common_tls_context.alpn_protocols, ['h2', 'http/1.1']);
  assert.equal(tls.require_client_certificate, undefined);
  const hcm = unpack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', chains[0].filters![0].typed_config);
  // Each HTTPS chain has its own route configuration (SNI and Host must name the same listener).
  assert.equal(hcm.rds.route_config_name, 'default/web/https-443/any');
  assert.equal(unpack('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', chains[1].filters![0].typed_config).rds.route_config_name, 'default/web/https-443/other');
  assert.deepEqual(snap.routes.map((r) => r.name), ['default/web/https-443/any', 'default/web/https-443/other']);
  assert.deepEqual(snap.grpcRoutes.map((r) => r.name), ['default/web/http-443/grpc']);
  assert.deepEqual(snap.secrets.map((s) => s.name), ['secret/default/example', 'secret/default/other']);
  assert.equal(snap.secrets[0].tls_certificate!.certificate_chain!.inline_string, example.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0] + '\n');
  assert.deepEqual(reasons(listenerStatus(result, 'web', 'other')), { Accepted: 'True/Accepted', ResolvedRefs: 'True/ResolvedRefs', Programmed: 'True/Programmed', Conflicted: 'False/NoConflicts' });
});

test('a missing Secret makes its listener ResolvedRefs=False/InvalidCertificateRef and Programmed=False; the other listeners keep serving', () => {
  const result = withGateway(gateway('web', [httpListener('http'), httpsListener('https', 'absent')]));
  const https = listenerStatus(result, 'web', 'https');
  assert.equal(reasons(https).ResolvedRefs, 'False/InvalidCertificateRef');
  assert.equal(condition(https.conditions, 'Programmed')!.status, 'False');
  assert.deepEqual(https.supportedKinds, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }]);
  const snap = result.snapshots.get('default/web')!;
  assert.deepEqual(snap.listeners.map((l) => l.name), ['default/web/http-80']);
  assert.deepEqual(snap.secrets, []);
  assert.equal(reasons(listenerStatus(result, 'web', 'http')).Programmed, 'True/Programmed');
});

for (const [what, secret] of [
  ['tls.crt is not PEM', rawSecret('bad', { 'tls.crt': 'Hello world\n', 'tls.key': 'Hello world\n' })],
  ['tls.key is missing', rawSecret('bad', { 'tls.crt': example.cert })],
  ['tls.key does not match tls.crt', rawSecret('bad', { 'tls.crt': example.cert, 'tls.key': other.key })],
  ['the Secret is Opaque', tlsSecret('bad', example, 'default', 'Opaque')],
] as const) {
  test(`a certificate Secret whose ${what} is InvalidCertificateRef, caught at translation`, () => {
    const result = withGateway(gateway('web', [httpsListener('https', 'bad')]), secret);
    const https = listenerStatus(result, 'web', 'https');
    assert.equal(reasons(https).ResolvedRefs, 'False/InvalidCertificateRef');
    assert.match(condition(https.conditions, 'ResolvedRefs')!.message, /Secret default\/bad/);
    assert.deepEqual(result.snapshots.get('default/web')!.listeners, []);
  });
}

test('a certificateRef of another kind or group is InvalidCertificateRef', () => {
  for (const ref of [{ kind: 'ConfigMap' }, { group: 'example.io' }]) {
    const result = withGateway(gateway('web', [httpsListener('https', 'example', {}, ref)]), tlsSecret('example', example));
    assert.equal(reasons(listenerStatus(result, 'web', 'https')).ResolvedRefs, 'False/InvalidCertificateRef');
  }
});

test('a certificateRef into another namespace is RefNotPermitted without a ReferenceGrant from Gateways, and resolves with one', () => {
  const gw = gateway('web', [httpsListener('https', 'shared', {}, { namespace: 'certs' })]);
  const secret = tlsSecret('shared', example, 'certs');
  const denied = withGateway(gw, secret);
  assert.equal(reasons(listenerStatus(denied, 'web', 'https')).ResolvedRefs, 'False/RefNotPermitted');

  const grant: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'gw', namespace: 'certs' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default' }], to: [{ group: '', kind: 'Secret', name: 'shared' }] },
  };
  const allowed = withGateway(gw, secret, grant);
  assert.equal(reasons(listenerStatus(allowed, 'web', 'https')).Programmed, 'True/Programmed');
  assert.deepEqual(allowed.snapshots.get('default/web')!.secrets.map((s) => s.name), ['secret/certs/shared']);
});

test('frontend client validation serves the CA bundle over SDS and requires a client certificate, per port over the default', () => {
  const gw = gateway('web', [httpsListener('https', 'example'), { ...httpsListener('alt', 'example'), port: 8443 }]);
  gw.spec = {
    ...(gw.spec as object),
    tls: { frontend: {
      default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'clients' }] } },
      perPort: [{ port: 8443, tls: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'clients' }], mode: 'AllowInsecureFallback' } } }],
    } },
  };
  const result = withGateway(gw, tlsSecret('example', example), caConfigMap('clients', pki.ca.cert));
  const snap = result.snapshots.get('default/web')!;
  const contexts = snap.listeners.map((l) => unpack('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', l.filter_chains![0].transport_socket!.typed_config));
  assert.deepEqual(contexts.map((c) => c.common_tls_context.validation_context_sds_secret_config.name), ['ca/default/clients', 'ca/default/clients']);
  assert.deepEqual(contexts.map((c) => c.require_client_certificate?.value), [true, undefined]);
  const ca = snap.secrets.find((s) => s.name === 'ca/default/clients')!;
  assert.match(ca.validation_context!.trusted_ca!.inline_string!, /BEGIN CERTIFICATE/);
});

test('an unusable default frontend CA makes the HTTPS listener NoValidCACertificate and unprogrammed; the HTTP listener keeps serving', () => {
  const gw = gateway('web', [httpsListener('https', 'example'), httpListener('http')]);
  gw.spec = { ...(gw.spec as object), tls: { frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'does-not-exist' }] } } } } };
  const result = withGateway(gw, tlsSecret('example', example));
  const https = reasons(listenerStatus(result, 'web', 'https'));
  assert.deepEqual([https.ResolvedRefs, https.Accepted, https.Programmed.split('/')[0]], ['False/InvalidCACertificateRef', 'False/NoValidCACertificate', 'False']);
  assert.equal(reasons(listenerStatus(result, 'web', 'http')).Programmed, 'True/Programmed');
  assert.deepEqual(result.snapshots.get('default/web')!.listeners.map((l) => l.name), ['default/web/http-80']);
});

test("Gateway spec.tls.backend.clientCertificateRef is the Gateway's ResolvedRefs; a bad one leaves the Gateway Accepted", () => {
  const withRef = (ref: Record<string, unknown>, ...more: KubeObject[]) => {
    const gw = gateway('web', [httpListener('http')]);
    gw.spec = { ...(gw.spec as object), tls: { backend: { clientCertificateRef: { name: 'client', ...ref } } } };
    const status = reportOf(withGateway(gw, ...more), 'Gateway', 'web')!.status;
    return [condition(status.conditions, 'ResolvedRefs')!, condition(status.conditions, 'Accepted')!].map((c) => `${c.status}/${c.reason}`);
  };
  assert.deepEqual(withRef({}, tlsSecret('client', example)), ['True/ResolvedRefs', 'True/Accepted']);
  assert.deepEqual(withRef({}), ['False/InvalidClientCertificateRef', 'True/Accepted']);
  assert.deepEqual(withRef({ kind: 'WrongKind' }, tlsSecret('client', example)), ['False/InvalidClientCertificateRef', 'True/Accepted']);
  assert.deepEqual(withRef({}, rawSecret('client', {}, 'default', 'Opaque')), ['False/InvalidClientCertificateRef', 'True/Accepted']);
  assert.deepEqual(withRef({ namespace: 'certs' }, tlsSecret('client', example, 'certs')), ['False/RefNotPermitted', 'True/Accepted']);
});

test('a Gateway without spec.tls has no ResolvedRefs condition of its own', () => {
  const status = reportOf(withGateway(gateway('web', [httpListener('http')])), 'Gateway', 'web')!.status;
  assert.equal(condition(status.conditions, 'ResolvedRefs'), undefined);
});

test('every snapshot of this file encodes against Envoy protos, Secrets and TLS contexts included', () => {
  assert.ok(encodeEverySnapshot() > 0);
});
