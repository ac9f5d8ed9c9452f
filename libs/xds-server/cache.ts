// The contract between the discovery protocols (state of the world and delta) and where
// snapshots come from. Implementations: services/xds-server/snapshot-cache.ts (Redis + NATS).
import type { GatewaySnapshot } from './snapshot.ts';

export type { GatewaySnapshot };

/**
 * A SnapshotCache holds, per Gateway, the current snapshot: its manifest and every blob it refers
 * to, so that answering a request never waits on I/O.
 *
 * `current` returns what is held and never loads. `watch` registers interest in a Gateway: the
 * first watch of a Gateway loads it from the store; `onSnapshot` is then called (asynchronously,
 * never re-entrantly from `watch` itself) with the snapshot held at that time, if any, and with
 * every newer snapshot after that, in order, each version at most once per watch. A Gateway with
 * no snapshot yet is not an error: the watch simply fires once one is written. The returned
 * function cancels the watch; it is idempotent.
 */
export interface SnapshotCache {
  current(gateway: string): GatewaySnapshot | undefined;
  watch(gateway: string, onSnapshot: (snapshot: GatewaySnapshot) => void): () => void;
}
