// State-of-the-world discovery (ADS, and the per-type services' Stream* methods): what to do with
// each DiscoveryRequest and each new snapshot of the stream's Gateway. Pure: it returns outcomes
// (responses to write, ACKs and NACKs to report, requests ignored, streams to end) and the caller
// does the I/O and logging. Shares subscriptions, limits and make-before-break with delta.ts
// through stream-state.ts.
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import type { GatewaySnapshot } from './snapshot.ts';
import { REFERENCED_TYPES, REFERRING_TYPES, type ControlOutcome, type StreamState, type TypeState } from './stream-state.ts';

export interface DiscoveryResponse {
  version_info: string;
  resources: Array<{ type_url: string; value: Buffer }>;
  type_url: string;
  nonce: string;
}

export type SotwOutcome =
  | { kind: 'response'; typeUrl: string; version: string; nonce: string; snapshot: string; names: string[]; response: DiscoveryResponse }
  | ControlOutcome;

/** Answers a type if the subscription changed or its content differs from what was last sent. */
function answer(state: StreamState, ts: TypeState, snap: GatewaySnapshot): SotwOutcome | undefined {
  const resolved = state.resolveWithDrain(ts, snap);
  if (!ts.subscriptionChanged && ts.sent?.version === resolved.version) {
    // The same content is what `snap` gives too: an ACK of it counts as accepting `snap`, so a
    // snapshot that leaves listeners and routes alone can still end a drain.
    ts.sent.snapshot = snap.manifest.version;
    return undefined;
  }
  const nonce = state.nextNonce();
  const names = resolved.resources.map((r) => r.name);
  ts.sent = { version: resolved.version, nonce, snapshot: snap.manifest.version, names };
  ts.subscriptionChanged = false;
  return {
    kind: 'response', typeUrl: ts.typeUrl, version: resolved.version, nonce, snapshot: snap.manifest.version, names,
    response: {
      version_info: resolved.version,
      resources: resolved.resources.map((r) => ({ type_url: ts.typeUrl, value: r.bytes })),
      type_url: ts.typeUrl,
      nonce,
    },
  };
}

export class SotwStream {
  constructor(readonly state: StreamState) {}

  /**
   * One request: an ACK or NACK of the latest response of its type (or, on the first request of a
   * type, none), possibly changing the subscription. A request whose nonce is not the latest sent
   * for its type is stale: the client has not seen the newest response yet, so it is ignored.
   */
  onRequest(req: DiscoveryRequest__Output, snap: GatewaySnapshot | undefined): SotwOutcome[] {
    const type = this.state.typeOf(req.type_url);
    if (!type.ok) return [type.outcome];
    const { typeUrl } = type;
    const out: SotwOutcome[] = [];
    const existing = this.state.types.get(typeUrl);
    const sent = existing?.sent;
    if (existing && sent) {
      if (req.response_nonce !== sent.nonce) return [{ kind: 'stale', typeUrl, nonce: req.response_nonce, latest: sent.nonce }];
      if (req.error_detail) {
        out.push({
          kind: 'nack', typeUrl, version: sent.version, snapshot: sent.snapshot, names: sent.names, lastGood: existing.acked,
          errorDetail: { code: req.error_detail.code ?? 0, message: req.error_detail.message ?? '' },
        });
      } else {
        existing.acked = sent.version;
        const first = existing.ackReported !== sent.version;
        existing.ackReported = sent.version;
        out.push({ kind: 'ack', typeUrl, version: sent.version, snapshot: sent.snapshot, names: sent.names, first });
      }
    }
    const ts = this.state.subscribe(typeUrl, req.resource_names ?? []);
    const exhausted = this.state.checkNameLimit(typeUrl);
    if (exhausted) return [...out, exhausted];
    if (snap) {
      const response = answer(this.state, ts, snap);
      if (response) out.push(response);
      out.push(...this.finishDrain(snap));
    }
    return out;
  }

  /** A new snapshot of the Gateway: every subscribed type whose content changed, in push order. */
  onSnapshot(snap: GatewaySnapshot): SotwOutcome[] {
    this.state.advance(snap);
    const out: SotwOutcome[] = [];
    for (const ts of this.state.inPushOrder()) {
      const response = answer(this.state, ts, snap);
      if (response) out.push(response);
    }
    return [...out, ...this.finishDrain(snap)];
  }

  /** Once listeners and routes of `snap` are ACKed, resources only the old snapshot had are removed. */
  private finishDrain(snap: GatewaySnapshot): SotwOutcome[] {
    this.state.current ??= snap;
    if (!this.state.draining) return [];
    const settled = REFERRING_TYPES.every((t) => {
      const ts = this.state.types.get(t);
      return !ts?.sent || (ts.sent.snapshot === snap.manifest.version && ts.acked === ts.sent.version);
    });
    if (!settled) return [];
    this.state.draining = undefined;
    const out: SotwOutcome[] = [];
    for (const ts of this.state.inPushOrder()) {
      if (!REFERENCED_TYPES.has(ts.typeUrl)) continue;
      const response = answer(this.state, ts, snap);
      if (response) out.push(response);
    }
    return out;
  }
}
