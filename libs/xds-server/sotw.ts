// State-of-the-world ADS: what to do with each DiscoveryRequest and each new snapshot of the
// stream's Gateway. Pure: it returns outcomes (responses to write, ACKs and NACKs to report,
// requests ignored) and the caller does the I/O and logging.
import type { DiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DiscoveryRequest';
import { CLUSTER, ENDPOINT, LISTENER, PUSH_ORDER, ROUTE, SECRET } from '../xds/type-urls.ts';
import { resolve, versionOf, type GatewaySnapshot, type Resolved } from './snapshot.ts';
import type { StreamState, TypeState } from './stream-state.ts';

export interface DiscoveryResponse {
  version_info: string;
  resources: Array<{ type_url: string; value: Buffer }>;
  type_url: string;
  nonce: string;
}

export type SotwOutcome =
  | { kind: 'response'; typeUrl: string; version: string; nonce: string; snapshot: string; names: string[]; response: DiscoveryResponse }
  /** `first` is false when this version's ACK was already reported on this stream. */
  | { kind: 'ack'; typeUrl: string; version: string; snapshot: string; names: string[]; first: boolean }
  | { kind: 'nack'; typeUrl: string; version: string; snapshot: string; names: string[]; lastGood?: string; errorDetail: { code: number; message: string } }
  | { kind: 'stale'; typeUrl: string; nonce: string; latest: string }
  | { kind: 'invalid'; message: string };

/** Types in make-before-break order: the PUSH_ORDER ones first, then any other the client asked for. */
function inPushOrder(state: StreamState): TypeState[] {
  const known = PUSH_ORDER.map((t) => state.types.get(t)).filter((t): t is TypeState => t !== undefined);
  const others = [...state.types.values()].filter((t) => !(PUSH_ORDER as readonly string[]).includes(t.typeUrl));
  return [...known, ...others];
}

/**
 * Types that listeners and routes point at. Make-before-break: when a snapshot drops one of these,
 * the stream keeps serving it (from the snapshot it replaced) until the client has ACKed the
 * listeners and routes that no longer refer to it. Otherwise a SotW response without a cluster
 * the client still uses would tell it the cluster does not exist while its routes still point there.
 */
const REFERENCED_TYPES: ReadonlySet<string> = new Set([CLUSTER, ENDPOINT, SECRET]);
const REFERRING_TYPES = [LISTENER, ROUTE];

/** The resources of `ts` for `snap`, plus, while a replaced snapshot drains, what only it had. */
function resolveWithDrain(state: StreamState, ts: TypeState, snap: GatewaySnapshot): Resolved {
  const current = resolve(snap, ts.typeUrl, ts.subscription);
  if (!state.draining || !REFERENCED_TYPES.has(ts.typeUrl)) return current;
  const names = new Set(current.resources.map((r) => r.name));
  const kept = resolve(state.draining, ts.typeUrl, ts.subscription).resources.filter((r) => !names.has(r.name));
  if (kept.length === 0) return current;
  const resources = [...current.resources, ...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { version: versionOf(resources), resources };
}

/** Answers a type if the subscription changed or its content differs from what was last sent. */
function answer(state: StreamState, ts: TypeState, snap: GatewaySnapshot): SotwOutcome | undefined {
  const resolved = resolveWithDrain(state, ts, snap);
  if (!ts.subscriptionChanged && ts.sent?.version === resolved.version) return undefined;
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
    const typeUrl = req.type_url;
    if (!typeUrl) return [{ kind: 'invalid', message: 'a DiscoveryRequest on ADS must set type_url' }];
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
    if (snap) {
      const response = answer(this.state, ts, snap);
      if (response) out.push(response);
      out.push(...this.finishDrain(snap));
    }
    return out;
  }

  /** A new snapshot of the Gateway: every subscribed type whose content changed, in push order. */
  onSnapshot(snap: GatewaySnapshot): SotwOutcome[] {
    if (this.state.current && this.state.current !== snap) this.state.draining = this.state.current;
    this.state.current = snap;
    const out: SotwOutcome[] = [];
    for (const ts of inPushOrder(this.state)) {
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
    for (const ts of inPushOrder(this.state)) {
      if (!REFERENCED_TYPES.has(ts.typeUrl)) continue;
      const response = answer(this.state, ts, snap);
      if (response) out.push(response);
    }
    return out;
  }
}
