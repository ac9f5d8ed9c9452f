// BackendTLSPolicy: TLS from the Gateway to a Service's pods. Policies are resolved once for all
// Gateways: which Service ports each one targets, which wins where two target the same thing (the
// oldest, then by namespace/name; a policy naming a sectionName beats one that does not), and what
// its CA references hold. A Gateway then puts an UpstreamTlsContext on the clusters of those ports;
// a port whose winning policy has no usable CA gets no endpoints, so traffic fails rather than go
// out unverified. Status: one ancestor per Gateway whose snapshot uses a targeted port. A policy no
// Gateway of ours uses gets no report at all, so the service deletes the one it published before
// (cleared, rather than left naming Gateways that no longer use it). TLS passthrough never uses a
// policy's cluster (tls.ts: the "/passthrough" cluster), so it counts as no use.
import type { GatewaySnapshot, StatusReport } from './api.ts';
import { objectKey, type ObjectIdentity, type ObjectRecord, type TranslatorState } from './index-state.ts';
import { serviceClusterName } from './names.ts';
import { GATEWAY_GROUP } from './objects.ts';
import { resolveCaBundle, type CertificateIR } from './secrets.ts';
import { notOk, ok, report, stampFor, type Verdict } from './status.ts';
import type { BackendTLSPolicy } from './tls-objects.ts';
import { certificateSecret, upstreamTransportSocket, type UpstreamTlsIR } from './envoy/tls.ts';

export interface PolicyModel {
  id: ObjectIdentity;
  accepted: Verdict;
  resolvedRefs: Verdict;
  /** Cluster names of the Service ports it targets (whether or not it won them). */
  targets: string[];
  /** What it puts on the clusters it won; absent when it has no usable CA. */
  upstream?: Omit<UpstreamTlsIR, 'clientCertificate'>;
}

export interface BackendTlsIndex {
  policies: PolicyModel[];
  /** Per cluster name, the policy applied to it. */
  byCluster: Map<string, PolicyModel>;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function validate(state: TranslatorState, record: ObjectRecord<BackendTLSPolicy>, policy: BackendTLSPolicy): Pick<PolicyModel, 'accepted' | 'resolvedRefs' | 'upstream'> {
  const { validation } = policy.spec;
  const from = { group: GATEWAY_GROUP, kind: 'BackendTLSPolicy', namespace: record.id.namespace };
  const sans = validation.subjectAltNames.length > 0
    ? validation.subjectAltNames.map((s) => (s.type === 'URI' ? { type: 'URI' as const, value: s.uri ?? '' } : { type: 'DNS' as const, value: s.hostname ?? '' }))
    : [{ type: 'DNS' as const, value: validation.hostname }];
  const upstream = (trustedCa: UpstreamTlsIR['trustedCa']) => ({ sni: validation.hostname, trustedCa, subjectAltNames: sans });
  if (validation.wellKnownCACertificates !== undefined) {
    if (validation.wellKnownCACertificates !== 'System') {
      return { accepted: notOk('Invalid', `wellKnownCACertificates ${validation.wellKnownCACertificates} is not supported; supported: System`), resolvedRefs: ok('ResolvedRefs') };
    }
    return { accepted: ok('Accepted'), resolvedRefs: ok('ResolvedRefs'), upstream: upstream({ system: true }) };
  }
  const refs = validation.caCertificateRefs.map((r) => ({ ...r, namespace: undefined }));
  const { bundle, problems } = resolveCaBundle(state, from, refs);
  const badKind = refs.some((r) => r.group !== '' || r.kind !== 'ConfigMap');
  const resolvedRefs = problems.length === 0 ? ok('ResolvedRefs') : notOk(badKind ? 'InvalidKind' : 'InvalidCACertificateRef', problems[0].message);
  if (!bundle) {
    return { accepted: notOk('NoValidCACertificate', problems[0]?.message ?? 'neither caCertificateRefs nor wellKnownCACertificates is set'), resolvedRefs };
  }
  return { accepted: ok('Accepted'), resolvedRefs, upstream: upstream({ pem: bundle.pem }) };
}

export function backendTlsIndex(state: TranslatorState): BackendTlsIndex {
  const records = [...state.backendTLSPolicies.values()]
    .filter((r) => r.parsed.ok)
    .map((r) => ({ record: r, policy: (r.parsed as { ok: true; value: BackendTLSPolicy }).value }))
    .sort((a, b) => cmp(a.policy.metadata.creationTimestamp ?? '', b.policy.metadata.creationTimestamp ?? '')
      || cmp(objectKey(a.record.id.namespace, a.record.id.name), objectKey(b.record.id.namespace, b.record.id.name)));
  // The winner per "<ns>/<service>/<sectionName or empty>": the first in age order.
  const winners = new Map<string, PolicyModel>();
  const policies: PolicyModel[] = [];
  const portsOf: Array<{ model: PolicyModel; service: string; ports: Array<{ port: number; name: string }> }> = [];
  for (const { record, policy } of records) {
    const model: PolicyModel = { id: record.id, ...validate(state, record, policy), targets: [] };
    let conflicted = false;
    for (const ref of policy.spec.targetRefs) {
      if (ref.group !== '' || ref.kind !== 'Service') continue;
      const service = objectKey(record.id.namespace, ref.name);
      const targetKey = `${service}/${ref.sectionName ?? ''}`;
      const winner = winners.get(targetKey);
      if (winner) conflicted = true;
      else winners.set(targetKey, model);
      const ports = [...(state.services.get(service)?.ports.values() ?? [])].filter((p) => ref.sectionName === undefined || p.name === ref.sectionName);
      model.targets.push(...ports.map((p) => serviceClusterName(record.id.namespace, ref.name, p.port)));
      if (!winner) portsOf.push({ model, service, ports: ports.map((p) => ({ port: p.port, name: p.name })) });
    }
    if (conflicted) model.accepted = notOk('Conflicted', 'another BackendTLSPolicy, older (or first by namespace/name), targets the same Service and sectionName');
    policies.push(model);
  }
  // A policy for a named port beats one for the whole Service.
  const byCluster = new Map<string, PolicyModel>();
  for (const { model, service, ports } of portsOf) {
    if (model.accepted.reason === 'Conflicted') continue;
    const [namespace, name] = service.split('/');
    for (const p of ports) {
      const cluster = serviceClusterName(namespace, name, p.port);
      const sectioned = winners.get(`${service}/${p.name}`);
      if (sectioned && sectioned !== model && sectioned.accepted.reason !== 'Conflicted') continue;
      byCluster.set(cluster, model);
    }
  }
  return { policies, byCluster };
}

/**
 * The snapshot with backend TLS applied: UpstreamTlsContext on the clusters a policy won (with the
 * Gateway's client certificate, when it has one), no endpoints for those whose policy is invalid.
 */
export function applyBackendTls(snapshot: GatewaySnapshot, index: BackendTlsIndex, clientCertificate?: CertificateIR): GatewaySnapshot {
  let usesClientCertificate = false;
  const broken = new Set<string>();
  const clusters = snapshot.clusters.map((cluster) => {
    const policy = index.byCluster.get(cluster.name ?? '');
    if (!policy) return cluster;
    if (!policy.upstream || policy.accepted.status === 'False') {
      broken.add(cluster.name!);
      return cluster;
    }
    if (clientCertificate) usesClientCertificate = true;
    return { ...cluster, transport_socket: upstreamTransportSocket({ ...policy.upstream, clientCertificate: clientCertificate?.name }) };
  });
  if (clusters.every((c, i) => c === snapshot.clusters[i]) && broken.size === 0) return snapshot;
  const endpoints = snapshot.endpoints.map((e) => (broken.has(e.cluster_name ?? '') ? { cluster_name: e.cluster_name, endpoints: [] } : e));
  const secrets = usesClientCertificate && !snapshot.secrets.some((s) => s.name === clientCertificate!.name)
    ? [...snapshot.secrets, certificateSecret(clientCertificate!)]
    : snapshot.secrets;
  return { ...snapshot, clusters, endpoints, secrets };
}

/** One report per policy that some Gateway of ours uses, with that Gateway as an ancestor. */
export function backendTlsReports(index: BackendTlsIndex, snapshots: Map<string, GatewaySnapshot>, controllerName: string, now: string): StatusReport[] {
  if (index.policies.length === 0) return []; // spares indexing every snapshot's clusters
  const clustersOf = new Map([...snapshots].map(([key, snap]) => [key, new Set(snap.clusters.map((c) => c.name ?? ''))]));
  const reports: StatusReport[] = [];
  for (const policy of index.policies) {
    const gateways = [...clustersOf].filter(([, names]) => policy.targets.some((t) => names.has(t))).map(([key]) => key).sort(cmp);
    if (gateways.length === 0) continue;
    const stamp = stampFor(policy.id.generation, now);
    const ancestors = gateways.map((key) => {
      const [namespace, name] = key.split('/');
      return {
        ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name },
        controllerName,
        conditions: [stamp('Accepted', policy.accepted), stamp('ResolvedRefs', policy.resolvedRefs)],
      };
    });
    reports.push(report(policy.id, { ancestors }, gateways));
  }
  return reports;
}
