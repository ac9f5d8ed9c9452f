// endpoint-discovery's own setting, read besides the file- or Kubernetes-mode configuration.
import { z } from 'zod';

export const UpstreamDiscoveryConfig = z.object({
  /** Whether Services get discovered Upstreams when neither they nor their Namespace say (annotation discovery.gantry.dev/upstreams). */
  GANTRY_UPSTREAM_DISCOVERY: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});
