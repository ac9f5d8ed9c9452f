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
