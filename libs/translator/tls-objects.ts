// Schemas of the kinds TLS needs: TLSRoute, BackendTLSPolicy, and the core Secrets and ConfigMaps
// that hold certificates. Like objects.ts, a failed parse is a value naming the offending field.
import { z } from 'zod';
import { BackendRef, ParentRef, namespacedMetadata } from './objects.ts';

const HOSTNAME_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const hostname = z.string().max(253).regex(HOSTNAME_RE, 'must be a lowercase RFC 1123 hostname, optionally prefixed by "*."');

/** A string map that YAML may also write as `data:` with nothing after it. */
const stringMap = z.record(z.string(), z.string()).nullish().transform((m) => m ?? {});

// --- TLSRoute (v1; v1alpha2 and v1alpha3 have the same shape for what is read here) -----------
export const TLSRoute = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    parentRefs: z.array(ParentRef).max(32).default([]),
    hostnames: z.array(hostname).max(1024).default([]),
    rules: z
      .array(z.object({ name: z.string().optional(), backendRefs: z.array(BackendRef).max(16).default([]) }))
      .max(16)
      .default([]),
  }),
});
export type TLSRoute = z.infer<typeof TLSRoute>;

// --- BackendTLSPolicy (v1) ---------------------------------------------------------------------
export const BackendTLSPolicy = z.object({
  metadata: namespacedMetadata,
  spec: z.object({
    targetRefs: z
      .array(z.object({ group: z.string().default(''), kind: z.string().min(1), name: z.string().min(1), sectionName: z.string().min(1).optional() }))
      .min(1)
      .max(16),
    validation: z.object({
      caCertificateRefs: z.array(z.object({ group: z.string().default(''), kind: z.string().min(1), name: z.string().min(1) })).max(8).default([]),
      wellKnownCACertificates: z.string().min(1).optional(),
      hostname: z.string().min(1).max(253),
      subjectAltNames: z
        .array(z.object({ type: z.enum(['Hostname', 'URI']), hostname: z.string().min(1).optional(), uri: z.string().min(1).optional() }))
        .max(5)
        .default([]),
    }),
    options: stringMap,
  }),
});
export type BackendTLSPolicy = z.infer<typeof BackendTLSPolicy>;

// --- Secret, ConfigMap (core/v1) ---------------------------------------------------------------
export const Secret = z.object({
  metadata: namespacedMetadata,
  type: z.string().default('Opaque'),
  /** base64, as the API server serves it. */
  data: stringMap,
  /** Plain text, as a manifest may write it. */
  stringData: stringMap,
});
export type Secret = z.infer<typeof Secret>;

export const ConfigMap = z.object({ metadata: namespacedMetadata, data: stringMap });
export type ConfigMap = z.infer<typeof ConfigMap>;
