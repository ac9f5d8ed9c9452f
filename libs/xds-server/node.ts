// Which Gateway a proxy belongs to. Convention (also in the Envoy bootstrap under deploy/): the xDS
// node's `cluster` field is `<namespace>/<gateway-name>`, and `id` names the proxy instance.
import type { Node__Output } from '../../protos/generated/envoy/config/core/v3/Node';

export const NODE_CLUSTER_FORM = '<namespace>/<gateway-name>';

export interface ProxyIdentity {
  /** The Gateway's snapshot key, "<namespace>/<name>". */
  gateway: string;
  /** The proxy instance (node.id); empty when the client sent none. */
  nodeId: string;
}

export type ParsedNode = { ok: true; value: ProxyIdentity } | { ok: false; error: string };

// DNS-1123 label (namespace) and subdomain (Gateway name), as Kubernetes validates them.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseNode(node: Pick<Node__Output, 'id' | 'cluster'> | null | undefined): ParsedNode {
  const cluster = node?.cluster ?? '';
  const expected = `node.cluster must be "${NODE_CLUSTER_FORM}" (the Gateway this proxy serves)`;
  if (!node) return { ok: false, error: `the first request has no node; ${expected}` };
  if (cluster === '') return { ok: false, error: `node.cluster is empty; ${expected}` };
  const parts = cluster.split('/');
  if (parts.length !== 2) return { ok: false, error: `node.cluster "${cluster}" is malformed; ${expected}` };
  const [namespace, name] = parts;
  if (!NAMESPACE.test(namespace) || namespace.length > 63) {
    return { ok: false, error: `node.cluster "${cluster}": "${namespace}" is not a valid namespace; ${expected}` };
  }
  if (!NAME.test(name) || name.length > 253) {
    return { ok: false, error: `node.cluster "${cluster}": "${name}" is not a valid Gateway name; ${expected}` };
  }
  return { ok: true, value: { gateway: cluster, nodeId: node.id ?? '' } };
}

// --- proxy authentication (mTLS) ---------------------------------------------------------------
// With client certificates required, a proxy proves which Gateway it serves with a SPIFFE URI SAN,
// `spiffe://<trust-domain>/ns/<namespace>/gateway/<name>`, the form Istio and cert-manager's SPIFFE
// issuers give workloads; it must name the Gateway its node.cluster names.

export const SPIFFE_FORM = 'spiffe://<trust-domain>/ns/<namespace>/gateway/<name>';

/** The URI SANs of Node's `subjectaltname` ("DNS:a, URI:spiffe://…"; values with `,` or `"` are JSON-quoted). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  const re = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of subjectAltName.matchAll(re)) {
    const v = m[1];
    try {
      out.push(v.startsWith('"') ? (JSON.parse(v) as string) : v);
    } catch {
      // not a value we can read: no identity from it
    }
  }
  return out;
}

/** The Gateways ("<namespace>/<name>") a certificate's SPIFFE IDs name, in `trustDomain` when one is given. */
export function spiffeGateways(subjectAltName: string | undefined, trustDomain?: string): string[] {
  const out: string[] = [];
  for (const uri of uriSans(subjectAltName)) {
    const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/gateway\/([^/]+)$/.exec(uri);
    if (!m || (trustDomain !== undefined && m[1] !== trustDomain)) continue;
    out.push(`${m[2]}/${m[3]}`);
  }
  return out;
}

/**
 * Whether a client certificate (its `subjectaltname`, undefined when the peer sent none) may serve
 * `gateway`: undefined when it may, else the reason (for PERMISSION_DENIED).
 */
export function checkProxyIdentity(subjectAltName: string | undefined, gateway: string, trustDomain?: string): string | undefined {
  const named = spiffeGateways(subjectAltName, trustDomain);
  if (named.includes(gateway)) return undefined;
  const domain = trustDomain ? ` in trust domain ${trustDomain}` : '';
  if (named.length === 0) {
    return `the client certificate has no SPIFFE ID ${SPIFFE_FORM}${domain}; node.cluster names Gateway ${gateway}`;
  }
  return `the client certificate is for Gateway ${named.join(', ')}, not ${gateway} (node.cluster)`;
}
