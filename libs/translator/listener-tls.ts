// TLS of a Gateway's listeners and of the Gateway itself, resolved against Secrets and ConfigMaps:
// which certificates each HTTPS/TLS listener serves, whether it asks clients for a certificate
// (spec.tls.frontend), and the client certificate the Gateway shows to backends (spec.tls.backend).
// A listener whose TLS cannot be used is reported (ResolvedRefs/Accepted with the spec's reasons) and
// left out of the snapshot; the Gateway's other listeners are unaffected.
import { listenerKey, type GatewayModel, type ListenerModel } from './gateway.ts';
import type { TranslatorState } from './index-state.ts';
import type { FrontendValidation } from './objects.ts';
import { GATEWAY_REFERRER, resolveCaBundle, resolveCertificate, type CaBundleIR, type CertificateIR } from './secrets.ts';
import { notOk, ok } from './status.ts';
import type { DownstreamTlsIR } from './envoy/tls.ts';

export interface ListenerTlsIR {
  mode: 'Terminate' | 'Passthrough';
  /** Set for Terminate: what the filter chain's DownstreamTlsContext says. */
  downstream?: DownstreamTlsIR;
}

export interface GatewayTlsIR {
  /** By listenerKey(), for the usable HTTPS and TLS listeners. */
  listeners: Map<string, ListenerTlsIR>;
  /** Every certificate and CA bundle the listeners use, by SDS name. */
  certificates: Map<string, CertificateIR>;
  caBundles: Map<string, CaBundleIR>;
  /** spec.tls.backend.clientCertificateRef, when it resolved. */
  backendClientCertificate?: CertificateIR;
}

/** Protocols whose listeners carry TLS (the ones this module resolves). */
export const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);

/** HTTP/2 where the client offers it, as browsers and gRPC clients do over TLS. */
const HTTPS_ALPN = ['h2', 'http/1.1'];

function frontendValidation(gateway: GatewayModel, port: number): FrontendValidation | undefined {
  const frontend = gateway.tls?.frontend;
  if (!frontend) return undefined;
  const perPort = frontend.perPort.find((p) => p.port === port);
  return perPort ? perPort.tls.validation : frontend.default.validation;
}

type ListenerOutcome = { listener: ListenerModel; tls?: ListenerTlsIR };

function resolveListener(gateway: GatewayModel, listener: ListenerModel, state: TranslatorState, out: GatewayTlsIR): ListenerOutcome {
  if (!TLS_PROTOCOLS.has(listener.protocol) || !listener.usable) return { listener };
  const unusable = (changes: Partial<ListenerModel>): ListenerOutcome => ({ listener: { ...listener, ...changes, usable: false } });
  const spec = listener.tls;
  const mode = spec?.mode ?? 'Terminate';
  if (mode !== 'Terminate' && mode !== 'Passthrough') {
    return unusable({ accepted: notOk('UnsupportedValue', `tls.mode ${mode} is not supported; supported: Terminate, Passthrough`) });
  }
  if (listener.protocol === 'HTTPS' && mode !== 'Terminate') {
    return unusable({ accepted: notOk('UnsupportedValue', 'an HTTPS listener terminates TLS: tls.mode must be Terminate') });
  }
  if (mode === 'Passthrough') return { listener, tls: { mode } };

  // A ListenerSet's listener refers from the ListenerSet: its namespace, its ReferenceGrants.
  const { owner } = listener;
  const from = owner ? { group: owner.group, kind: owner.kind, namespace: owner.namespace } : GATEWAY_REFERRER(gateway.id.namespace);
  const certificates: string[] = [];
  let problem: { reason: string; message: string } | undefined;
  // A ListenerSet's listener refers to its certificates itself (ReferenceGrants name the ListenerSet).
  const certFrom = listener.owner ? { group: listener.owner.group, kind: listener.owner.kind, namespace: listener.owner.namespace } : from;
  for (const ref of spec?.certificateRefs ?? []) {
    const cert = resolveCertificate(state, certFrom, ref, 'InvalidCertificateRef');
    if (!cert.ok) {
      problem ??= cert;
      continue;
    }
    out.certificates.set(cert.value.name, cert.value);
    if (!certificates.includes(cert.value.name)) certificates.push(cert.value.name);
  }
  if (certificates.length === 0) {
    const reason = problem ?? { reason: 'InvalidCertificateRef', message: 'a listener terminating TLS needs tls.certificateRefs' };
    return unusable({ resolvedRefs: notOk(reason.reason, reason.message) });
  }
  // A listener with one bad certificate among good ones serves the good ones, and says so.
  let resolved = listener;
  if (problem) resolved = { ...listener, resolvedRefs: notOk(problem.reason, problem.message) };

  const downstream: DownstreamTlsIR = { certificates, ...(listener.protocol === 'HTTPS' ? { alpn: HTTPS_ALPN } : {}) };
  const validation = frontendValidation(gateway, listener.port);
  if (validation && validation.caCertificateRefs.length > 0) {
    const { bundle, problems } = resolveCaBundle(state, from, validation.caCertificateRefs);
    if (problems.length > 0) {
      const first = problems[0];
      const resolvedRefs = notOk(first.reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidCACertificateRef', first.message);
      if (!bundle) return unusable({ resolvedRefs, accepted: notOk('NoValidCACertificate', `no usable CA certificate for client validation: ${first.message}`) });
      resolved = { ...resolved, resolvedRefs };
    }
    out.caBundles.set(bundle!.name, bundle!);
    downstream.clientValidation = { ca: bundle!.name, required: validation.mode !== 'AllowInsecureFallback' };
  }
  return { listener: resolved, tls: { mode, downstream } };
}

/**
 * The Gateway with its TLS listeners' verdicts settled and its TLS IR attached. Listeners of other
 * protocols, and Gateways without TLS, come back unchanged.
 */
export function withGatewayTls(gateway: GatewayModel, state: TranslatorState): GatewayModel {
  if (gateway.invalid !== undefined) return gateway;
  const tls: GatewayTlsIR = { listeners: new Map(), certificates: new Map(), caBundles: new Map() };
  const listeners = gateway.listeners.map((l) => {
    const outcome = resolveListener(gateway, l, state, tls);
    if (outcome.tls) tls.listeners.set(listenerKey(l), outcome.tls);
    return outcome.listener;
  });
  let resolvedRefs = gateway.resolvedRefs;
  const clientRef = gateway.tls?.backend?.clientCertificateRef;
  if (clientRef) {
    const cert = resolveCertificate(state, GATEWAY_REFERRER(gateway.id.namespace), clientRef, 'InvalidClientCertificateRef');
    if (cert.ok) tls.backendClientCertificate = cert.value;
    resolvedRefs = cert.ok ? ok('ResolvedRefs') : notOk(cert.reason, cert.message);
  }
  return { ...gateway, listeners, resolvedRefs, tlsIR: tls };
}
