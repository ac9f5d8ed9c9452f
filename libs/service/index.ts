// What every service process shares: JSON logs (pino, to stderr), configuration parsed once from
// the environment with zod, and an orderly shutdown on SIGINT/SIGTERM.
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { HealthConfig } from './health.ts';

export type { Logger };

/** Gantry's services, one process (and one NATS user: libs/eventlog/permissions.ts) each. */
export const SERVICES = ['watcher', 'endpoint-discovery', 'translator', 'reporter', 'xds-server'] as const;
export type ServiceName = (typeof SERVICES)[number];

export function createLogger(service: string, level = process.env.GANTRY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } }, pino.destination(2));
}

/** Settings every service reads: where NATS and Redis are and which cluster it speaks for. */
export const CommonConfig = z.object({
  GANTRY_NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  GANTRY_REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  GANTRY_CLUSTER: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label').default('local'),
  GANTRY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  ...HealthConfig.shape,
});

/** Parses the environment with `schema`; on error prints every problem and exits (a process cannot go on). */
export function loadConfig<S extends z.ZodObject>(service: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    process.stderr.write(`${service}: invalid configuration: ${problems}\n`);
    process.exit(2);
  }
  return parsed.data;
}

/** Runs `cleanup` once on SIGINT/SIGTERM (or a fatal error), then exits. */
export function onShutdown(log: Logger, cleanup: () => Promise<void>): void {
  let stopping = false;
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => process.exit(code), 5000);
    timer.unref();
    try {
      await cleanup();
    } catch (err) {
      log.error({ err }, 'cleanup failed');
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    void stop('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });
}
