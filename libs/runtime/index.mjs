// How Gantry's code finds its own files and runs its entry points, from the TypeScript sources
// (tsx: tests, development) and from the ahead-of-time bundles in dist/ (scripts/build.mjs).
// Plain JavaScript, so bin/gantry.mjs and scripts/build.mjs can use it before anything is built;
// types in index.d.mts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory: the nearest folder holding package.json, walking up from
 * `from` (a file URL or path). The same answer from `libs/xds/protos.ts` and from the bundle
 * `dist/services/xds-server/main.js`, which is why code locates repo files through it rather
 * than by a fixed number of `..` from its own location.
 */
export function packageRoot(from) {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
}

export const ROOT = packageRoot(import.meta.url);
export const DIST = join(ROOT, 'dist');
export const BUILD_INFO = join(DIST, 'build.json');
/** Files whose change makes every bundle stale (how they are built). */
export const BUILD_CONFIG = ['scripts/build.mjs', 'tsconfig.json'];

/** `services/xds-server/main.ts` → `dist/services/xds-server/main.js` (paths relative to the root). */
export function distPathOf(entry) {
  return join('dist', entry.replace(/\.ts$/, '.js'));
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function readBuildInfo() {
  try {
    return JSON.parse(readFileSync(BUILD_INFO, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the bundle of `entry` (relative to the root, e.g. `services/cli/main.ts`) is current:
 * it exists and no source it was built from (the build records them) nor the build's own
 * configuration changed since. `{ current: false, reason }` otherwise.
 */
export function bundleStatus(entry) {
  const out = distPathOf(entry);
  const info = readBuildInfo();
  const built = mtime(join(ROOT, out));
  const inputs = info?.entries?.[entry];
  if (built === undefined || !inputs) return { current: false, out, reason: `${out} is missing` };
  for (const file of [...inputs, ...BUILD_CONFIG]) {
    const m = mtime(join(ROOT, file));
    if (m === undefined) return { current: false, out, reason: `${file}, which ${out} was built from, is gone` };
    if (m > built) return { current: false, out, reason: `${file} is newer than ${out}` };
  }
  return { current: true, out };
}

/**
 * How to run `entry` as a process: node's arguments (after any flags of the caller's) for the
 * bundle when it is current, else for the TypeScript source through tsx, with the reason.
 * Paths are absolute, so the child's working directory does not matter.
 */
export function entryArgs(entry) {
  const status = bundleStatus(entry);
  if (status.current) return { args: [join(ROOT, status.out)], bundled: true };
  return {
    args: ['--import', 'tsx', join(ROOT, entry)],
    bundled: false,
    reason: `${status.reason}; running ${entry} through tsx (npm run build makes the bundle)`,
  };
}

/**
 * Node flags each service is launched with (the supervisor, the benchmark; deployments should use
 * the same). See docs/architecture.md, "How services run".
 *
 * xds-server: a 1 MiB young-generation semi-space instead of V8's 16 MiB. A replica's live heap is
 * small (about 18 MiB idle, +15 KiB per proxy) and its garbage short-lived (requests, responses),
 * but a default young generation grows to 2 × 16 MiB and stays resident, with the Buffers it holds.
 * Measured (npm run bench -- xds): idle RSS 94 → 81 MiB, 5,000 proxies on one replica 262–300 →
 * ~272 MiB, 1,667 per replica on three ~172 → ~142 MiB, for ~20% more CPU per push (more
 * scavenges). The other services keep V8's defaults (the translator allocates heavily).
 */
export const SERVICE_NODE_FLAGS = {
  'xds-server': ['--max-semi-space-size=1'],
};
