// Builders for translator inputs, and helpers to look into its output. Tests state their scenario
// with these; nothing here decides an expectation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject, ServiceEndpoints, StatusReport, StoredObject, TranslateResult, TranslatorInput } from '../../../libs/translator/api.ts';
import { translate } from '../../../libs/translator/index.ts';
import { decode, encode } from '../../../libs/xds/encode.ts';
import type { Any } from '../../../libs/xds/types.ts';
import type { GatewaySnapshot } from '../../../libs/translator/api.ts';
import { KIT_DIR } from '../../conformance/cases.ts';

export const CONTROLLER = 'gantry.dev/gateway-controller';
export const CLASS = 'gantry';
export const NOW = '2025-01-02T03:04:05.000Z';
export const GW_API = 'gateway.networking.k8s.io/v1';
export const CONFORMANCE = join(KIT_DIR, 'conformance');

export function stored(object: KubeObject | Record<string, unknown>, cluster = 'local'): StoredObject {
  return { object: object as KubeObject, origin: { cluster } };
}

/** Every document of a conformance manifest file, with the class placeholder filled in. */
export function conformanceObjects(relativePath: string): KubeObject[] {
  const text = readFileSync(`${CONFORMANCE}/${relativePath}`, 'utf8').replaceAll('{GATEWAY_CLASS_NAME}', CLASS);
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o !== null);
}

export function gatewayClass(name = CLASS, controllerName = CONTROLLER): KubeObject {
  return { apiVersion: GW_API, kind: 'GatewayClass', metadata: { name, generation: 1 }, spec: { controllerName } };
}

export function gateway(name: string, listeners: unknown[], extra: { namespace?: string; className?: string; addresses?: unknown[]; generation?: number } = {}): KubeObject {
  return {
    apiVersion: GW_API, kind: 'Gateway',
    metadata: { name, namespace: extra.namespace ?? 'default', generation: extra.generation ?? 1 },
    spec: { gatewayClassName: extra.className ?? CLASS, listeners, ...(extra.addresses ? { addresses: extra.addresses } : {}) },
  };
}

export function httpListener(name: string, port = 80, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, port, protocol: 'HTTP', ...more };
}

export function route(kind: 'HTTPRoute' | 'GRPCRoute', name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: GW_API, kind, metadata: { name, namespace: 'default', generation: 1, ...metadata }, spec };
}

export const httpRoute = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => route('HTTPRoute', name, spec, metadata);
export const grpcRoute = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => route('GRPCRoute', name, spec, metadata);

export interface EndpointSpec { address: string; port?: number; zone?: string; ready?: boolean }

export function service(
  namespace: string, name: string,
  ports: Array<{ port: number; name?: string; appProtocol?: string; targetPort?: number; endpoints?: EndpointSpec[] }>,
  cluster = 'local',
): ServiceEndpoints {
  return {
    cluster, namespace, name, serviceType: 'ClusterIP',
    ports: ports.map((p) => ({
      name: p.name ?? '', port: p.port, protocol: 'TCP', appProtocol: p.appProtocol,
      endpoints: (p.endpoints ?? [{ address: '10.0.0.1' }]).map((e) => ({
        address: e.address, port: e.port ?? p.targetPort ?? p.port, ready: e.ready ?? true, serving: true, terminating: false, zone: e.zone,
      })),
    })),
  };
}

export function run(objects: Array<KubeObject | StoredObject>, services: ServiceEndpoints[] = [], now: string | null = NOW): TranslateResult {
  const input: TranslatorInput = {
    objects: objects.map((o) => ('origin' in o && 'object' in o ? (o as StoredObject) : stored(o as KubeObject))),
    services,
  };
  const result = translate(input, { controllerName: CONTROLLER, defaultAddress: '192.0.2.10', now: now ?? undefined });
  produced.push(...result.snapshots.values());
  return result;
}

export function reportOf(result: TranslateResult, kind: string, name: string, namespace = 'default'): StatusReport | undefined {
  return result.reports.find((r) => r.kind === kind && r.name === name && r.namespace === (kind === 'GatewayClass' ? '' : namespace));
}

export interface Cond { type: string; status: string; reason: string; message: string; observedGeneration: number; lastTransitionTime: string }

export function condition(conditions: unknown, type: string): Cond | undefined {
  return (conditions as Cond[]).find((c) => c.type === type);
}

/** The parent status of a route towards one Gateway. */
export function routeParent(result: TranslateResult, kind: string, name: string, gatewayName: string, namespace = 'default') {
  const parents = (reportOf(result, kind, name, namespace)?.status.parents ?? []) as Array<{ parentRef: { name: string; sectionName?: string }; conditions: Cond[]; controllerName: string }>;
  return parents.find((p) => p.parentRef.name === gatewayName);
}

/** Every resource of the snapshot, encoded; throws on any field Envoy's protos do not have. */
export function encodeSnapshot(s: GatewaySnapshot): Buffer[] {
  return [
    ...s.listeners.map((m) => encode('envoy.config.listener.v3.Listener', m)),
    ...s.routes.map((m) => encode('envoy.config.route.v3.RouteConfiguration', m)),
    ...s.grpcRoutes.map((m) => encode('envoy.config.route.v3.RouteConfiguration', m)),
    ...s.clusters.map((m) => encode('envoy.config.cluster.v3.Cluster', m)),
    ...s.endpoints.map((m) => encode('envoy.config.endpoint.v3.ClusterLoadAssignment', m)),
    ...s.secrets.map((m) => encode('envoy.extensions.transport_sockets.tls.v3.Secret', m)),
    ...s.apiListeners.map((a) => encode('envoy.config.listener.v3.Listener', a.template)),
  ];
}

/** Every snapshot produced through run() in this process (one test file), for encodeEverySnapshot(). */
const produced: GatewaySnapshot[] = [];

/** Encodes every resource of every snapshot the file produced so far; the count of resources. */
export function encodeEverySnapshot(): number {
  return produced.reduce((n, s) => n + encodeSnapshot(s).length, 0);
}

/** The message inside an Any built with pack(), decoded (oneof discriminators included). */
export function unpack(typeName: string, any: Any | null | undefined): Record<string, any> {
  assert.ok(any && 'value' in any && any.value instanceof Uint8Array, `expected a packed ${typeName}`);
  return decode(typeName, any.value);
}
