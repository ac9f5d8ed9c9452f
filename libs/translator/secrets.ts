// Certificates and CA bundles read from Secrets and ConfigMaps, checked with node:crypto so that a
// bad certificate is a status at translation time, never an Envoy NACK. Every function returns a
// value: the material, or the reason (the Gateway API's) and a message naming the object.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { objectKey, type TranslatorState } from './index-state.ts';
import { GATEWAY_GROUP, type ObjectRef } from './objects.ts';

/** A certificate chain and its private key, as served over SDS under `name`. */
export interface CertificateIR {
  /** "secret/<namespace>/<name>" */
  name: string;
  certificateChain: string;
  privateKey: string;
}

/** A bundle of trusted CA certificates, PEM. */
export interface CaBundleIR {
  /** "ca/<namespace>/<name>" of the objects it was read from, joined by ",". */
  name: string;
  pem: string;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

/** Who refers: a Gateway, a route, a policy, in `namespace`. */
export interface Referrer {
  group: string;
  kind: string;
  namespace: string;
}

export const secretResourceName = (namespace: string, name: string) => `secret/${namespace}/${name}`;
export const caResourceName = (namespace: string, name: string) => `ca/${namespace}/${name}`;

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Whether a ReferenceGrant in `to.namespace` lets `from` refer to the object `to`. */
export function referenceGrantedTo(
  state: TranslatorState, from: Referrer, to: { group: string; kind: string; namespace: string; name: string },
): boolean {
  return (state.referenceGrants.get(to.namespace) ?? []).some(
    (grant) =>
      grant.spec.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
      grant.spec.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === to.name)),
  );
}

/** The PEM certificates of `text`, each parsed; an error message when there is none or one is bad. */
export function parseCertificates(text: string | undefined): { ok: true; certs: X509Certificate[]; pem: string } | { ok: false; message: string } {
  const blocks = (text ?? '').match(PEM_CERT_RE) ?? [];
  if (blocks.length === 0) return { ok: false, message: 'holds no PEM certificate' };
  const certs: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      certs.push(new X509Certificate(block));
    } catch (err) {
      return { ok: false, message: `holds a certificate that cannot be parsed (${(err as Error).message})` };
    }
  }
  return { ok: true, certs, pem: `${blocks.join('\n')}\n` };
}

function secretData(state: TranslatorState, namespace: string, name: string): { type: string; data: Record<string, string> } | undefined {
  const record = state.secrets.get(objectKey(namespace, name));
  if (!record?.parsed.ok) return undefined;
  const { type, data, stringData } = record.parsed.value;
  const decoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) decoded[k] = Buffer.from(v, 'base64').toString('utf8');
  return { type, data: { ...decoded, ...stringData } };
}

function checkRef(state: TranslatorState, from: Referrer, ref: ObjectRef, want: { group: string; kind: string }, invalidReason: string): Resolved<string> {
  const namespace = ref.namespace ?? from.namespace;
  if (ref.group !== want.group || ref.kind !== want.kind) {
    return { ok: false, reason: invalidReason, message: `${ref.group || 'core'}/${ref.kind} ${ref.name} is not supported; only ${want.group || 'core'}/${want.kind} is` };
  }
  if (namespace !== from.namespace && !referenceGrantedTo(state, from, { ...want, namespace, name: ref.name })) {
    return { ok: false, reason: 'RefNotPermitted', message: `no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to refer to ${want.kind} ${namespace}/${ref.name}` };
  }
  return { ok: true, value: namespace };
}

/**
 * A kubernetes.io/tls Secret as a certificate: tls.crt must hold PEM certificates, tls.key a private
 * key matching the first of them. `invalidReason` is the Gateway API reason for a bad reference
 * (InvalidCertificateRef for listeners, InvalidClientCertificateRef for spec.tls.backend).
 */
export function resolveCertificate(state: TranslatorState, from: Referrer, ref: ObjectRef, invalidReason: string): Resolved<CertificateIR> {
  const checked = checkRef(state, from, ref, { group: '', kind: 'Secret' }, invalidReason);
  if (!checked.ok) return checked;
  const namespace = checked.value;
  const what = `Secret ${namespace}/${ref.name}`;
  const secret = secretData(state, namespace, ref.name);
  if (!secret) return { ok: false, reason: invalidReason, message: `${what} not found` };
  if (secret.type !== 'kubernetes.io/tls') return { ok: false, reason: invalidReason, message: `${what} is of type ${secret.type}, not kubernetes.io/tls` };
  const chain = parseCertificates(secret.data['tls.crt']);
  if (!chain.ok) return { ok: false, reason: invalidReason, message: `${what}: tls.crt ${chain.message}` };
  const keyText = secret.data['tls.key'] ?? '';
  let key;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    return { ok: false, reason: invalidReason, message: `${what}: tls.key holds no usable private key (${(err as Error).message})` };
  }
  if (!chain.certs[0].checkPrivateKey(key)) return { ok: false, reason: invalidReason, message: `${what}: tls.key does not match the certificate in tls.crt` };
  return { ok: true, value: { name: secretResourceName(namespace, ref.name), certificateChain: chain.pem, privateKey: keyText } };
}

/**
 * CA certificates from ConfigMaps (key ca.crt). Refs that cannot be used are reported in `problems`
 * (first one first); the bundle holds the usable ones, and is absent when there is none.
 */
export function resolveCaBundle(
  state: TranslatorState, from: Referrer, refs: ObjectRef[],
): { bundle?: CaBundleIR; problems: Array<{ reason: string; message: string }> } {
  const names: string[] = [];
  const pems: string[] = [];
  const problems: Array<{ reason: string; message: string }> = [];
  for (const ref of refs) {
    const checked = checkRef(state, from, ref, { group: '', kind: 'ConfigMap' }, 'InvalidCACertificateRef');
    if (!checked.ok) {
      problems.push(checked);
      continue;
    }
    const namespace = checked.value;
    const what = `ConfigMap ${namespace}/${ref.name}`;
    const record = state.configMaps.get(objectKey(namespace, ref.name));
    if (!record?.parsed.ok) {
      problems.push({ reason: 'InvalidCACertificateRef', message: `${what} not found` });
      continue;
    }
    const certs = parseCertificates(record.parsed.value.data['ca.crt']);
    if (!certs.ok) {
      problems.push({ reason: 'InvalidCACertificateRef', message: `${what}: ca.crt ${certs.message}` });
      continue;
    }
    names.push(`${namespace}/${ref.name}`);
    pems.push(certs.pem);
  }
  const bundle = names.length > 0 ? { name: `ca/${names.join(',')}`, pem: pems.join('') } : undefined;
  return { bundle, problems };
}

export const GATEWAY_REFERRER = (namespace: string): Referrer => ({ group: GATEWAY_GROUP, kind: 'Gateway', namespace });
