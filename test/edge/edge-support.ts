// Shared by the edge-service tests: a real nats-server with the streams, a quiet logger, and
// reading what a stream holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { STREAMS, type StreamName } from '../../libs/contracts/index.ts';
import { connectEventLog, ensureStreams, type EventLog } from '../../libs/eventlog/index.ts';
import { startNats, type RunningServer } from '../support/servers.ts';

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface EdgeEnv {
  nats: RunningServer;
  eventLog: EventLog;
  dir: string;
  close(): Promise<void>;
}

export async function startEdgeEnv(): Promise<EdgeEnv> {
  const nats = await startNats();
  const eventLog = await connectEventLog(nats.url, 'edge-test', quietLog);
  await ensureStreams(eventLog.jsm);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-edge-'));
  return {
    nats, eventLog, dir,
    close: async () => {
      await eventLog.close();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function lastSeq(log: EventLog, stream: StreamName): Promise<number> {
  return (await log.jsm.streams.info(STREAMS[stream].name)).state.last_seq;
}

/** The latest message on `subject`, decoded as JSON, with its sequence; undefined if none. */
export async function latest(log: EventLog, stream: StreamName, subject: string): Promise<{ seq: number; data: any } | undefined> {
  try {
    const m = await log.jsm.streams.getMessage(STREAMS[stream].name, { last_by_subj: subject });
    return { seq: m.seq, data: JSON.parse(Buffer.from(m.data).toString('utf8')) };
  } catch {
    return undefined;
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
