// Publishing to a JetStream stream its lease holder alone writes (REPORTS: the translator), fenced by
// the term. Every publish expects the stream's last sequence to be the one this writer knows, so
// anything another writer got in first makes it fail. A term starts by publishing its marker
// (`gantry.term/v1`) that way: from then on, whatever a deposed holder still has in flight expects
// an older last sequence and is refused, whichever subject it is on, while what landed before is in
// the stream for the new term to read. The stream itself is the fenced store: its consumers need
// no change, and a compacted replay never meets a late event.
import type { z } from 'zod';
import { subjects, TERM_SCHEMA, TermEventSchema, type StreamSpec } from '../contracts/index.ts';
import { isWrongLastSequence, publishEvent, type EventLog } from '../eventlog/index.ts';
import { FencedOut, type Term } from './index.ts';

/** Claims retried while late publishes land between reading the last sequence and publishing the marker. */
const CLAIM_ATTEMPTS = 5;

export class FencedStream {
  /** The stream's last sequence as this writer knows it: what every publish expects. */
  private lastSeq = 0;

  constructor(private readonly events: EventLog, private readonly stream: StreamSpec, private readonly term: Term) {}

  /**
   * Publishes the term's marker expecting the last sequence read just before; a deposed holder's
   * publish landing in between makes that fail, and it is tried again (a holder has one publish in
   * flight at most). FencedOut when publishes keep landing: someone else writes the stream.
   */
  async claim(): Promise<void> {
    const { lease, holder, fence } = this.term;
    const subject = subjects.term(this.stream);
    const marker = { schema: TERM_SCHEMA, lease, holder, fence, emittedAt: new Date().toISOString() };
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const { state } = await this.events.jsm.streams.info(this.stream.name);
      try {
        const ack = await publishEvent(this.events.js, TermEventSchema, subject, marker, `${subject}@${fence.epoch}/${fence.revision}`, { lastSequence: state.last_seq });
        this.lastSeq = ack.seq;
        return;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw new FencedOut(this.stream.name, `${this.stream.name} kept moving while lease ${lease} claimed it: another process publishes there`);
  }

  /**
   * publishEvent, expecting the stream's last sequence this writer knows: FencedOut once anything
   * it does not know of has landed (a newer term's marker; or a publish of ours that timed out yet
   * landed: the term ends all the same, and the next, claimed afresh, reads the stream again). The
   * message id names that sequence too: the same event re-sent on the same position is
   * de-duplicated (and its sequence learnt), a revert to an earlier content within the duplicate
   * window is a new message.
   */
  async publish<S extends z.ZodType>(schema: S, subject: string, event: z.input<S>, msgId: string): Promise<void> {
    try {
      const ack = await publishEvent(this.events.js, schema, subject, event, `${msgId}@after:${this.lastSeq}`, { lastSequence: this.lastSeq });
      this.lastSeq = ack.seq;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw new FencedOut(subject, `${this.stream.name} has moved past sequence ${this.lastSeq}, the last this term of lease ${this.term.lease} knew: a newer term (or another writer) has published, or a publish whose answer was lost landed`);
    }
  }
}
