// GatewayParameters (gateway.gantry.dev/v1alpha1): how the Envoy proxies of a Gateway are deployed.
// A GatewayClass's spec.parametersRef gives the defaults of its Gateways; a Gateway's
// spec.infrastructure.parametersRef (same namespace) overrides them field by field. The CRD
// (deploy/crds/gantry/gatewayparameters.yaml) validates the same shape on admission; this schema
// is what the reporter trusts, since file mode and a CRD installed without validation skip that.
import { z } from 'zod';

export { GANTRY_GROUP } from '../manifests/resources.ts';
export const PARAMETERS_KIND = 'GatewayParameters';
/**
 * The kinds the provisioner reads from the RESOURCES log, one ordered consumer each: the reporter's
 * NATS user may follow these kinds and no others (libs/eventlog/permissions.ts), so not Secrets.
 */
export const PROVISIONING_INPUT_KINDS = ['GatewayClass', PARAMETERS_KIND, 'Gateway', 'ListenerSet', 'XListenerSet'] as const;
export type ProvisioningInputKind = (typeof PROVISIONING_INPUT_KINDS)[number];

const stringMap = z.record(z.string(), z.string());
const quantityMap = z.record(z.string(), z.union([z.string(), z.number()]));

export const ServiceType = z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']);

export const ParametersSpec = z.object({
  service: z.object({
    type: ServiceType.optional(),
    annotations: stringMap.optional(),
    labels: stringMap.optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    loadBalancerClass: z.string().min(1).max(253).optional(),
    loadBalancerSourceRanges: z.array(z.string().min(1)).max(64).optional(),
  }).strict().optional(),
  deployment: z.object({
    replicas: z.number().int().min(0).max(1000).optional(),
    podLabels: stringMap.optional(),
    podAnnotations: stringMap.optional(),
    nodeSelector: stringMap.optional(),
    tolerations: z.array(z.record(z.string(), z.unknown())).max(64).optional(),
    resources: z.object({ requests: quantityMap.optional(), limits: quantityMap.optional() }).strict().optional(),
  }).strict().optional(),
  envoy: z.object({
    image: z.string().min(1).max(512).optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']).optional(),
    /** Envoy worker threads (--concurrency); unset: one per CPU Envoy sees. */
    concurrency: z.number().int().min(1).max(256).optional(),
  }).strict().optional(),
}).strict();
export type ParametersSpec = z.infer<typeof ParametersSpec>;

/** Every field resolved: what the objects are built from. */
export interface ResolvedParameters {
  service: { type: z.infer<typeof ServiceType>; annotations: Record<string, string>; labels: Record<string, string>;
    externalTrafficPolicy?: 'Cluster' | 'Local'; loadBalancerClass?: string; loadBalancerSourceRanges?: string[] };
  deployment: { replicas: number; podLabels: Record<string, string>; podAnnotations: Record<string, string>;
    nodeSelector?: Record<string, string>; tolerations?: Array<Record<string, unknown>>;
    resources: { requests?: Record<string, string | number>; limits?: Record<string, string | number> } };
  envoy: { image: string; logLevel: string; concurrency?: number };
}

export interface ParameterDefaults {
  envoyImage: string;
}

/** Parses a GatewayParameters object's spec: the spec, or a message saying what is wrong with it. */
export function parseParameters(object: unknown): { ok: true; spec: ParametersSpec } | { ok: false; message: string } {
  const spec = (object as { spec?: unknown } | null)?.spec ?? {};
  const parsed = ParametersSpec.safeParse(spec);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, message: parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ') };
}

/**
 * The class's parameters, then the Gateway's over them: scalars replace, maps merge key by key,
 * lists (tolerations, source ranges) replace whole (merging them has no meaning anyone can predict).
 */
export function resolveParameters(layers: ReadonlyArray<ParametersSpec | undefined>, defaults: ParameterDefaults): ResolvedParameters {
  const out: ResolvedParameters = {
    service: { type: 'LoadBalancer', annotations: {}, labels: {} },
    deployment: { replicas: 1, podLabels: {}, podAnnotations: {}, resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } } },
    envoy: { image: defaults.envoyImage, logLevel: 'info' },
  };
  for (const layer of layers) {
    if (!layer) continue;
    const { service: s, deployment: d, envoy: e } = layer;
    if (s) {
      out.service = {
        ...out.service, ...definedOnly({ type: s.type, externalTrafficPolicy: s.externalTrafficPolicy, loadBalancerClass: s.loadBalancerClass, loadBalancerSourceRanges: s.loadBalancerSourceRanges }),
        annotations: { ...out.service.annotations, ...s.annotations }, labels: { ...out.service.labels, ...s.labels },
      };
    }
    if (d) {
      out.deployment = {
        ...out.deployment, ...definedOnly({ replicas: d.replicas, tolerations: d.tolerations }),
        podLabels: { ...out.deployment.podLabels, ...d.podLabels }, podAnnotations: { ...out.deployment.podAnnotations, ...d.podAnnotations },
        ...(d.nodeSelector ? { nodeSelector: { ...out.deployment.nodeSelector, ...d.nodeSelector } } : {}),
        resources: d.resources
          ? { requests: { ...out.deployment.resources.requests, ...d.resources.requests }, limits: { ...out.deployment.resources.limits, ...d.resources.limits } }
          : out.deployment.resources,
      };
    }
    if (e) out.envoy = { ...out.envoy, ...definedOnly(e) };
  }
  return out;
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
