// A synthetic world for scale benchmarks and incremental-translation tests: one GatewayClass,
// 100 Gateways (one HTTP listener each), 5 Services per Gateway's namespace, and N HTTPRoutes
// spread round-robin over the Gateways.
import type { ServiceEndpoints, StoredObject, TranslatorInput } from '../../libs/translator/api.ts';

export const GATEWAYS = 100;
export const OPTIONS = { controllerName: 'gantry.dev/gateway-controller', defaultAddress: '127.0.0.1', now: '2026-01-01T00:00:00Z' };

export function stored(object: StoredObject['object']): StoredObject {
  return { object, origin: { cluster: 'local' } };
}

export function world(routes: number): TranslatorInput {
  const objects: StoredObject[] = [stored({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'gantry' },
    spec: { controllerName: OPTIONS.controllerName },
  })];
  const services: ServiceEndpoints[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    const ns = `team-${g}`;
    objects.push(stored({
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: ns },
      spec: { gatewayClassName: 'gantry', listeners: [{ name: 'http', protocol: 'HTTP', port: 8080 }] },
    }));
    for (let s = 0; s < 5; s++) {
      services.push({
        cluster: 'local', namespace: ns, name: `svc-${s}`, serviceType: 'ClusterIP',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', endpoints: [1, 2, 3].map((i) => ({ address: `10.${g}.${s}.${i}`, port: 8080, ready: true, serving: true, terminating: false, zone: 'a' })) }],
      });
    }
  }
  for (let r = 0; r < routes; r++) objects.push(stored(route(r, 0)));
  return { objects, services };
}

export function route(r: number, edit: number): StoredObject['object'] {
  const ns = `team-${r % GATEWAYS}`;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute',
    metadata: { name: `route-${r}`, namespace: ns, generation: edit + 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: [`r${r}.example.com`],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: `/api/v${edit}` }, headers: [{ name: 'x-team', value: ns }] }], backendRefs: [{ name: 'svc-0', port: 80, weight: 80 }, { name: 'svc-1', port: 80, weight: 20 }] },
        { matches: [{ path: { type: 'Exact', value: '/health' } }], backendRefs: [{ name: `svc-${r % 5}`, port: 80 }] },
      ],
    },
  };
}

