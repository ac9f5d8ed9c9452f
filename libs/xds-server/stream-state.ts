// What one discovery stream remembers, and the rules both protocol variants (state of the world in
// sotw.ts, incremental in delta.ts) share: subscriptions, nonces, the per-stream limits, which type
// a request is for, and make-before-break (push order, and serving resources of a replaced
// snapshot until the client has moved off them). Each variant keeps its own per-type state.
import { CLUSTER, ENDPOINT, LISTENER, PUSH_ORDER, ROUTE, SECRET } from '../xds/type-urls.ts';
import type { ProxyIdentity } from './node.ts';
import { resolve, versionOf, type GatewaySnapshot, type Resolved, type Subscription } from './snapshot.ts';

export interface SentResponse {
  version: string;
  nonce: string;
  /** The snapshot version the response was computed from. */
  snapshot: string;
  names: string[];
}

/** State of the world, per type. */
export interface TypeState {
  typeUrl: string;
  subscription: Subscription;
  /** The first request had no names: a wildcard until the client names resources. */
  legacyWildcard: boolean;
  /** The subscription changed since the last response: the next chance to answer must answer. */
  subscriptionChanged: boolean;
  sent?: SentResponse;
  /** The last version the client accepted. A NACK leaves it as it was. */
  acked?: string;
  /** The last version whose ACK was reported, so an ACK is reported once per version. */
  ackReported?: string;
}

/**
 * Outcomes both variants return besides their responses. `end` asks the caller to end the stream
 * with that status: the client broke the stream's contract (a per-type stream asked for another
 * type) or a limit (too many subscribed names); carrying on would serve it something it did not ask for.
 */
export type ControlOutcome =
  /** `first` is false when this version's ACK was already reported on this stream. */
  | { kind: 'ack'; typeUrl: string; version: string; snapshot: string; names: string[]; first: boolean }
  | { kind: 'nack'; typeUrl: string; version: string; snapshot: string; names: string[]; lastGood?: string; errorDetail: { code: number; message: string } }
  | { kind: 'stale'; typeUrl: string; nonce: string; latest: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'end'; typeUrl: string; code: 'invalid-argument' | 'resource-exhausted'; message: string };

export interface StreamOptions {
  /**
   * Set on a per-type service's stream (CDS, EDS, …): requests may omit type_url, and one naming
   * another type ends the stream. Unset on ADS, where every request must name its type.
   */
  onlyType?: string;
  /** The most resource names the stream may subscribe to, over all types. */
  maxNames?: number;
}

export const DEFAULT_MAX_NAMES = 10_000;

/** LDS and CDS support wildcard subscriptions; the other types are always named. */
export function isWildcardCapable(typeUrl: string): boolean {
  return typeUrl === LISTENER || typeUrl === CLUSTER;
}

function sameSubscription(a: Subscription, b: Subscription): boolean {
  if (a.wildcard !== b.wildcard || a.names.size !== b.names.size) return false;
  for (const n of a.names) if (!b.names.has(n)) return false;
  return true;
}

/**
 * The subscription after a request naming `names`, following the xDS rules: for a wildcard-capable
 * type, a first request with no names is a legacy wildcard, which later empty requests keep; `*`
 * is an explicit wildcard; once the client names resources without `*`, it is no longer wildcard.
 */
export function nextSubscription(
  typeUrl: string, previous: Pick<TypeState, 'legacyWildcard'> | undefined, names: readonly string[],
): { subscription: Subscription; legacyWildcard: boolean } {
  const wildcardCapable = isWildcardCapable(typeUrl);
  const named = new Set(names.filter((n) => n !== '*'));
  if (wildcardCapable && names.length === 0 && (previous === undefined || previous.legacyWildcard)) {
    return { subscription: { wildcard: true, names: named }, legacyWildcard: true };
  }
  return { subscription: { wildcard: wildcardCapable && names.includes('*'), names: named }, legacyWildcard: false };
}

export class StreamState<T extends { typeUrl: string; subscription: Subscription } = TypeState> {
  readonly types = new Map<string, T>();
  /** The snapshot the stream is being served from. */
  current?: GatewaySnapshot;
  /** The snapshot `current` replaced, while the client may still use resources only it had. */
  draining?: GatewaySnapshot;
  private nonces = 0;

  constructor(readonly identity: ProxyIdentity, readonly streamId: string, readonly options: StreamOptions = {}) {}

  nextNonce(): string {
    this.nonces += 1;
    return String(this.nonces);
  }

  /**
   * The type a request is for. An empty type_url on a per-type stream is that stream's type (the
   * service implies it); on ADS the request is ignored, as there is no way to tell what it meant.
   */
  typeOf(requested: string): { ok: true; typeUrl: string } | { ok: false; outcome: ControlOutcome } {
    const only = this.options.onlyType;
    if (only === undefined) {
      return requested
        ? { ok: true, typeUrl: requested }
        : { ok: false, outcome: { kind: 'invalid', message: 'a request on ADS must set type_url' } };
    }
    if (requested === '' || requested === only) return { ok: true, typeUrl: only };
    return {
      ok: false,
      outcome: { kind: 'end', typeUrl: requested, code: 'invalid-argument', message: `this stream serves ${only} only; got a request for ${requested}` },
    };
  }

  /** An `end` outcome when the stream now subscribes to more names than it may. */
  checkNameLimit(typeUrl: string): ControlOutcome | undefined {
    const max = this.options.maxNames ?? DEFAULT_MAX_NAMES;
    let count = 0;
    for (const ts of this.types.values()) count += ts.subscription.names.size;
    if (count <= max) return undefined;
    return {
      kind: 'end', typeUrl, code: 'resource-exhausted',
      message: `the stream subscribes to ${count} resource names; at most ${max} are allowed per stream (GANTRY_XDS_MAX_NAMES)`,
    };
  }

  /** State of the world: applies a request's resource names; creates the type's state on its first request. */
  subscribe(this: StreamState<TypeState>, typeUrl: string, names: readonly string[]): TypeState {
    const previous = this.types.get(typeUrl);
    const next = nextSubscription(typeUrl, previous, names);
    if (!previous) {
      const created: TypeState = { typeUrl, ...next, subscriptionChanged: true };
      this.types.set(typeUrl, created);
      return created;
    }
    if (!sameSubscription(previous.subscription, next.subscription)) previous.subscriptionChanged = true;
    previous.subscription = next.subscription;
    previous.legacyWildcard = next.legacyWildcard;
    return previous;
  }

  /** The stream's types in make-before-break order: PUSH_ORDER first, then any other the client asked for. */
  inPushOrder(): T[] {
    const known = PUSH_ORDER.map((t) => this.types.get(t)).filter((t): t is T => t !== undefined);
    const others = [...this.types.values()].filter((t) => !(PUSH_ORDER as readonly string[]).includes(t.typeUrl));
    return [...known, ...others];
  }

  /**
   * The resources of one type for `snap`, plus, while a replaced snapshot drains, the referenced
   * resources (clusters, endpoints, secrets) only it had: a client still routing to a dropped
   * cluster must not be told it is gone before it has the listeners and routes that dropped it.
   */
  resolveWithDrain(ts: T, snap: GatewaySnapshot): Resolved {
    const current = resolve(snap, ts.typeUrl, ts.subscription);
    if (!this.draining || !REFERENCED_TYPES.has(ts.typeUrl)) return current;
    const names = new Set(current.resources.map((r) => r.name));
    const kept = resolve(this.draining, ts.typeUrl, ts.subscription).resources.filter((r) => !names.has(r.name));
    if (kept.length === 0) return current;
    const resources = [...current.resources, ...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { version: versionOf(resources), resources };
  }

  /**
   * Records `snap` as the stream's current snapshot; the one it replaces drains, unless no
   * listeners or routes are served here (a CDS-only stream), which could not refer to it.
   */
  advance(snap: GatewaySnapshot): void {
    const referring = REFERRING_TYPES.some((t) => this.types.has(t));
    if (this.current && this.current !== snap && referring) this.draining = this.current;
    this.current = snap;
  }
}

/** Types that listeners and routes point at, kept while a replaced snapshot drains. */
export const REFERENCED_TYPES: ReadonlySet<string> = new Set([CLUSTER, ENDPOINT, SECRET]);
/** Types whose acceptance ends the drain. */
export const REFERRING_TYPES: readonly string[] = [LISTENER, ROUTE];
