// `gantry status`: the status the reporter wrote, as a table.
import { existsSync } from 'node:fs';
import { formatStatusTable, readStatusDir } from '../../libs/status/table.ts';

export function runStatus(dir: string): number {
  if (!existsSync(dir)) {
    process.stderr.write(`gantry status: no status at ${dir} (is \`gantry up\` running with these manifests?)\n`);
    return 1;
  }
  process.stdout.write(`${formatStatusTable(readStatusDir(dir))}\n`);
  return 0;
}
