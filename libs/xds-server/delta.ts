// Incremental ("delta") discovery (ADS's DeltaAggregatedResources and the per-type services'
// Delta* methods): what to do with each DeltaDiscoveryRequest and each new snapshot. Pure, like
// sotw.ts, with which it shares subscriptions, limits and make-before-break (stream-state.ts).
//
// A resource's version is its content hash (short), so every replica gives the same version for
// the same bytes and a reconnecting client's initial_resource_versions can be compared directly.
// A response carries only resources the client does not hold at that version, and names in
// removed_resources the client holds (or told us it holds) that no longer exist.
import type { DeltaDiscoveryRequest__Output } from '../../protos/generated/envoy/service/discovery/v3/DeltaDiscoveryRequest';
import type { GatewaySnapshot, ResolvedResource } from './snapshot.ts';
import { versionOf } from './snapshot.ts';
import { isWildcardCapable, REFERENCED_TYPES, REFERRING_TYPES, type ControlOutcome, type StreamState } from './stream-state.ts';

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: Array<{ name: string; version: string; resource: { type_url: string; value: Buffer }; aliases: string[] }>;
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export type DeltaOutcome =
  | {
    kind: 'response'; typeUrl: string; version: string; nonce: string; snapshot: string;
    /** Resources sent (changed or newly subscribed) and names removed. */
    names: string[]; removed: string[];
    response: DeltaDiscoveryResponse;
  }
  | ControlOutcome;

const MAX_PENDING = 64;

/** A response not yet ACKed or NACKed. */
interface Pending {
  snapshot: string;
  /** The type's version once the client applies it. */
  version: string;
  /** name → version sent, or null for a removal. */
  changes: Map<string, string | null>;
}

export interface DeltaTypeState {
  typeUrl: string;
  subscription: { wildcard: boolean; names: Set<string> };
  /**
   * name → version the client holds as far as the server knows, updated when a response is sent.
   * A NACK does not roll it back: the rejected content is not re-sent until it changes.
   */
  sent: Map<string, string>;
  /** name → version the client accepted (ACKs applied in order). */
  acked: Map<string, string>;
  pending: Map<string, Pending>;
  /** Names subscribed since the last response: sent even if the client seems to hold them (the spec's RemoveThenAdd). */
  forced: Set<string>;
  /** The type's first request has not been answered yet: answered even when empty. */
  unanswered: boolean;
  /** The client's last verdict was a NACK; cleared when it ACKs with nothing outstanding. */
  rejected: boolean;
  /** The snapshot the type was last brought up to date with. */
  computedFrom?: string;
  ackReported?: string;
}

/** A resource's delta version: its blob hash, shortened; an API listener's is its template's. */
export function resourceVersion(hash: string): string {
  return hash.startsWith('api:') ? `api:${hash.slice(4, 16)}` : hash.slice(0, 16);
}

function typeVersion(held: ReadonlyMap<string, string>): string {
  return versionOf([...held].map(([name, hash]) => ({ name, hash })));
}

function covers(ts: DeltaTypeState, name: string): boolean {
  return ts.subscription.wildcard || ts.subscription.names.has(name);
}

export class DeltaStream {
  constructor(readonly state: StreamState<DeltaTypeState>) {}

  /**
   * One request: possibly an ACK or NACK (response_nonce, error_detail), possibly subscription
   * changes; on the type's first request of the stream, possibly the versions the client already
   * holds. A nonce that names no outstanding response is reported stale, but its subscription
   * changes still apply: in delta they are increments, and dropping one would lose it for good.
   */
  onRequest(req: DeltaDiscoveryRequest__Output, snap: GatewaySnapshot | undefined): DeltaOutcome[] {
    const type = this.state.typeOf(req.type_url);
    if (!type.ok) return [type.outcome];
    const { typeUrl } = type;
    const out: DeltaOutcome[] = [];
    let ts = this.state.types.get(typeUrl);
    if (ts && req.response_nonce) out.push(this.verdict(ts, req));
    if (!ts) {
      ts = this.create(typeUrl, req);
    } else {
      this.unsubscribe(ts, req.resource_names_unsubscribe ?? []);
      this.subscribe(ts, req.resource_names_subscribe ?? []);
    }
    const exhausted = this.state.checkNameLimit(typeUrl);
    if (exhausted) return [...out, exhausted];
    if (snap) {
      const response = this.answer(ts, snap);
      if (response) out.push(response);
      out.push(...this.finishDrain(snap));
    }
    return out;
  }

  /** A new snapshot of the Gateway: every type whose subscribed content changed, in push order. */
  onSnapshot(snap: GatewaySnapshot): DeltaOutcome[] {
    this.state.advance(snap);
    const out: DeltaOutcome[] = [];
    for (const ts of this.state.inPushOrder()) {
      const response = this.answer(ts, snap);
      if (response) out.push(response);
    }
    return [...out, ...this.finishDrain(snap)];
  }

  private create(typeUrl: string, req: DeltaDiscoveryRequest__Output): DeltaTypeState {
    const subscribe = req.resource_names_subscribe ?? [];
    // An empty first request for LDS or CDS is the legacy wildcard; unlike SotW it only ends
    // when the client unsubscribes `*`, since naming resources later is an addition.
    const wildcard = subscribe.includes('*') || (subscribe.length === 0 && isWildcardCapable(typeUrl));
    const ts: DeltaTypeState = {
      typeUrl,
      subscription: { wildcard: wildcard && isWildcardCapable(typeUrl), names: new Set() },
      sent: new Map(), acked: new Map(), pending: new Map(), forced: new Set(),
      unanswered: true, rejected: false,
    };
    this.state.types.set(typeUrl, ts);
    this.subscribe(ts, subscribe);
    // A reconnecting client holds these: what it has at the same version is not sent again, and
    // what it has that no longer exists is removed. Names it no longer subscribes to are ignored.
    for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
      if (!covers(ts, name)) continue;
      ts.sent.set(name, version);
      ts.acked.set(name, version);
      ts.forced.delete(name);
    }
    return ts;
  }

  private subscribe(ts: DeltaTypeState, names: readonly string[]): void {
    for (const name of names) {
      if (name === '*') {
        if (isWildcardCapable(ts.typeUrl)) ts.subscription.wildcard = true;
        continue;
      }
      ts.subscription.names.add(name);
      ts.forced.add(name);
    }
  }

  /**
   * Unsubscribed resources are forgotten, not removed: the client drops them itself, and a
   * removal would only tell it what it already knows. A name still covered by the wildcard stays.
   */
  private unsubscribe(ts: DeltaTypeState, names: readonly string[]): void {
    for (const name of names) {
      if (name === '*') ts.subscription.wildcard = false;
      else {
        ts.subscription.names.delete(name);
        ts.forced.delete(name);
      }
    }
    if (names.length === 0) return;
    for (const name of [...ts.sent.keys()]) {
      if (covers(ts, name)) continue;
      ts.sent.delete(name);
      ts.acked.delete(name);
    }
  }

  private verdict(ts: DeltaTypeState, req: DeltaDiscoveryRequest__Output): DeltaOutcome {
    const nonce = req.response_nonce;
    const pending = ts.pending.get(nonce);
    if (!pending) return { kind: 'stale', typeUrl: ts.typeUrl, nonce, latest: [...ts.pending.keys()].pop() ?? '' };
    ts.pending.delete(nonce);
    const changed = [...pending.changes.keys()];
    if (req.error_detail) {
      ts.rejected = true;
      return {
        kind: 'nack', typeUrl: ts.typeUrl, version: pending.version, snapshot: pending.snapshot, names: changed,
        lastGood: typeVersion(ts.acked), errorDetail: { code: req.error_detail.code ?? 0, message: req.error_detail.message ?? '' },
      };
    }
    for (const [name, version] of pending.changes) {
      if (version === null) ts.acked.delete(name);
      else ts.acked.set(name, version);
    }
    if (ts.pending.size === 0) ts.rejected = false;
    const first = ts.ackReported !== pending.version;
    ts.ackReported = pending.version;
    return { kind: 'ack', typeUrl: ts.typeUrl, version: pending.version, snapshot: pending.snapshot, names: changed, first };
  }

  /** What the client lacks for `snap`: changed or newly subscribed resources, and removals. */
  private answer(ts: DeltaTypeState, snap: GatewaySnapshot): DeltaOutcome | undefined {
    ts.computedFrom = snap.manifest.version;
    const desired = this.state.resolveWithDrain(ts, snap).resources;
    const present = new Set(desired.map((r) => r.name));
    const send: Array<{ r: ResolvedResource; version: string }> = [];
    for (const r of desired) {
      const version = resourceVersion(r.hash);
      if (ts.forced.has(r.name) || ts.sent.get(r.name) !== version) send.push({ r, version });
    }
    const removed = [...ts.sent.keys()].filter((name) => !present.has(name)).sort();
    ts.forced.clear();
    if (send.length === 0 && removed.length === 0 && !ts.unanswered) return undefined;
    ts.unanswered = false;

    const changes = new Map<string, string | null>();
    for (const { r, version } of send) {
      ts.sent.set(r.name, version);
      changes.set(r.name, version);
    }
    for (const name of removed) {
      ts.sent.delete(name);
      changes.set(name, null);
    }
    const nonce = this.state.nextNonce();
    const version = typeVersion(ts.sent);
    ts.pending.set(nonce, { snapshot: snap.manifest.version, version, changes });
    // A client that never answers must not grow the stream without bound; an answer to a nonce
    // dropped here is reported stale.
    if (ts.pending.size > MAX_PENDING) ts.pending.delete(ts.pending.keys().next().value!);
    return {
      kind: 'response', typeUrl: ts.typeUrl, version, nonce, snapshot: snap.manifest.version,
      names: send.map(({ r }) => r.name), removed,
      response: {
        system_version_info: version,
        resources: send.map(({ r, version: v }) => ({ name: r.name, version: v, resource: { type_url: ts.typeUrl, value: r.bytes }, aliases: [] })),
        type_url: ts.typeUrl,
        removed_resources: removed,
        nonce,
      },
    };
  }

  /**
   * Once the client has accepted everything listeners and routes were sent up to `snap`, the
   * clusters, endpoints and secrets only the replaced snapshot had are removed.
   */
  private finishDrain(snap: GatewaySnapshot): DeltaOutcome[] {
    this.state.current ??= snap;
    if (!this.state.draining) return [];
    const settled = REFERRING_TYPES.every((t) => {
      const ts = this.state.types.get(t);
      return !ts || (ts.computedFrom === snap.manifest.version && ts.pending.size === 0 && !ts.rejected);
    });
    if (!settled) return [];
    this.state.draining = undefined;
    const out: DeltaOutcome[] = [];
    for (const ts of this.state.inPushOrder()) {
      if (!REFERENCED_TYPES.has(ts.typeUrl)) continue;
      const response = this.answer(ts, snap);
      if (response) out.push(response);
    }
    return out;
  }
}
