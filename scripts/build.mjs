// Bundles every service entry (services/<name>/main.ts, the CLI included) ahead of time into
// dist/services/<name>/main.js with esbuild (which comes with tsx): plain JavaScript, so services
// start without tsx's loader thread and on-the-fly TypeScript transforms. node_modules stay
// external (imported at run time as usual). dist/build.json records which sources each bundle
// was built from, so libs/runtime can tell a current bundle from a stale one.
//   node scripts/build.mjs              build (npm install runs it after gen-protos)
//   node scripts/build.mjs --if-stale   build only when a bundle is missing or older than its sources
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { BUILD_INFO, DIST, ROOT, bundleStatus, distPathOf } from '../libs/runtime/index.mjs';

const entries = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'services', d.name, 'main.ts')))
  .map((d) => `services/${d.name}/main.ts`)
  .sort();

if (process.argv.includes('--if-stale')) {
  const stale = entries.map(bundleStatus).filter((s) => !s.current);
  if (stale.length === 0) process.exit(0);
  process.stderr.write(`gantry: building dist/ (${stale[0].reason})\n`);
}

const { build } = await import('esbuild');
const t0 = performance.now();
// Built beside dist/ and swapped in, so a process starting meanwhile (tests, `gantry up`) sees the
// old bundles or the new ones, never a half-written folder.
const staging = `${DIST}.${process.pid}.tmp`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: entries,
  outbase: '.',
  outdir: staging,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  // Keep names readable in stack traces and heap snapshots; size is not what matters here.
  minify: false,
});

const info = { builtAt: new Date().toISOString(), entries: {} };
for (const entry of entries) {
  const out = result.metafile.outputs[join(relative(ROOT, staging), relative('dist', distPathOf(entry)))];
  if (!out) throw new Error(`esbuild produced no ${distPathOf(entry)}`);
  info.entries[entry] = Object.keys(out.inputs).sort();
}
writeFileSync(join(staging, basename(BUILD_INFO)), `${JSON.stringify(info, null, 1)}\n`);
const old = `${DIST}.${process.pid}.old`;
if (existsSync(DIST)) renameSync(DIST, old);
renameSync(staging, DIST);
rmSync(old, { recursive: true, force: true });
process.stderr.write(`gantry: built ${entries.length} bundles into dist/ in ${Math.round(performance.now() - t0)} ms\n`);
