// A Gateway's snapshot as an xds-server holds it (manifest + the blobs it references), and how a
// subscription is resolved against it: which (name, hash, bytes) a response of one type carries.
// Pure: no I/O. Blobs are served exactly as the translator stored them, never re-encoded, except
// API listeners, which are the stored template with the requested name.
import { referencedHashes, type SnapshotManifest, type ApiListenerEntry } from '../snapshots/manifest.ts';
import { decode, encodeUnchecked, sha256 } from '../xds/encode.ts';
import { LISTENER, ROUTE, typeNameOf } from '../xds/type-urls.ts';

export interface GatewaySnapshot {
  gateway: string;
  manifest: SnapshotManifest;
  /** sha256 → encoded resource, for every hash the manifest refers to. */
  blobs: ReadonlyMap<string, Buffer>;
  /** Built API listeners, `<template hash> <name>` → bytes; carried over between snapshots. */
  apiListeners: Map<string, Buffer>;
}

/** What a client subscribed to for one type. */
export interface Subscription {
  wildcard: boolean;
  names: ReadonlySet<string>;
}

export interface ResolvedResource {
  name: string;
  /** Identifies the content: a blob hash, or `api:<template hash>` for a built API listener. */
  hash: string;
  bytes: Buffer;
}

export interface Resolved {
  version: string;
  resources: ResolvedResource[];
}

/** Per-type version: a short hash of the sorted (name, hash) pairs, the same on every replica. */
export function versionOf(pairs: Array<{ name: string; hash: string }>): string {
  const sorted = pairs.map((p) => `${p.name}\u0000${p.hash}`).sort();
  return sha256(sorted.join('\n')).slice(0, 12);
}

/** Splits `host` or `host:port` (the port only when numeric), lower-casing the host. */
export function splitHostPort(name: string): { host: string; port?: number } {
  const m = /^(.*):(\d{1,5})$/.exec(name);
  if (m && !m[1].includes(':')) return { host: m[1].toLowerCase(), port: Number(m[2]) };
  return { host: name.toLowerCase() };
}

/** Gateway listener hostname matching: exact, `*.suffix` (one or more labels), or `*`. */
export function hostnameAccepts(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return p === host;
}

/** The API listener entry answering a proxyless client's `host` or `host:port` LDS name. */
export function findApiListener(entries: readonly ApiListenerEntry[], name: string): ApiListenerEntry | undefined {
  const { host, port } = splitHostPort(name);
  return entries.find((e) => (port === undefined || e.port === port) && e.hostnames.some((h) => hostnameAccepts(h, host)));
}

const LISTENER_TYPE = typeNameOf(LISTENER);

function apiListener(snap: GatewaySnapshot, entry: ApiListenerEntry, name: string): ResolvedResource | undefined {
  const key = `${entry.template} ${name}`;
  let bytes = snap.apiListeners.get(key);
  if (!bytes) {
    const template = snap.blobs.get(entry.template);
    if (!template) return undefined;
    const listener = decode(LISTENER_TYPE, template);
    listener.name = name;
    bytes = encodeUnchecked(LISTENER_TYPE, listener);
    snap.apiListeners.set(key, bytes);
  }
  return { name, hash: `api:${entry.template}`, bytes };
}

function lookup(snap: GatewaySnapshot, typeUrl: string, name: string): ResolvedResource | undefined {
  const { manifest, blobs } = snap;
  let hash = manifest.resources[typeUrl]?.[name];
  if (hash === undefined && typeUrl === ROUTE) hash = manifest.grpcRoutes[name];
  if (hash === undefined && typeUrl === LISTENER) {
    const entry = findApiListener(manifest.apiListeners, name);
    return entry ? apiListener(snap, entry, name) : undefined;
  }
  const bytes = hash === undefined ? undefined : blobs.get(hash);
  return bytes && hash ? { name, hash, bytes } : undefined;
}

/**
 * The resources of one type a subscription gets from a snapshot: with a wildcard, every resource of
 * the type in `manifest.resources` (for LDS: the socket listeners), plus each named one that exists.
 * Names that do not exist are left out (they are sent once they appear).
 */
export function resolve(snap: GatewaySnapshot, typeUrl: string, sub: Subscription): Resolved {
  // Streams of one Gateway mostly hold the same subscriptions (Envoys of one deployment): each is
  // resolved, sorted and hashed once per snapshot and shared, not once per stream. Callers never
  // change a Resolved. Bounded: past the cap, further subscriptions are resolved every time.
  const key = subscriptionKey(typeUrl, sub);
  let cache = resolutions.get(snap);
  const hit = cache?.get(key);
  if (hit) return hit;
  const resolved = resolveUncached(snap, typeUrl, sub);
  if (!cache) resolutions.set(snap, (cache = new Map()));
  if (cache.size < MAX_RESOLUTIONS_PER_SNAPSHOT) cache.set(key, resolved);
  return resolved;
}

const resolutions = new WeakMap<GatewaySnapshot, Map<string, Resolved>>();
const MAX_RESOLUTIONS_PER_SNAPSHOT = 4096;

function subscriptionKey(typeUrl: string, sub: Subscription): string {
  const names = sub.names.size <= 1 ? [...sub.names].join('') : [...sub.names].sort().join('\n');
  return `${typeUrl}\n${sub.wildcard ? '*' : '-'}\n${names}`;
}

function resolveUncached(snap: GatewaySnapshot, typeUrl: string, sub: Subscription): Resolved {
  const out = new Map<string, ResolvedResource>();
  if (sub.wildcard) {
    for (const [name, hash] of Object.entries(snap.manifest.resources[typeUrl] ?? {})) {
      const bytes = snap.blobs.get(hash);
      if (bytes) out.set(name, { name, hash, bytes });
    }
  }
  for (const name of sub.names) {
    if (out.has(name)) continue;
    const r = lookup(snap, typeUrl, name);
    if (r) out.set(name, r);
  }
  const resources = [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { version: versionOf(resources), resources };
}

/**
 * Assembles the next snapshot of a gateway from its manifest, blobs already held (`known`) and
 * freshly fetched ones; built API listeners whose template is still referenced are kept.
 */
export function nextSnapshot(
  manifest: SnapshotManifest,
  known: ReadonlyMap<string, Buffer>,
  fetched: ReadonlyMap<string, Buffer>,
  previous?: GatewaySnapshot,
): GatewaySnapshot {
  const blobs = new Map<string, Buffer>();
  for (const h of referencedHashes(manifest)) {
    const b = fetched.get(h) ?? known.get(h);
    if (!b) throw new Error(`snapshot ${manifest.version} of ${manifest.gateway}: blob ${h} was not fetched`);
    blobs.set(h, b);
  }
  const templates = new Set(manifest.apiListeners.map((a) => a.template));
  const apiListeners = new Map<string, Buffer>();
  for (const [key, bytes] of previous?.apiListeners ?? []) {
    if (templates.has(key.slice(0, key.indexOf(' ')))) apiListeners.set(key, bytes);
  }
  return { gateway: manifest.gateway, manifest, blobs, apiListeners };
}
