// Schemas of the layer-4 routes, TCPRoute and UDPRoute: parentRefs and rules of backendRefs only
// (no hostnames, no matches). Served as v1 by the v1.6 experimental CRDs, v1alpha2 before.
import { z } from 'zod';
import { BackendRef, namespacedMetadata, ParentRef } from './objects.ts';

const L4RouteSpec = z.object({
  parentRefs: z.array(ParentRef).max(32).default([]),
  rules: z
    .array(z.object({ name: z.string().min(1).max(253).optional(), backendRefs: z.array(BackendRef).max(16).default([]) }))
    .min(1)
    .max(16),
});

export const TCPRoute = z.object({ metadata: namespacedMetadata, spec: L4RouteSpec });
export type TCPRoute = z.infer<typeof TCPRoute>;

export const UDPRoute = z.object({ metadata: namespacedMetadata, spec: L4RouteSpec });
export type UDPRoute = z.infer<typeof UDPRoute>;
