// What one ADS stream remembers, per resource type: the subscription, the last response sent
// (version, nonce, snapshot) and the last version acknowledged. Shared by the protocol variants
// (state of the world in sotw.ts; delta later), which decide what to send from it.
import { CLUSTER, LISTENER } from '../xds/type-urls.ts';
import type { ProxyIdentity } from './node.ts';
import type { GatewaySnapshot, Subscription } from './snapshot.ts';

export interface SentResponse {
  version: string;
  nonce: string;
  /** The snapshot version the response was computed from. */
  snapshot: string;
  names: string[];
}

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
  typeUrl: string, previous: TypeState | undefined, names: readonly string[],
): { subscription: Subscription; legacyWildcard: boolean } {
  const wildcardCapable = isWildcardCapable(typeUrl);
  const named = new Set(names.filter((n) => n !== '*'));
  if (wildcardCapable && names.length === 0 && (previous === undefined || previous.legacyWildcard)) {
    return { subscription: { wildcard: true, names: named }, legacyWildcard: true };
  }
  return { subscription: { wildcard: wildcardCapable && names.includes('*'), names: named }, legacyWildcard: false };
}

export class StreamState {
  readonly types = new Map<string, TypeState>();
  /** The snapshot the stream is being served from. */
  current?: GatewaySnapshot;
  /** The snapshot `current` replaced, while the client may still use resources only it had. */
  draining?: GatewaySnapshot;
  private nonces = 0;

  constructor(readonly identity: ProxyIdentity, readonly streamId: string) {}

  nextNonce(): string {
    this.nonces += 1;
    return String(this.nonces);
  }

  /** Applies a request's resource names; creates the type's state on its first request. */
  subscribe(typeUrl: string, names: readonly string[]): TypeState {
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
}
