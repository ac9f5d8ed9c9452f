// deploy/ renders with `kubectl kustomize` (kubectl is on these machines; no cluster is needed to
// render) and installs what it says: the standard channel by default, the experimental on request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from './render.ts';

const crdKinds = (docs: readonly Record<string, any>[]) =>
  docs.filter((d) => d.kind === 'CustomResourceDefinition').map((d) => d.spec.names.kind).sort();

test('the default install has the standard channel CRDs and Gantry\'s GatewayClass', () => {
  const docs = render('deploy');
  const kinds = crdKinds(docs);
  // In v1.6 the L4 routes and ListenerSet are standard; the X* kinds are experimental only.
  for (const k of ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'BackendTLSPolicy', 'TCPRoute', 'UDPRoute', 'TLSRoute', 'ListenerSet']) {
    assert.ok(kinds.includes(k), k);
  }
  assert.ok(!kinds.includes('XBackendTrafficPolicy'), 'XBackendTrafficPolicy is experimental');
  const gc = docs.find((d) => d.kind === 'GatewayClass');
  assert.equal(gc?.spec.controllerName, 'gantry.dev/gateway-controller');
});

test('the experimental overlay swaps in the experimental channel CRDs', () => {
  const kinds = crdKinds(render('deploy/overlays/experimental'));
  for (const k of ['XBackendTrafficPolicy', 'XMesh', 'TCPRoute', 'HTTPRoute']) assert.ok(kinds.includes(k), k);
  assert.equal(new Set(kinds).size, kinds.length, 'no CRD twice');
  const docs = render('deploy/overlays/experimental');
  const httpRoute = docs.find((d) => d.kind === 'CustomResourceDefinition' && d.spec.names.kind === 'HTTPRoute');
  assert.match(JSON.stringify(httpRoute), /"retry"/, 'experimental HTTPRoute fields (retry) are there');
});
