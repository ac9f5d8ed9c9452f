// Types of index.mjs (plain JavaScript so bin/gantry.mjs and scripts/build.mjs can use it unbuilt).

/** The nearest folder holding package.json, walking up from `from` (a file URL or path). */
export function packageRoot(from: string): string;
/** The package root (absolute). */
export const ROOT: string;
/** `<root>/dist`. */
export const DIST: string;
/** `<root>/dist/build.json`: the sources each bundle was built from. */
export const BUILD_INFO: string;
export const BUILD_CONFIG: string[];
/** `services/x/main.ts` → `dist/services/x/main.js`. */
export function distPathOf(entry: string): string;
export interface BundleStatus {
  current: boolean;
  /** The bundle's path relative to the root. */
  out: string;
  /** Why it is not current. */
  reason?: string;
}
/** Whether the bundle of `entry` (e.g. `services/cli/main.ts`) exists and is newer than its sources. */
export function bundleStatus(entry: string): BundleStatus;
/** Node arguments that run `entry`: its bundle when current, else the source through tsx (with the reason). */
export function entryArgs(entry: string): { args: string[]; bundled: boolean; reason?: string };
/** Node flags a service is launched with, by service name. */
export const SERVICE_NODE_FLAGS: Record<string, string[]>;
