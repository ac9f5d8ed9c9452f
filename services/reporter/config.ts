// The reporter's configuration, apart from main.ts so test/deploy can check the manifests' env against it.
import { z } from 'zod';
import { LeaseConfig } from '../../libs/lease/index.ts';
import { CommonConfig } from '../../libs/service/index.ts';

export const ReporterConfig = CommonConfig.extend({ GANTRY_STATUS_DIR: z.string().min(1), ...LeaseConfig.shape });

/** Kubernetes mode: Gateway provisioning (provisioner.ts), on unless turned off (Gateways whose proxies are deployed by hand). */
export const ProvisioningConfig = z.object({
  GANTRY_PROVISIONING: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  GANTRY_ENVOY_IMAGE: z.string().min(1).default('docker.io/envoyproxy/envoy:distroless-v1.34.1'),
  /** The xds-server as the provisioned proxies reach it: deploy/base/core/xds-server.yaml's Service. */
  GANTRY_XDS_ADDRESS: z.string().min(1).default('gantry-xds.gantry-system.svc.cluster.local'),
  GANTRY_XDS_PORT: z.coerce.number().int().min(1).max(65535).default(18000),
});
