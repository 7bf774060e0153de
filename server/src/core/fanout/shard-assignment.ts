/**
 * Client id → shard. A client's SyncDO subscribes at one fan-out shard; which one is a pure function of the
 * client id and the shard count, so the SyncDO, the shard and the root agree without asking each other.
 *
 * The function is a jump consistent hash (Lamping & Veach, 2014) over a 32-bit hash of the id, not
 * `hash mod F`: both are stable and uniform, but when the shard count changes from `F` to `F'`, `mod` moves
 * almost every client (all but ~1/max(F, F')), while the jump hash moves only the clients that must move —
 * growing from `F` to `F' > F` moves `(F' − F) / F'` of them, each to one of the new shards, and shrinking moves
 * only the clients of the removed shards. Shards hold no durable state (the change log is the single source), so
 * a moved client loses nothing either way: until its SyncDO renews its subscription at the new shard it gets no
 * pushes, and it learns the head from its lease renewal and reads the log (see `fanout-shard.ts`). The jump hash
 * just keeps that window small for few clients.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** 2^32, to map a uint32 into (0, 1]. */
const TWO_POW_32 = 4_294_967_296;

/** The most shards {@link shardOf} accepts (the jump hash's doubles stay exact far beyond it). */
export const MAX_SHARDS = 1 << 24;

/**
 * A stable 32-bit hash of a client id: FNV-1a over its UTF-16 code units, then the murmur3 finaliser so that ids
 * differing only in their last characters spread over all bits. The same in every runtime, forever: changing it
 * moves every client, like a full reshard.
 */
export function hashClientId(clientId: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < clientId.length; i++) {
    h ^= clientId.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return fmix32(h);
}

/**
 * Jump consistent hash: maps `key` (a uint32) to a bucket in [0, `buckets`). For a fixed key, the bucket for
 * `buckets + 1` is either the bucket for `buckets` or the new bucket `buckets`, which is what makes it
 * consistent. The pseudo-random steps come from a 32-bit generator seeded by the key (the original uses a
 * 64-bit LCG; any generator that depends on the key alone keeps the property).
 * @throws RangeError unless `buckets` is an integer in 1–{@link MAX_SHARDS}.
 */
export function jumpHash(key: number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_SHARDS) {
    throw new RangeError(`buckets must be an integer within 1–${MAX_SHARDS}, got ${buckets}`);
  }
  let state = key >>> 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    state = (state + 0x9e3779b9) >>> 0;
    // r is uniform in (0, 1]: the next bucket boundary at which this key would jump.
    const r = (fmix32(state) + 1) / TWO_POW_32;
    j = Math.floor((b + 1) / r);
  }
  return b;
}

/**
 * The shard (0 ≤ shard < `shardCount`) a client subscribes at.
 * @example
 * ```ts
 * const shard = shardOf('5b2f1f0e-8a43-4f1e-9d55-2a6b1c7d9e10', 64); // the same number on every call
 * ```
 * @throws RangeError unless `shardCount` is an integer in 1–{@link MAX_SHARDS}.
 */
export function shardOf(clientId: string, shardCount: number): number {
  return jumpHash(hashClientId(clientId), shardCount);
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
