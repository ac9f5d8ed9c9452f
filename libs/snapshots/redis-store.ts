// Snapshots in Redis, as the translator writes them and every xds-server replica reads them:
//   gantry:x:{gw}:<sha256>     one encoded xDS resource (written once, never changed)
//   gantry:snap:{gw}:<version> the manifest (JSON)
//   gantry:head:{gw}           the current version, moved only after the manifest is written
//   gantry:gateways            the set of gateways that have a head
// The {gw} hash tag keeps one gateway's keys in one Redis Cluster slot.
import type { Redis } from 'ioredis';
import { SnapshotManifest } from './manifest.ts';

/** A superseded manifest stays readable this long, for replicas still serving it. */
const OLD_MANIFEST_TTL_S = 3600;

export const keys = {
  blob: (gw: string, hash: string) => `gantry:x:{${gw}}:${hash}`,
  manifest: (gw: string, version: string) => `gantry:snap:{${gw}}:${version}`,
  head: (gw: string) => `gantry:head:{${gw}}`,
  gateways: 'gantry:gateways',
};

export class SnapshotWriter {
  /** Hashes known to be in Redis, per gateway: a blob is sent once, not with every snapshot. */
  private readonly written = new Map<string, Set<string>>();
  /** The head this writer last wrote or read, per gateway, to skip a round trip when unchanged. */
  private readonly lastHeads = new Map<string, string>();

  constructor(private readonly redis: Redis) {
    // After a reconnect Redis may have restarted empty: trust nothing cached.
    redis.on('ready', () => {
      this.written.clear();
      this.lastHeads.clear();
    });
  }

  /** Stores blobs, then the manifest, then moves the head. Returns false when the head is already there. */
  async write(manifest: SnapshotManifest, blobs: Map<string, Buffer>): Promise<boolean> {
    const gw = manifest.gateway;
    if (this.lastHeads.get(gw) === manifest.version) return false;
    const previous = await this.redis.get(keys.head(gw));
    if (previous === manifest.version) {
      this.lastHeads.set(gw, previous);
      return false;
    }
    const known = this.written.get(gw) ?? new Set<string>();
    const missing = [...blobs].filter(([hash]) => !known.has(hash));
    if (missing.length > 0) {
      const p = this.redis.pipeline();
      for (const [hash, bytes] of missing) p.set(keys.blob(gw, hash), bytes, 'NX');
      await p.exec();
    }
    const tx = this.redis.multi();
    tx.set(keys.manifest(gw, manifest.version), JSON.stringify(manifest));
    tx.persist(keys.manifest(gw, manifest.version));
    tx.set(keys.head(gw), manifest.version);
    tx.sadd(keys.gateways, gw);
    if (previous) tx.expire(keys.manifest(gw, previous), OLD_MANIFEST_TTL_S);
    await tx.exec();
    this.written.set(gw, new Set(blobs.keys()));
    this.lastHeads.set(gw, manifest.version);
    return true;
  }

  /** The gateway is gone: its head is removed and its last manifest left to expire. */
  async remove(gw: string): Promise<void> {
    const previous = await this.redis.get(keys.head(gw));
    const tx = this.redis.multi().del(keys.head(gw)).srem(keys.gateways, gw);
    if (previous) tx.expire(keys.manifest(gw, previous), OLD_MANIFEST_TTL_S);
    await tx.exec();
    this.written.delete(gw);
    this.lastHeads.delete(gw);
  }

  async heads(): Promise<Map<string, string>> {
    return readHeads(this.redis);
  }
}

export async function readHeads(redis: Redis): Promise<Map<string, string>> {
  const gws = await redis.smembers(keys.gateways);
  if (gws.length === 0) return new Map();
  const versions = await redis.mget(gws.map(keys.head));
  const out = new Map<string, string>();
  gws.forEach((gw, i) => {
    if (versions[i]) out.set(gw, versions[i]!);
  });
  return out;
}

export async function readHead(redis: Redis, gw: string): Promise<string | null> {
  return redis.get(keys.head(gw));
}

export async function readManifest(redis: Redis, gw: string, version: string): Promise<SnapshotManifest | null> {
  const raw = await redis.get(keys.manifest(gw, version));
  return raw === null ? null : SnapshotManifest.parse(JSON.parse(raw));
}

/** Fetches blobs by hash; a missing one is an error (a manifest must never outlive its blobs). */
export async function readBlobs(redis: Redis, gw: string, hashes: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  if (hashes.length === 0) return out;
  const values = await redis.mgetBuffer(hashes.map((h) => keys.blob(gw, h)));
  hashes.forEach((h, i) => {
    const v = values[i];
    if (!v) throw new Error(`snapshot blob ${h} of gateway ${gw} is missing from Redis`);
    out.set(h, v);
  });
  return out;
}
