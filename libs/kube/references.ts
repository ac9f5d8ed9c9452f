// Which Secrets and ConfigMaps the watcher may publish (pure): only those a Gateway, ListenerSet,
// BackendTLSPolicy or Upstream refers to, so the event log never holds a cluster's other secrets. Refs across
// namespaces are included; whether a ReferenceGrant allows them is the translator's judgement.
type Obj = Record<string, any>;

/** "<Kind>/<namespace>/<name>" of each core Secret or ConfigMap `object` (of `kind`) refers to. */
export function secretReferences(kind: string, object: Obj): string[] {
  const ns: string = object?.metadata?.namespace ?? '';
  const out: string[] = [];
  const add = (ref: Obj | undefined, defaultKind: string) => {
    if (!ref || typeof ref.name !== 'string') return;
    const group = ref.group ?? '';
    const refKind = ref.kind ?? defaultKind;
    if (group !== '' || (refKind !== 'Secret' && refKind !== 'ConfigMap')) return;
    out.push(`${refKind}/${typeof ref.namespace === 'string' && ref.namespace ? ref.namespace : ns}/${ref.name}`);
  };
  const listeners = (list: unknown) => {
    for (const l of Array.isArray(list) ? list : []) for (const r of l?.tls?.certificateRefs ?? []) add(r, 'Secret');
  };
  const spec = object?.spec ?? {};
  switch (kind) {
    case 'Gateway': {
      listeners(spec.listeners);
      add(spec.tls?.backend?.clientCertificateRef, 'Secret');
      for (const r of spec.tls?.frontend?.default?.validation?.caCertificateRefs ?? []) add(r, 'ConfigMap');
      for (const p of spec.tls?.frontend?.perPort ?? []) for (const r of p?.tls?.validation?.caCertificateRefs ?? []) add(r, 'ConfigMap');
      break;
    }
    case 'ListenerSet':
    case 'XListenerSet':
      listeners(spec.listeners);
      break;
    case 'BackendTLSPolicy':
      // A policy's refs are local: no namespace field.
      for (const r of spec.validation?.caCertificateRefs ?? []) add({ ...r, namespace: undefined }, 'ConfigMap');
      break;
    case 'Upstream':
      // Local refs by name only: the kind is implied by the field.
      add(spec.tls?.caCertificateRef && { name: spec.tls.caCertificateRef.name }, 'ConfigMap');
      add(spec.tls?.clientCertificateRef && { name: spec.tls.clientCertificateRef.name }, 'Secret');
      break;
  }
  return out;
}

export const REFERRING_KINDS: ReadonlySet<string> = new Set(['Gateway', 'ListenerSet', 'XListenerSet', 'BackendTLSPolicy', 'Upstream']);
