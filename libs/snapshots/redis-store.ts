// Snapshots in Redis, as the translator writes them and every xds-server replica reads them:
//   gantry:x:{gw}:<sha256>     one encoded xDS resource (written once, never changed)
//   gantry:snap:{gw}:<version> the manifest (JSON)
//   gantry:head:{gw}           the current version, moved only after the manifest is written
//   gantry:gateways            the set of gateways that have a head
// and, for garbage collection of blobs:
//   gantry:refs:{gw}:<version> the blob hashes a manifest refers to (a set; expires with the manifest)
//   gantry:versions:{gw}       the versions whose manifests may still be present (a set)
//   gantry:blobs:{gw}          every blob hash written for the gateway (a set)
// The {gw} hash tag keeps one gateway's keys in one Redis Cluster slot, so the GC's set algebra
// (SDIFF of the blob index and the live manifests' refs) runs inside Redis.
//   gantry:fence               the newest lease term that wrote (a hash: epoch, revision)
// Every write that moves a head, removes one, deletes or expires anything goes through FENCED_EXEC:
// refused once a newer translator term has written, so a deposed leader's late request cannot roll
// a head back or collect a blob the new leader uses. Blobs and their index entries are
// content-addressed additions, written unfenced: a late one is garbage for the next collection.
import type { Redis } from 'ioredis';
import type { FencingToken } from '../contracts/index.ts';
import { FencedOut } from '../lease/index.ts';
import { referencedHashes, SnapshotManifest } from './manifest.ts';

/** A superseded manifest stays readable this long, for replicas still serving it. */
export const OLD_MANIFEST_TTL_S = 3600;

export const keys = {
  blob: (gw: string, hash: string) => `gantry:x:{${gw}}:${hash}`,
  manifest: (gw: string, version: string) => `gantry:snap:{${gw}}:${version}`,
  head: (gw: string) => `gantry:head:{${gw}}`,
  gateways: 'gantry:gateways',
  refs: (gw: string, version: string) => `gantry:refs:{${gw}}:${version}`,
  versions: (gw: string) => `gantry:versions:{${gw}}`,
  blobIndex: (gw: string) => `gantry:blobs:{${gw}}`,
  fence: 'gantry:fence',
};

/**
 * The fencing token of a writer that holds no lease (benchmarks, tests seeding a Redis of their
 * own): older than every lease term's, so the first translator term to write fences it out.
 */
export const NO_LEASE: FencingToken = { epoch: 0, revision: 1 };

/** A Redis command as its arguments, the name first. */
type Command = [string, ...Array<string | Buffer | number>];

/**
 * KEYS[1]: the fence; ARGV[1], ARGV[2]: the writer's token; then each command as its argument count
 * followed by its arguments. Runs the commands atomically (as MULTI would) and records the token,
 * unless the fence holds a newer one: then runs nothing and returns that.
 */
const FENCED_EXEC = `
local held = redis.call('HMGET', KEYS[1], 'epoch', 'revision')
local epoch, revision = tonumber(ARGV[1]), tonumber(ARGV[2])
local heldEpoch, heldRevision = tonumber(held[1]), tonumber(held[2])
if heldEpoch and (heldEpoch > epoch or (heldEpoch == epoch and heldRevision > revision)) then
  return held
end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'revision', ARGV[2])
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 0
`;

/** `head` followed by `items`, split so that no command unpacks more arguments than Lua's stack holds (about 8000). */
function chunked(head: string[], items: string[]): Command[] {
  const out: Command[] = [];
  for (let i = 0; i < items.length; i += 1000) out.push([head[0]!, ...head.slice(1), ...items.slice(i, i + 1000)]);
  return out;
}

export interface GcResult {
  /** Blobs deleted. */
  collected: number;
  /** Manifests still present (the head's included), whose blobs were kept. */
  liveManifests: number;
}

export class SnapshotWriter {
  /** Hashes known to be in Redis, per gateway: a blob is sent once, not with every snapshot. */
  private readonly written = new Map<string, Set<string>>();
  /** The head this writer last wrote or read, per gateway, to skip a round trip when unchanged. */
  private readonly lastHeads = new Map<string, string>();

  /** `fence`: the token of the lease term writing (libs/lease); every fenced write presents it. */
  constructor(private readonly redis: Redis, private readonly fence: FencingToken) {
    // After a reconnect Redis may have restarted empty: trust nothing cached.
    redis.on('ready', () => {
      this.written.clear();
      this.lastHeads.clear();
    });
  }

  /**
   * Raises the fence to this writer's term before it reads anything, so no write of an older term
   * lands after what it reads. FencedOut when a newer term has written.
   */
  async claim(): Promise<void> {
    await this.fenced('snapshots', []);
  }

  /** Runs `commands` through FENCED_EXEC; FencedOut, naming `resource`, when refused. */
  private async fenced(resource: string, commands: Command[]): Promise<void> {
    const { epoch, revision } = this.fence;
    const held = await this.redis.eval(FENCED_EXEC, 1, keys.fence, epoch, revision, ...commands.flatMap((c) => [c.length, ...c]));
    if (Array.isArray(held)) {
      throw new FencedOut(resource, `Redis refused the write of ${resource}: it has seen lease term ${held[1]}@${held[0]}, newer than this one's ${revision}@${epoch}`);
    }
  }

  /** Stores blobs, then the manifest, then moves the head (fenced). Returns false when the head is already there. */
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
      // Plain SET, not NX: the content is the hash's, and SET clears an expiry a removed Gateway's
      // blobs were given (remove()), should the Gateway come back before they go.
      const p = this.redis.pipeline();
      for (const [hash, bytes] of missing) p.set(keys.blob(gw, hash), bytes);
      p.sadd(keys.blobIndex(gw), missing.map(([hash]) => hash));
      await p.exec();
    }
    const version = manifest.version;
    const commands: Command[] = [
      ['set', keys.manifest(gw, version), JSON.stringify(manifest)],
      ['persist', keys.manifest(gw, version)],
      ['del', keys.refs(gw, version)],
      ...chunked(['sadd', keys.refs(gw, version)], [...blobs.keys()]),
      ['sadd', keys.versions(gw), ...(previous ? [version, previous] : [version])],
      ['persist', keys.versions(gw)],
      ['persist', keys.blobIndex(gw)],
      ['set', keys.head(gw), version],
      ['sadd', keys.gateways, gw],
    ];
    if (previous) commands.push(['expire', keys.manifest(gw, previous), OLD_MANIFEST_TTL_S], ['expire', keys.refs(gw, previous), OLD_MANIFEST_TTL_S]);
    await this.fenced(`gateway ${gw}`, commands);
    this.written.set(gw, new Set(blobs.keys()));
    this.lastHeads.set(gw, version);
    return true;
  }

  /**
   * Deletes the gateway's blobs that no manifest still present refers to: not the head's, nor a
   * superseded one's within its OLD_MANIFEST_TTL_S (a replica may be loading it). Called after the
   * head moves. Safe against one writer per gateway (the active translator): a second writer's blobs
   * written ahead of its manifest could be collected in between.
   */
  async collectGarbage(gw: string): Promise<GcResult> {
    const versions = await this.redis.smembers(keys.versions(gw));
    const head = await this.redis.get(keys.head(gw));
    if (head && !versions.includes(head)) versions.push(head);
    const present = versions.length === 0 ? [] : await this.redis.pipeline(
      versions.flatMap((v) => [['exists', keys.manifest(gw, v)], ['exists', keys.refs(gw, v)]]),
    ).exec();
    const live: string[] = [];
    const gone: string[] = [];
    for (const [i, v] of versions.entries()) {
      const [manifestExists, refsExist] = [present![2 * i][1], present![2 * i + 1][1]];
      if (manifestExists !== 1) { gone.push(v); continue; }
      live.push(v);
      // A manifest written before refs sets existed: derive them, never collect what it uses.
      if (refsExist !== 1) await this.backfillRefs(gw, v);
    }
    if (gone.length > 0) {
      await this.fenced(`gateway ${gw}`, [...chunked(['srem', keys.versions(gw)], gone), ...chunked(['del'], gone.map((v) => keys.refs(gw, v)))]);
    }
    const garbage = await this.redis.sdiff(keys.blobIndex(gw), ...live.map((v) => keys.refs(gw, v)));
    for (let i = 0; i < garbage.length; i += 500) {
      const batch = garbage.slice(i, i + 500);
      await this.fenced(`gateway ${gw}`, [['del', ...batch.map((h) => keys.blob(gw, h))], ['srem', keys.blobIndex(gw), ...batch]]);
    }
    const written = this.written.get(gw);
    if (written) for (const h of garbage) written.delete(h);
    return { collected: garbage.length, liveManifests: live.length };
  }

  private async backfillRefs(gw: string, version: string): Promise<void> {
    const manifest = await readManifest(this.redis, gw, version);
    if (!manifest) return;
    const hashes = [...referencedHashes(manifest)];
    const ttl = await this.redis.ttl(keys.manifest(gw, version));
    const tx = this.redis.multi();
    if (hashes.length > 0) tx.sadd(keys.refs(gw, version), hashes);
    if (ttl > 0) tx.expire(keys.refs(gw, version), ttl);
    await tx.exec();
  }

  /**
   * The gateway is gone: its head is removed and its last manifest left to expire; so are its
   * blobs and GC sets, after the same delay (no later write of the gateway would collect them).
   * A write of the gateway before then persists what it uses again.
   */
  async remove(gw: string): Promise<void> {
    const previous = await this.redis.get(keys.head(gw));
    const hashes = await this.redis.smembers(keys.blobIndex(gw));
    const expiring = [
      ...(previous ? [keys.manifest(gw, previous), keys.refs(gw, previous)] : []),
      ...hashes.map((h) => keys.blob(gw, h)), keys.blobIndex(gw), keys.versions(gw),
    ];
    await this.fenced(`gateway ${gw}`, [
      ['del', keys.head(gw)], ['srem', keys.gateways, gw], ...expiring.map((k): Command => ['expire', k, OLD_MANIFEST_TTL_S]),
    ]);
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
