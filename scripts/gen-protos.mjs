// Generates TypeScript types for the Envoy protos Gantry builds (protos/generated, not committed).
// Runs at `npm install`; the runtime loads the same files through libs/xds/protos.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = JSON.parse(readFileSync(join(top, 'protos/envoy-protos.json'), 'utf8'));
const root = join(top, spec.root);
for (const dir of spec.includeDirs) {
  if (!existsSync(join(root, dir))) {
    throw new Error(`Envoy protos not found at ${join(root, dir)}: the layout of @grpc/grpc-js-xds changed`);
  }
}
const out = join(top, 'protos/generated');
rmSync(out, { recursive: true, force: true });
// File names go first: yargs would read them as more --includeDirs values otherwise.
execFileSync(join(top, 'node_modules/.bin/proto-loader-gen-types'), [
  ...spec.files,
  ...spec.includeDirs.map((d) => `--includeDirs=${join(root, d)}`),
  '--keepCase', '--longs', 'String', '--enums', 'String', '--defaults', '--oneofs',
  '--grpcLib', '@grpc/grpc-js', '-O', out,
], { stdio: 'inherit' });
