// `gantry`: the command line. `up` runs the embedded default, `translate` translates manifests
// offline, `status` prints the status the reporter wrote, `nats-authorization` renders the NATS
// users of an install's clusters (libs/eventlog/permissions.ts) for the main cluster's nats.conf.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { natsAuthorization } from '../../libs/eventlog/permissions.ts';
import { CommonConfig } from '../../libs/service/index.ts';
import { runStatus } from './status.ts';
import { runTranslate } from './translate.ts';
import { runUp } from './up.ts';

const USAGE = `usage:
  gantry up [--manifests DIR] [--xds-port N] [--xds-address IP] [--nats URL] [--redis URL]
            [--status-dir DIR] [--cluster ID] [--log-level LEVEL]
  gantry translate -f PATH [-f PATH...] [--controller-name NAME] [-o json|yaml]
  gantry status [--status-dir DIR | --manifests DIR]
  gantry nats-authorization MAIN-CLUSTER [MEMBER-CLUSTER...]`;

const [command, ...rest] = process.argv.slice(2);

function fail(message: string): never {
  process.stderr.write(`gantry: ${message}\n${USAGE}\n`);
  process.exit(2);
}

try {
  switch (command) {
    case 'up': {
      const { values } = parseArgs({
        args: rest,
        options: {
          manifests: { type: 'string', default: 'examples' },
          'xds-port': { type: 'string', default: '18000' },
          'xds-address': { type: 'string', default: '127.0.0.1' },
          nats: { type: 'string' },
          redis: { type: 'string' },
          'status-dir': { type: 'string' },
          cluster: { type: 'string', default: 'local' },
          'log-level': { type: 'string', default: 'info' },
        },
      });
      const port = Number(values['xds-port']);
      if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--xds-port must be a port number, not "${values['xds-port']}"`);
      const manifests = resolve(values.manifests!);
      await runUp({
        manifests,
        statusDir: resolve(values['status-dir'] ?? `${manifests}/.gantry-status`),
        xdsPort: port,
        xdsAddress: values['xds-address']!,
        nats: values.nats,
        redis: values.redis,
        cluster: values.cluster!,
        logLevel: values['log-level']!,
      });
      break;
    }
    case 'translate': {
      const { values } = parseArgs({
        args: rest,
        options: {
          file: { type: 'string', short: 'f', multiple: true },
          'controller-name': { type: 'string', default: 'gantry.dev/gateway-controller' },
          output: { type: 'string', short: 'o', default: 'json' },
          address: { type: 'string', default: '127.0.0.1' },
        },
      });
      if (!values.file?.length) fail('translate needs at least one -f PATH');
      if (values.output !== 'json' && values.output !== 'yaml') fail(`-o must be json or yaml, not "${values.output}"`);
      process.exitCode = await runTranslate({
        paths: values.file, controllerName: values['controller-name']!, output: values.output, defaultAddress: values.address!,
      });
      break;
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: { 'status-dir': { type: 'string' }, manifests: { type: 'string', default: 'examples' } } });
      process.exitCode = runStatus(resolve(values['status-dir'] ?? `${values.manifests}/.gantry-status`));
      break;
    }
    case 'nats-authorization': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      const [main, ...members] = positionals;
      if (main === undefined) fail('nats-authorization needs the main cluster\'s GANTRY_CLUSTER, then each member\'s');
      for (const cluster of positionals) {
        if (!CommonConfig.shape.GANTRY_CLUSTER.safeParse(cluster).success) fail(`cluster "${cluster}" is not a DNS label (a GANTRY_CLUSTER value)`);
      }
      process.stdout.write(natsAuthorization([main, ...members]));
      break;
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      break;
    default:
      fail(`unknown command "${command}"`);
  }
} catch (err) {
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail((err as Error).message);
  throw err;
}
