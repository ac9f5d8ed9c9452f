// The translator's configuration, apart from main.ts so test/deploy can check the manifests' env against it.
import { z } from 'zod';
import { LeaseConfig } from '../../libs/lease/index.ts';
import { CommonConfig } from '../../libs/service/index.ts';

export const TranslatorConfig = CommonConfig.extend({
  GANTRY_CONTROLLER_NAME: z.string().default('gantry.dev/gateway-controller'),
  GANTRY_GATEWAY_ADDRESS: z.string().default('127.0.0.1'),
  /** Events arriving within this window are translated together. */
  GANTRY_DEBOUNCE_MS: z.coerce.number().int().nonnegative().default(20),
  ...LeaseConfig.shape,
});
