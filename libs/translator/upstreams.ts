// Upstreams (gateway.gantry.dev, upstream-objects.ts) as backends. An Upstream is judged on its own,
// whichever route refers to it: its spec, its TLS references (a ConfigMap's ca.crt, a
// kubernetes.io/tls Secret, both in its namespace) and, for a Kube Upstream pointing into another
// namespace, a ReferenceGrant there from Upstreams (without one, an Upstream would let a route reach
// a Service its own ReferenceGrants do not allow). Accepted=False (Invalid, InvalidCACertificateRef,
// InvalidClientCertificateRef, RefNotPermitted) makes every backendRef to it unresolved.
//
// Its cluster is "upstream/<ns>/<name>" (names.ts), distinct from the Service's "k8s/…" cluster even
// for a Kube Upstream: the Upstream's protocol, TLS and connect timeout are the cluster's, and must
// reach neither the routes that name the Service itself nor another Upstream of the same Service.
// A Kube Upstream's endpoints are the Service port's, the same list a Service backendRef gets.
import { isIP } from 'node:net';
import type { StatusReport } from './api.ts';
import { objectKey, type ObjectIdentity, type ObjectRecord, type ServicePortState, type TranslatorState } from './index-state.ts';
import type { ClusterIR, ClusterTlsIR, StaticHostIR } from './ir.ts';
import { upstreamClusterName } from './names.ts';
import { referenceGrantedTo, resolveCaBundle, resolveCertificate, type Referrer, type Resolved } from './secrets.ts';
import { notOk, ok, report, stampFor, type Verdict } from './status.ts';
import { durationMs } from './filter-objects.ts';
import { GANTRY_GROUP, type Upstream, type UpstreamTls } from './upstream-objects.ts';

/** What a backendRef to an Accepted Upstream gets. */
export interface UpstreamBackend {
  protocol: Upstream['spec']['protocol'];
  /** Static: the hosts. */
  hosts?: StaticHostIR[];
  /** Kube: the Service port whose endpoints it takes. */
  service?: { namespace: string; name: string; port: number };
  connectTimeoutMs?: number;
  tls?: ClusterTlsIR;
}

export interface UpstreamModel {
  id: ObjectIdentity;
  accepted: Verdict;
  /** Absent when it is not Accepted. */
  backend?: UpstreamBackend;
}

const URI_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** A subjectAltNames entry is a URI SAN when it has a scheme ("spiffe://…"), an IP SAN when it is an IP, else a DNS SAN. */
function sanMatcher(value: string): ClusterTlsIR['subjectAltNames'][number] {
  return { type: URI_RE.test(value) ? 'URI' : isIP(value) !== 0 ? 'IP_ADDRESS' : 'DNS', value };
}

function upstreamTls(state: TranslatorState, from: Referrer, tls: UpstreamTls): Resolved<ClusterTlsIR> {
  let trustedCa: ClusterTlsIR['trustedCa'] = { system: true };
  if (tls.caCertificateRef) {
    const { bundle, problems } = resolveCaBundle(state, from, [{ group: '', kind: 'ConfigMap', name: tls.caCertificateRef.name }]);
    if (!bundle) return { ok: false, ...problems[0] };
    trustedCa = { pem: bundle.pem };
  }
  let clientCertificate;
  if (tls.clientCertificateRef) {
    const cert = resolveCertificate(state, from, { group: '', kind: 'Secret', name: tls.clientCertificateRef.name }, 'InvalidClientCertificateRef');
    if (!cert.ok) return cert;
    clientCertificate = cert.value;
  }
  // Without subjectAltNames the SNI is the name the certificate must carry, as Envoy's
  // auto_sni_san_validation would do; with neither, only the chain is verified.
  const sans = tls.subjectAltNames.length > 0 ? tls.subjectAltNames : tls.sni ? [tls.sni] : [];
  return {
    ok: true,
    value: { ...(tls.sni ? { sni: tls.sni } : {}), trustedCa, subjectAltNames: sans.map(sanMatcher), ...(clientCertificate ? { clientCertificate } : {}) },
  };
}

function judge(state: TranslatorState, record: ObjectRecord<Upstream>): UpstreamModel {
  const { id } = record;
  if (!record.parsed.ok) return { id, accepted: notOk('Invalid', record.parsed.message) };
  const { spec } = record.parsed.value;
  const from: Referrer = { group: GANTRY_GROUP, kind: 'Upstream', namespace: id.namespace };
  const backend: UpstreamBackend = { protocol: spec.protocol };
  if (spec.static) backend.hosts = spec.static.hosts;
  if (spec.kube) {
    const namespace = spec.kube.serviceNamespace ?? id.namespace;
    const name = spec.kube.serviceName;
    if (namespace !== id.namespace && !referenceGrantedTo(state, from, { group: '', kind: 'Service', namespace, name })) {
      return { id, accepted: notOk('RefNotPermitted', `no ReferenceGrant in ${namespace} allows Upstreams from ${id.namespace} to refer to Service ${namespace}/${name}`) };
    }
    backend.service = { namespace, name, port: spec.kube.servicePort };
  }
  if (spec.connectTimeout !== undefined) backend.connectTimeoutMs = durationMs(spec.connectTimeout);
  if (spec.tls) {
    const tls = upstreamTls(state, from, spec.tls);
    if (!tls.ok) return { id, accepted: notOk(tls.reason, `spec.tls: ${tls.message}`) };
    backend.tls = tls.value;
  }
  return { id, accepted: ok('Accepted'), backend };
}

/** What judge() reads besides the record: the objects its references name, compared by identity. */
function inputsOf(state: TranslatorState, record: ObjectRecord<Upstream>): unknown[] {
  if (!record.parsed.ok) return [];
  const { spec } = record.parsed.value;
  const ns = record.id.namespace;
  const serviceNamespace = spec.kube?.serviceNamespace;
  return [
    spec.tls?.caCertificateRef && state.configMaps.get(objectKey(ns, spec.tls.caCertificateRef.name)),
    spec.tls?.clientCertificateRef && state.secrets.get(objectKey(ns, spec.tls.clientCertificateRef.name)),
    serviceNamespace && serviceNamespace !== ns ? state.referenceGrants.get(serviceNamespace) : undefined,
  ];
}

/**
 * Judged once per record and inputs (certificates are parsed with node:crypto: not once per
 * backendRef), and kept with its identity while they are unchanged, so its report and clusters are too.
 */
const models = new WeakMap<ObjectRecord<Upstream>, { inputs: unknown[]; model: UpstreamModel }>();

export function upstreamModel(state: TranslatorState, record: ObjectRecord<Upstream>): UpstreamModel {
  const inputs = inputsOf(state, record);
  const known = models.get(record);
  if (known && known.inputs.length === inputs.length && known.inputs.every((x, i) => x === inputs[i])) return known.model;
  const model = judge(state, record);
  models.set(record, { inputs, model });
  return model;
}

/**
 * `keys` ("<namespace>/<name>" a route's backendRefs name) with the Service each Kube Upstream among
 * them points at: what the route's resolution reads, for incremental translation (index.ts).
 */
export function withUpstreamTargets(state: TranslatorState, keys: string[]): string[] {
  let out: Set<string> | undefined;
  for (const key of keys) {
    const record = state.upstreams.get(key);
    const kube = record?.parsed.ok ? record.parsed.value.spec.kube : undefined;
    if (kube) (out ??= new Set(keys)).add(objectKey(kube.serviceNamespace ?? record!.id.namespace, kube.serviceName));
  }
  return out ? [...out].sort() : keys;
}

/** One object per Upstream model, protocol and (Kube) Service port state, however many routes name it. */
const clusters = new WeakMap<UpstreamModel, { port?: ServicePortState; http1?: ClusterIR; http2?: ClusterIR }>();

/** The cluster of an Accepted Upstream; `port` is the Service port of a Kube Upstream. */
export function upstreamCluster(model: UpstreamModel, backend: UpstreamBackend, http2: boolean, port?: ServicePortState): ClusterIR {
  let known = clusters.get(model);
  if (!known || known.port !== port) clusters.set(model, (known = { port }));
  const slot = http2 ? 'http2' : 'http1';
  return (known[slot] ??= {
    name: upstreamClusterName(model.id.namespace, model.id.name),
    http2,
    endpoints: port?.endpoints ?? [],
    ...(backend.hosts ? { hosts: backend.hosts } : {}),
    ...(backend.connectTimeoutMs !== undefined ? { connectTimeoutMs: backend.connectTimeoutMs } : {}),
    ...(backend.tls ? { tls: backend.tls } : {}),
  });
}

/**
 * One report per Upstream: Accepted, whether or not a route uses it (it depends on no Gateway).
 * `reports` keeps each model's report from the translation that first judged it (a Translator's
 * own, like its route reports), so an unchanged Upstream keeps its report and its time stamp.
 */
export function upstreamReports(state: TranslatorState, now: string, reports: WeakMap<UpstreamModel, StatusReport>): StatusReport[] {
  const out: StatusReport[] = [];
  for (const record of state.upstreams.values()) {
    const model = upstreamModel(state, record);
    let r = reports.get(model);
    if (!r) reports.set(model, (r = report(model.id, { conditions: [stampFor(model.id.generation, now)('Accepted', model.accepted)] }, [])));
    out.push(r);
  }
  return out;
}
