// The NATS JetStream event log: idempotent stream set-up, deduplicated publishing of envelopes and
// compacted replay (latest event per subject, then live events) with a caught-up signal.
import {
  AckPolicy, connect, DeliverPolicy, DiscardPolicy, ErrorCode, headers, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type NatsConnection, type StreamConfig,
} from 'nats';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { decodeEnvelope, encodeEnvelope, encodeToken, STREAMS, type StreamSpec } from '../contracts/index.ts';
import { addCollector, metrics } from '../service/metrics.ts';

export interface EventLog {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

/** The stream a subject is stored in, for metric labels (every Gantry subject has its stream's prefix). */
const streamOfSubject = (subject: string): string =>
  Object.values(STREAMS).find((s) => subject.startsWith(s.subjects[0].slice(0, -1)))?.name ?? 'other';

const DUPLICATE_WINDOW_NS = 2 * 60 * 1e9;

/**
 * `nats://user:password@host:port`: nats.js ignores credentials in a URL, so they are taken out
 * and passed as options. One URL (a single Secret key in Kubernetes) then says where and as whom.
 */
export function natsConnectTarget(url: string): { servers: string; user?: string; pass?: string } {
  const at = /^(\w+:\/\/)([^@/]*)@(.*)$/.exec(url);
  if (!at) return { servers: url };
  const [user, pass] = at[2]!.split(':', 2).map(decodeURIComponent);
  return { servers: `${at[1]}${at[3]}`, user, pass };
}

/**
 * Where a user's replies come (JetStream answers, acks, pulled messages): its own subject space, so
 * a user may read its replies and no one else's (libs/eventlog/permissions.ts grants `<prefix>.>`).
 */
export const inboxPrefix = (user: string) => `_INBOX.${encodeToken(user)}`;

export async function connectEventLog(url: string, name: string, log: Logger): Promise<EventLog> {
  const target = natsConnectTarget(url);
  const nc = await connect({
    ...target, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, ...(target.user ? { inboxPrefix: inboxPrefix(target.user) } : {}),
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ nats: s.type, server: s.data }, 'NATS connection status');
      // A permissions violation fails only that request or subscription, and nats.js retries an
      // ordered consumer refused: said here, naming the subject, as nothing else may say it.
      else if (s.type === 'error') {
        log.error({ nats: s.data, refused: s.permissionContext }, s.data === ErrorCode.PermissionsViolation ? 'NATS refused an operation' : 'NATS error');
      }
    }
  })();
  const jsm = await nc.jetstreamManager();
  return { nc, js: nc.jetstream(), jsm, close: () => nc.drain() };
}

function streamConfig(spec: StreamSpec): Partial<StreamConfig> {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: spec.maxPerSubject,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
}

/** A stream a service uses: it creates the stream when missing; only its owner reconfigures it. */
export interface StreamUse {
  spec: StreamSpec;
  owner: boolean;
}

/**
 * Creates each stream when missing, and updates one whose configuration differs when `owner`;
 * safe to run from any service, in any order. A service passes the streams it uses
 * (permissions.ts `streamUses`: its NATS user may reconfigure only the streams it owns, so during a
 * rolling upgrade the owner's new version applies a new configuration, and the others log it).
 */
export async function ensureStreams(
  jsm: JetStreamManager, uses: StreamUse[] = Object.values(STREAMS).map((spec) => ({ spec, owner: true })), log?: Logger,
): Promise<void> {
  for (const { spec, owner } of uses) {
    const want = streamConfig(spec);
    try {
      const info = await jsm.streams.info(spec.name);
      const have = info.config;
      if (have.max_msgs_per_subject !== want.max_msgs_per_subject || have.subjects.join() !== want.subjects!.join()) {
        if (owner) await jsm.streams.update(spec.name, { ...have, ...want });
        else log?.warn({ stream: spec.name, have: { subjects: have.subjects, maxPerSubject: have.max_msgs_per_subject } }, 'stream configured otherwise than this version wants; its owner reconfigures it');
      }
    } catch (err) {
      if (!String((err as Error).message).includes('stream not found')) throw err;
      try {
        await jsm.streams.add(want);
      } catch (addErr) {
        // Another service created it between our look-up and add: that is the idempotent outcome.
        if (!String((addErr as Error).message).includes('already in use')) throw addErr;
      }
    }
  }
}

/**
 * Publishes one envelope, validated by its schema first. `msgId` makes a replayed publish (a
 * restarted service re-sending what it sent) a no-op inside the stream's duplicate window.
 * `expect` makes it conditional: JetStream refuses it (isWrongLastSequence) unless the subject's
 * latest message has sequence `lastSubjectSequence` (0: the subject holds none), or the stream's
 * has `lastSequence` (0: no condition). A duplicate is acknowledged before either is checked.
 */
export async function publishEvent<S extends z.ZodType>(
  js: JetStreamClient, schema: S, subject: string, event: z.input<S>, msgId: string,
  expect?: { lastSubjectSequence: number } | { lastSequence: number },
): Promise<{ seq: number; duplicate: boolean }> {
  const checked = schema.parse(event);
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  const ack = await js.publish(subject, encodeEnvelope(checked), { headers: h, msgID: msgId, ...(expect ? { expect } : {}) });
  metrics.eventsPublished.inc({ stream: streamOfSubject(subject) });
  return { seq: ack.seq, duplicate: ack.duplicate };
}

/** JetStream refused a conditional publish: another writer published on the subject meanwhile. */
export const isWrongLastSequence = (err: unknown): boolean => (err as { api_error?: { err_code?: number } })?.api_error?.err_code === 10071;

/**
 * Like publishEvent, but a core NATS publish: the stream still stores it (and drops a duplicate
 * by `msgId`), without a request, a reply inbox and a timer per message. For high-volume events
 * (one per proxy ACK) whose publisher only logs a failure: a lost acknowledgement would not be
 * retried anyway. Throws when the connection is closed; the message is buffered while reconnecting.
 */
export function publishEventNoAck<S extends z.ZodType>(
  nc: NatsConnection, schema: S, subject: string, event: z.input<S>, msgId: string,
): void {
  const checked = schema.parse(event);
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  nc.publish(subject, encodeEnvelope(checked), { headers: h });
  metrics.eventsPublished.inc({ stream: streamOfSubject(subject) });
}

/** What a live follower has applied, for the lag metric computed at scrape time. */
interface FollowerProgress {
  stream: string;
  /** The follower reads the whole stream, so the head's sequence measures its lag. */
  wholeStream: boolean;
  applied: number;
  /** JetStream's count of messages matching the filter after the last one applied. */
  pending: number;
  jsm: JetStreamManager;
}
const progress = new Set<FollowerProgress>();
const lagStreams = new Set<string>();

// Lag as an operator means it: how far this process is behind what has been published. The head is
// read at scrape time (one stream info per followed stream), so an idle process reports 0 only when
// it really holds the head. A filtered follower cannot use the head (it may be another cluster's
// event it will never see), so it reports JetStream's own pending count for its filter.
addCollector(async () => {
  const byStream = new Map<string, FollowerProgress[]>();
  for (const p of progress) byStream.set(p.stream, [...(byStream.get(p.stream) ?? []), p]);
  for (const stream of lagStreams) if (!byStream.has(stream)) { metrics.lag.remove({ stream }); lagStreams.delete(stream); }
  await Promise.all([...byStream].map(async ([stream, ps]) => {
    let head: number | undefined;
    if (ps.some((p) => p.wholeStream)) head = (await ps[0]!.jsm.streams.info(stream)).state.last_seq;
    const lag = Math.max(...ps.map((p) => (p.wholeStream && head !== undefined ? Math.max(0, head - p.applied) : p.pending)));
    metrics.lag.set({ stream }, lag);
    lagStreams.add(stream);
  }));
});

export interface FollowOptions<T> {
  stream: StreamSpec;
  filter?: string;
  schema: z.ZodType<T>;
  log: Logger;
  /** Called in stream-sequence order; a thrown error is logged and the event skipped. */
  onEvent(event: T, meta: { seq: number; subject: string }): void | Promise<void>;
  /** Called once the replay of what the stream held at start-up has been delivered. */
  onCaughtUp?(lastSeq: number): void | Promise<void>;
  /** `last` replays the compacted state (latest per subject); `new` only follows live events. */
  from?: 'last' | 'new';
}

export interface Follower {
  stop(): Promise<void>;
  caughtUp: Promise<number>;
}

/**
 * Replays the latest event of every subject under `filter`, then follows the stream live. Uses an
 * ordered consumer: ephemeral, recreated by the client on gaps, so a reconnect loses nothing.
 */
export async function followStream<T>(log: EventLog, opts: FollowOptions<T>): Promise<Follower> {
  const filter = opts.filter ?? opts.stream.subjects[0];
  const consumer = await log.js.consumers.get(opts.stream.name, {
    filterSubjects: filter,
    // `deliver_policy: all` hangs nats.js v2's ordered consumer; last_per_subject is what we want anyway.
    deliver_policy: opts.from === 'new' ? DeliverPolicy.New : DeliverPolicy.LastPerSubject,
  });
  const info = await log.jsm.streams.info(opts.stream.name, { subjects_filter: filter } as never);
  const pendingAtStart = opts.from === 'new' ? 0 : Object.keys(info.state.subjects ?? {}).length;
  let lastSeq = 0;
  let resolveCaughtUp!: (seq: number) => void;
  const caughtUp = new Promise<number>((r) => (resolveCaughtUp = r));
  let isCaughtUp = false;
  const markCaughtUp = async () => {
    if (isCaughtUp) return;
    isCaughtUp = true;
    await opts.onCaughtUp?.(lastSeq);
    resolveCaughtUp(lastSeq);
  };
  if (pendingAtStart === 0) await markCaughtUp();
  const stream = opts.stream.name;
  const mine: FollowerProgress = {
    stream, wholeStream: opts.stream.subjects.length === 1 && filter === opts.stream.subjects[0], applied: 0, pending: pendingAtStart, jsm: log.jsm,
  };
  progress.add(mine);
  const messages = await consumer.consume({ max_messages: 1000 });
  const done = (async () => {
    for await (const m of messages) {
      lastSeq = m.seq;
      metrics.eventsConsumed.inc({ stream });
      const decoded = decodeEnvelope(opts.schema, m.data);
      if (!decoded.ok) {
        metrics.eventsRejected.inc({ stream, reason: 'malformed' });
        opts.log.error({ subject: m.subject, seq: m.seq, err: decoded.error }, 'rejected a malformed event');
      } else {
        try {
          await opts.onEvent(decoded.value, { seq: m.seq, subject: m.subject });
        } catch (err) {
          metrics.eventsRejected.inc({ stream, reason: 'handler' });
          opts.log.error({ subject: m.subject, seq: m.seq, err }, 'event handler failed; event skipped');
        }
      }
      mine.applied = m.seq;
      mine.pending = m.info.pending;
      metrics.appliedSequence.set({ stream }, m.seq);
      if (!isCaughtUp && m.info.pending === 0) await markCaughtUp();
    }
  })();
  return {
    caughtUp,
    stop: async () => {
      progress.delete(mine);
      messages.stop();
      await done.catch(() => undefined);
    },
  };
}

export { AckPolicy };
