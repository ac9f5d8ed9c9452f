// `gantry status`: the status the reporter wrote, as a table, then the proxies of each Gateway.
import { existsSync } from 'node:fs';
import { formatProxiesTable, formatStatusTable, readProxiesDir, readStatusDir } from '../../libs/status/table.ts';

export function runStatus(dir: string): number {
  if (!existsSync(dir)) {
    process.stderr.write(`gantry status: no status at ${dir} (is \`gantry up\` running with these manifests?)\n`);
    return 1;
  }
  process.stdout.write(`${formatStatusTable(readStatusDir(dir))}\n`);
  const proxies = readProxiesDir(dir);
  process.stdout.write(`\n${formatProxiesTable(proxies.gateways)}\n`);
  for (const e of proxies.errors) process.stderr.write(`gantry status: unreadable proxies file ${e}\n`);
  return 0;
}
