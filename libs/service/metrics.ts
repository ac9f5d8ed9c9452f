// Gantry's Prometheus metrics, one set per process. They live in a module of their own (not in the
// health server) so the code that knows a number (the event log, the translator's publisher, a
// discovery stream, the reporter) can count it without being handed anything: a few lines where
// the event happens, and the health server serves whatever was counted. A process that never
// counts something simply exports zero for it.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

export const metrics = {
  eventsConsumed: new Counter({
    name: 'gantry_events_consumed_total',
    help: 'Events read from a JetStream stream and handed to the service (replay included).',
    labelNames: ['stream'] as const, registers: [registry],
  }),
  eventsRejected: new Counter({
    name: 'gantry_events_rejected_total',
    help: 'Events skipped because they did not decode against their schema or their handler failed.',
    labelNames: ['stream', 'reason'] as const, registers: [registry],
  }),
  eventsPublished: new Counter({
    name: 'gantry_events_published_total',
    help: 'Events published to a JetStream stream (REPORTS: reports published; duplicates JetStream dropped included).',
    labelNames: ['stream'] as const, registers: [registry],
  }),
  appliedSequence: new Gauge({
    name: 'gantry_stream_applied_sequence',
    help: 'Stream sequence of the last event this process applied.',
    labelNames: ['stream'] as const, registers: [registry],
  }),
  // Filled in at scrape time from the followers (libs/eventlog), which know the stream heads.
  lag: new Gauge({
    name: 'gantry_stream_lag_events',
    help: 'Events behind the stream head: last sequence minus applied sequence when the process follows the whole stream, '
      + 'else the events matching its filter that JetStream still had pending after the last one applied.',
    labelNames: ['stream'] as const, registers: [registry],
  }),
  translationSeconds: new Histogram({
    name: 'gantry_translation_duration_seconds',
    help: 'Time to translate the World into snapshots and reports, per cycle (CPU only: no encoding or I/O).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  snapshotsPublished: new Counter({
    name: 'gantry_snapshots_published_total',
    help: 'Snapshots written to Redis and announced (a head that moved).',
    registers: [registry],
  }),
  snapshotBytes: new Gauge({
    name: 'gantry_snapshot_bytes',
    help: 'Encoded size of the latest snapshot of each Gateway (sum of its resources).',
    labelNames: ['gateway'] as const, registers: [registry],
  }),
  snapshotResources: new Gauge({
    name: 'gantry_snapshot_resources',
    help: 'Resources in the latest snapshot of each Gateway.',
    labelNames: ['gateway'] as const, registers: [registry],
  }),
  connectedProxies: new Gauge({
    name: 'gantry_xds_connected_proxies',
    help: 'Discovery streams whose proxy has identified itself, on this replica.',
    labelNames: ['protocol'] as const, registers: [registry],
  }),
  acks: new Counter({
    name: 'gantry_xds_acks_total',
    help: 'Versions proxies accepted (first ACK per stream, type and version).',
    labelNames: ['type'] as const, registers: [registry],
  }),
  nacks: new Counter({
    name: 'gantry_xds_nacks_total',
    help: 'Versions proxies rejected.',
    labelNames: ['type'] as const, registers: [registry],
  }),
  statusWrites: new Counter({
    name: 'gantry_status_writes_total',
    help: 'Status the reporter wrote or removed (only when the content changed).',
    labelNames: ['op'] as const, registers: [registry],
  }),
  provisioningWrites: new Counter({
    name: 'gantry_provisioning_writes_total',
    help: 'Proxy objects of provisioned Gateways the reporter created, patched or deleted (only when they differed).',
    labelNames: ['kind', 'op'] as const, registers: [registry],
  }),
  leader: new Gauge({
    name: 'gantry_leader',
    help: 'Whether this process holds its service\'s leader lease (1) and writes, or stands by (0); libs/lease.',
    labelNames: ['service'] as const, registers: [registry],
  }),
};

/** Called at scrape time before the registry is read; a failure leaves the gauges as they were. */
const collectors = new Set<() => Promise<void>>();

export function addCollector(collect: () => Promise<void>): () => void {
  collectors.add(collect);
  return () => void collectors.delete(collect);
}

export async function runCollectors(): Promise<void> {
  await Promise.all([...collectors].map((c) => c().catch(() => undefined)));
}
