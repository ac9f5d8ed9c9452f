// A writer that runs only while this process holds its service's lease: started for every term won,
// stopped when the term ends (lost, or released at shutdown: stopped before the release). What the
// edge services share (watcher, endpoint-discovery, reporter; file and Kubernetes mode). Their
// standbys are cold: they hold a NATS connection and campaign, and on taking over start the writer
// as a restart would (replay their subjects, list or read their source), which the digest
// comparison against the log makes publish only what changed.
import type { EventLog } from '../eventlog/index.ts';
import type { Health } from '../service/health.ts';
import type { Logger } from '../service/index.ts';
import { aborted, leaseCheck, startLease, type Lease } from './index.ts';

export interface LeasedWriter {
  stop(): Promise<void>;
}

export interface RunWhileLeadingOptions<W extends LeasedWriter> {
  eventLog: EventLog;
  service: string;
  cluster: string;
  ttlMs: number;
  log: Logger;
  health: Health;
  /** The readiness check's name: a standby passes it, the leader once `inStep(writer)` resolved. */
  check: string;
  start(): Promise<W>;
  inStep(writer: W): Promise<unknown>;
}

export function runWhileLeading<W extends LeasedWriter>(opts: RunWhileLeadingOptions<W>): Lease {
  let inStep = false;
  const lease: Lease = startLease({
    nc: opts.eventLog.nc, service: opts.service, cluster: opts.cluster, ttlMs: opts.ttlMs, log: opts.log,
    run: async (term) => {
      inStep = false;
      const writer = await opts.start();
      void opts.inStep(writer).then(() => { if (!term.signal.aborted) inStep = true; }, () => undefined);
      await aborted(term.signal);
      await writer.stop();
    },
  });
  opts.health.check(opts.check, leaseCheck(() => lease, () => inStep));
  return lease;
}
