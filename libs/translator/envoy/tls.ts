// Envoy's side of TLS: SDS Secrets, the downstream context of a listener's filter chain and the
// upstream context of a cluster. Certificates reach Envoy only as SDS Secrets over the ADS stream,
// so a listener or cluster names a Secret and a rotated certificate changes one resource.
import { pack } from '../../xds/encode.ts';
import type { Secret } from '../../xds/types.ts';
import type { DownstreamTlsContext } from '../../../protos/generated/envoy/extensions/transport_sockets/tls/v3/DownstreamTlsContext.ts';
import type { UpstreamTlsContext } from '../../../protos/generated/envoy/extensions/transport_sockets/tls/v3/UpstreamTlsContext.ts';
import type { SdsSecretConfig } from '../../../protos/generated/envoy/extensions/transport_sockets/tls/v3/SdsSecretConfig.ts';
import type { SubjectAltNameMatcher } from '../../../protos/generated/envoy/extensions/transport_sockets/tls/v3/SubjectAltNameMatcher.ts';
import type { TransportSocket } from '../../../protos/generated/envoy/config/core/v3/TransportSocket.ts';
import type { ListenerFilter } from '../../../protos/generated/envoy/config/listener/v3/ListenerFilter.ts';
import type { CaBundleIR, CertificateIR } from '../secrets.ts';
import { adsConfigSource } from './common.ts';

/** Where the OS keeps its trusted roots (Debian/Ubuntu/Alpine; Envoy's images are Ubuntu). */
export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

export function certificateSecret(cert: CertificateIR): Secret {
  return {
    name: cert.name,
    tls_certificate: { certificate_chain: { inline_string: cert.certificateChain }, private_key: { inline_string: cert.privateKey } },
  };
}

export function caSecret(bundle: CaBundleIR): Secret {
  return { name: bundle.name, validation_context: { trusted_ca: { inline_string: bundle.pem } } };
}

export function sdsSecret(name: string): SdsSecretConfig {
  return { name, sds_config: adsConfigSource() };
}

export const tlsInspector: ListenerFilter = {
  name: 'envoy.filters.listener.tls_inspector',
  typed_config: pack('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}),
};

export interface DownstreamTlsIR {
  /** SDS names of the certificates (several: e.g. RSA and ECDSA). */
  certificates: string[];
  /** Client certificate validation (Gateway spec.tls.frontend). */
  clientValidation?: { ca: string; required: boolean };
  alpn?: string[];
}

export function downstreamTransportSocket(ir: DownstreamTlsIR): TransportSocket {
  const context: DownstreamTlsContext = {
    common_tls_context: {
      tls_certificate_sds_secret_configs: ir.certificates.map(sdsSecret),
      ...(ir.alpn ? { alpn_protocols: ir.alpn } : {}),
      ...(ir.clientValidation ? { validation_context_sds_secret_config: sdsSecret(ir.clientValidation.ca) } : {}),
    },
  };
  if (ir.clientValidation?.required) context.require_client_certificate = { value: true };
  return { name: 'envoy.transport_sockets.tls', typed_config: pack('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', context) };
}

export interface UpstreamTlsIR {
  /** Absent: no SNI is sent. */
  sni?: string;
  /** Inline trusted CAs (PEM), or the system's roots. */
  trustedCa: { pem: string } | { system: true };
  subjectAltNames: Array<{ type: 'DNS' | 'URI' | 'IP_ADDRESS'; value: string }>;
  /** SDS name of the client certificate to present (Gateway spec.tls.backend). */
  clientCertificate?: string;
}

export function upstreamTransportSocket(ir: UpstreamTlsIR): TransportSocket {
  const sans: SubjectAltNameMatcher[] = ir.subjectAltNames.map((s) => ({ san_type: s.type, matcher: { exact: s.value } }));
  const context: UpstreamTlsContext = {
    ...(ir.sni ? { sni: ir.sni } : {}),
    common_tls_context: {
      validation_context: {
        trusted_ca: 'pem' in ir.trustedCa ? { inline_string: ir.trustedCa.pem } : { filename: SYSTEM_CA_FILE },
        ...(sans.length > 0 ? { match_typed_subject_alt_names: sans } : {}),
      },
      ...(ir.clientCertificate ? { tls_certificate_sds_secret_configs: [sdsSecret(ir.clientCertificate)] } : {}),
    },
  };
  return { name: 'envoy.transport_sockets.tls', typed_config: pack('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', context) };
}
