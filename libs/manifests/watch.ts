// Re-running a pass whenever a manifests directory changes: `fs.watch` (recursive on Linux since
// Node 20), debounced, passes never overlapping, plus a periodic re-read as a safety net for events
// the kernel watcher drops (editors' rename dances, directories created and filled at once).
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../service/index.ts';

export interface DirWatch {
  /** Requests a pass (coalesced with any pending one). */
  trigger(reason: string): void;
  /** Resolves once no pass is running or pending. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** A path inside the directory that the edge services ignore: dot-files and dot-directories. */
export function isHiddenPath(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((seg) => seg.startsWith('.'));
}

export function watchManifestDir(
  dir: string, opts: { debounceMs: number; resyncMs?: number; log: Logger; pass(reason: string): Promise<void> },
): DirWatch {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let pending: string | undefined;
  let stopped = false;
  let watcher: FSWatcher | undefined;

  const runLoop = async () => {
    while (pending !== undefined && !stopped) {
      const reason = pending;
      pending = undefined;
      try {
        await opts.pass(reason);
      } catch (err) {
        // A pass must never take the service down: log it and let the next change try again.
        opts.log.error({ err, reason }, 'manifest pass failed');
      }
    }
    running = undefined;
  };
  const runNow = (reason: string) => {
    pending = reason;
    if (!running) running = runLoop();
  };
  const trigger = (reason: string) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => runNow(reason), opts.debounceMs);
  };

  const startWatcher = () => {
    if (stopped) return;
    try {
      watcher = watch(dir, { recursive: true }, (_event, filename) => {
        const name = filename ? String(filename) : '';
        if (name && isHiddenPath(name)) return;
        trigger(name ? `changed: ${name}` : 'changed');
      });
      watcher.on('error', (err) => {
        opts.log.warn({ err, dir }, 'directory watch failed; retrying');
        watcher?.close();
        setTimeout(() => { startWatcher(); trigger('watch restarted'); }, 1000).unref();
      });
    } catch (err) {
      opts.log.warn({ err, dir }, 'cannot watch the manifests directory; retrying');
      setTimeout(() => { startWatcher(); trigger('watch restarted'); }, 1000).unref();
    }
  };
  startWatcher();
  const resync = opts.resyncMs && opts.resyncMs > 0 ? setInterval(() => trigger('periodic resync'), opts.resyncMs) : undefined;
  resync?.unref();

  return {
    trigger,
    idle: async () => {
      while (running || pending !== undefined) await (running ?? new Promise((r) => setTimeout(r, 10)));
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      if (resync) clearInterval(resync);
      watcher?.close();
      await running;
    },
  };
}
