// Schema of Gantry's own Upstream kind (deploy/crds/gantry/upstreams.yaml): a backend given by fixed
// hosts or by a Service, with the connection settings Gateway API has no place for. The CRD's
// structural schema and CEL rule are checked again here, because file mode has no API server to
// enforce them; a failed parse names the offending field and becomes the Upstream's status.
import { isIP } from 'node:net';
import { z } from 'zod';
import { durationMs, GatewayDuration } from './filter-objects.ts';
import { HOSTNAME_RE, namespacedMetadata } from './objects.ts';

export const GANTRY_GROUP = 'gateway.gantry.dev';

const port = z.number().int().min(1).max(65535);
const localRef = z.object({ name: z.string().min(1).max(253) });

const StaticHost = z.object({
  address: z.string().min(1).max(253)
    .refine((a) => isIP(a) !== 0 || (HOSTNAME_RE.test(a) && !a.startsWith('*.')), 'must be an IP address or a lowercase RFC 1123 DNS name'),
  port,
  weight: z.number().int().min(1).max(128).default(1),
});

export const UpstreamTls = z.object({
  sni: z.string().max(253).optional(),
  caCertificateRef: localRef.optional(),
  clientCertificateRef: localRef.optional(),
  subjectAltNames: z.array(z.string().min(1)).max(16).default([]),
});
export type UpstreamTls = z.infer<typeof UpstreamTls>;

export const UpstreamSpec = z
  .object({
    type: z.enum(['Static', 'Kube']),
    static: z.object({ hosts: z.array(StaticHost).min(1).max(64) }).optional(),
    kube: z.object({ serviceName: z.string().min(1).max(63), serviceNamespace: z.string().min(1).max(63).optional(), servicePort: port }).optional(),
    protocol: z.enum(['HTTP', 'H2C', 'GRPC', 'TCP']).default('HTTP'),
    tls: UpstreamTls.optional(),
    // Envoy requires a connect timeout above zero.
    connectTimeout: GatewayDuration.refine((d) => durationMs(d) > 0, 'must be more than 0').optional(),
  })
  .superRefine((spec, ctx) => {
    const [wanted, other] = spec.type === 'Static' ? (['static', 'kube'] as const) : (['kube', 'static'] as const);
    if (spec[wanted] === undefined) ctx.addIssue({ code: 'custom', path: [wanted], message: `must be set when type is ${spec.type}` });
    if (spec[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `must not be set when type is ${spec.type}` });
  });
export type UpstreamSpec = z.infer<typeof UpstreamSpec>;

export const Upstream = z.object({ metadata: namespacedMetadata, spec: UpstreamSpec });
export type Upstream = z.infer<typeof Upstream>;
