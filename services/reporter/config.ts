// The reporter's configuration, apart from main.ts so test/deploy can check the manifests' env against it.
import { z } from 'zod';
import { CommonConfig } from '../../libs/service/index.ts';

export const ReporterConfig = CommonConfig.extend({ GANTRY_STATUS_DIR: z.string().min(1) });
