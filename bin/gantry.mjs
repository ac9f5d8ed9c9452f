#!/usr/bin/env node
// The `gantry` command: runs the CLI from its bundle (dist/, built at `npm install` by
// scripts/build.mjs) when that is current, else from the TypeScript source through tsx.
import { entryArgs, ROOT } from '../libs/runtime/index.mjs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const run = entryArgs('services/cli/main.ts');
if (run.bundled) {
  await import(pathToFileURL(run.args[0]).href);
} else {
  process.stderr.write(`gantry: ${run.reason}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(ROOT, 'services/cli/main.ts')).href);
}
