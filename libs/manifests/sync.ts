// Keeping a compacted stream equal to a desired state, for the file-mode edge services (watcher,
// endpoint-discovery). The log is the memory: on start-up the latest event of every subject is
// replayed to learn what the stream holds, and only differences are published. Comparison is by a
// digest of the event's content, so an unchanged restart publishes nothing.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { followStream, publishEvent, type EventLog } from '../eventlog/index.ts';
import type { StreamSpec } from '../contracts/index.ts';
import type { Logger } from '../service/index.ts';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the log holds for one subject: its latest event, reduced to what a diff needs. */
export interface LogEntry<T> {
  seq: number;
  deleted: boolean;
  digest: string;
  event: T;
}

/** One event the caller wants the log's latest for `subject` to be (compared by `digest`). */
export interface DesiredEvent<T> {
  subject: string;
  digest: string;
  deleted: boolean;
  event: T;
  /** The natural message id (`<subject>@<resourceVersion>`), for JetStream's de-duplication. */
  msgId: string;
}

export interface LogStateOptions<T> {
  stream: StreamSpec;
  filter: string;
  schema: z.ZodType<T>;
  logger: Logger;
  digest(event: T): { deleted: boolean; digest: string };
}

/**
 * Replays the latest event of every subject under `filter` and stops once caught up. Events that do
 * not decode are logged by `followStream` and left out, so they are republished (and so repaired).
 */
export async function readLogState<T>(log: EventLog, opts: LogStateOptions<T>): Promise<Map<string, LogEntry<T>>> {
  const followed = await followLogState(log, opts);
  await followed.stop();
  return followed.state;
}

/**
 * Like readLogState, then keeps `state` current with what other writers publish under `filter`
 * (`onChange` tells of each, once the replay is done), for a subject space two services share. An
 * event not newer than what `state` holds (our own publish, recorded before its echo) is skipped.
 */
export async function followLogState<T>(
  log: EventLog, opts: LogStateOptions<T> & { onChange?(subject: string, entry: LogEntry<T>): void },
): Promise<{ state: Map<string, LogEntry<T>>; stop(): Promise<void> }> {
  const state = new Map<string, LogEntry<T>>();
  let live = false;
  const follower = await followStream(log, {
    stream: opts.stream, filter: opts.filter, schema: opts.schema, log: opts.logger, from: 'last',
    onEvent: (event, meta) => {
      if ((state.get(meta.subject)?.seq ?? 0) >= meta.seq) return;
      const entry = { seq: meta.seq, ...opts.digest(event), event };
      state.set(meta.subject, entry);
      if (live) opts.onChange?.(meta.subject, entry);
    },
  });
  await follower.caughtUp;
  live = true;
  return { state, stop: () => follower.stop() };
}

export interface PublishOptions {
  /**
   * Publish only if the subject's latest is still the one `state` holds (JetStream's expected last
   * subject sequence), for a subject another service may write: a refusal throws an error that
   * `isWrongLastSequence` recognises, and `state` learns the newer event from its follower.
   */
  ifLatestIsKnown?: boolean;
}

/**
 * Publishes `want` unless the log's latest for its subject already has the same digest, and records
 * the result in `state`. A publish that JetStream reports as a duplicate while the log's latest
 * differs is a revert to an earlier version inside the duplicate window (A → B → A): it is sent
 * again under an id naming the sequence it follows, which is still deterministic, so two replicas
 * racing on the same change still de-duplicate.
 */
export async function publishIfChanged<T>(
  log: EventLog, schema: z.ZodType<T>, state: Map<string, LogEntry<T>>, want: DesiredEvent<T>, opts: PublishOptions = {},
): Promise<{ published: boolean; seq: number; duplicate: boolean }> {
  const have = state.get(want.subject);
  if (have && have.digest === want.digest && have.deleted === want.deleted) return { published: false, seq: have.seq, duplicate: false };
  const expect = opts.ifLatestIsKnown ? { lastSubjectSequence: have?.seq ?? 0 } : undefined;
  let ack = await publishEvent(log.js, schema, want.subject, want.event as z.input<typeof schema>, want.msgId, expect);
  if (ack.duplicate) {
    ack = await publishEvent(log.js, schema, want.subject, want.event as z.input<typeof schema>, `${want.msgId}@after:${have?.seq ?? 0}`, expect);
  }
  state.set(want.subject, { seq: ack.seq, deleted: want.deleted, digest: want.digest, event: want.event });
  return { published: true, seq: ack.seq, duplicate: ack.duplicate };
}

/** A stable, UUID-shaped id derived from a name (for objects read from files, which have no uid). */
export function stableUid(name: string): string {
  const h = sha256(name);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
