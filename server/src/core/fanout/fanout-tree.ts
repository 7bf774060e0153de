/**
 * The shape of the fan-out tree. The root (the ReplicationDO) is level 0; below it are `degrees.length` levels
 * of shards (FanoutDOs); level `l` has `degrees[0] × … × degrees[l-1]` shards and every shard of level `l` has
 * `degrees[l]` children. The last level's shards are the leaves: each keeps the subscribers (SyncDOs) that hash
 * to it ({@link leafOf}) and pushes to them. With no levels (`degrees = []`) the root is the leaf, which is the
 * single-DO design of today.
 *
 * Only leaves hold (soft) state, so interior shards are addressed by arithmetic alone: the children of shard
 * `(l, i)` are `(l + 1, i × D + k)` for `k < D = degrees[l]`, its parent is `(l − 1, ⌊i / degrees[l − 1]⌋)`.
 * Changing the degrees re-wires every interior shard for free; only leaf membership moves (see
 * `shard-assignment.ts`).
 */

import { DEFAULT_MAX_DEGREE } from './fanout-config.ts';
import { MAX_SHARDS, shardOf } from './shard-assignment.ts';

/** The fan-out degree of every level below the root. */
export interface FanoutTopology {
  /** `degrees[l]`: how many children each node of level `l` has (level 0 is the root). Each ≥ 1. */
  readonly degrees: readonly number[];
}

/** A node of the tree: `level` 0 is the root (index 0), `level = degrees.length` are the leaves. */
export interface NodeAddress {
  readonly level: number;
  readonly index: number;
}

/** The root's address. */
export const ROOT: NodeAddress = { level: 0, index: 0 };

/**
 * Checks and freezes a topology.
 * @throws RangeError when a degree is not a positive integer or the leaves would exceed {@link MAX_SHARDS}.
 * @example
 * ```ts
 * const tree = createTopology([64, 64]); // 64 shards, 4,096 leaves
 * ```
 */
export function createTopology(degrees: readonly number[]): FanoutTopology {
  let leaves = 1;
  for (const d of degrees) {
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`a fan-out degree must be ≥ 1, got ${d}`);
    leaves *= d;
  }
  if (leaves > MAX_SHARDS) throw new RangeError(`${leaves} leaves exceed ${MAX_SHARDS}`);
  return Object.freeze({ degrees: Object.freeze([...degrees]) });
}

/** The leaves' level (= the number of shard levels). */
export function depthOf(topology: FanoutTopology): number {
  return topology.degrees.length;
}

/** How many nodes level `level` has (1 for the root). */
export function nodesAt(topology: FanoutTopology, level: number): number {
  let n = 1;
  for (let l = 0; l < level; l++) n *= topology.degrees[l]!;
  return n;
}

/** True when `node` exists in this topology. */
export function contains(topology: FanoutTopology, node: NodeAddress): boolean {
  return (
    Number.isInteger(node.level) &&
    node.level >= 0 &&
    node.level <= depthOf(topology) &&
    Number.isInteger(node.index) &&
    node.index >= 0 &&
    node.index < nodesAt(topology, node.level)
  );
}

/** The children of an interior node (the root included); none for a leaf. */
export function childrenOf(topology: FanoutTopology, node: NodeAddress): NodeAddress[] {
  if (node.level >= depthOf(topology)) return [];
  const d = topology.degrees[node.level]!;
  const children: NodeAddress[] = [];
  for (let k = 0; k < d; k++) children.push({ level: node.level + 1, index: node.index * d + k });
  return children;
}

/** The parent of a shard; undefined for the root. */
export function parentOf(topology: FanoutTopology, node: NodeAddress): NodeAddress | undefined {
  if (node.level === 0) return undefined;
  return { level: node.level - 1, index: Math.floor(node.index / topology.degrees[node.level - 1]!) };
}

/** The leaf a client subscribes at (a stable function of the client id and the number of leaves). */
export function leafOf(topology: FanoutTopology, clientId: string): NodeAddress {
  const level = depthOf(topology);
  return { level, index: shardOf(clientId, nodesAt(topology, level)) };
}

/** The nodes a push to `clientId` passes, root first, its leaf last (`depth + 1` nodes, `depth + 1` hops). */
export function pathOf(topology: FanoutTopology, clientId: string): NodeAddress[] {
  const path: NodeAddress[] = [];
  for (let n: NodeAddress | undefined = leafOf(topology, clientId); n; n = parentOf(topology, n))
    path.push(n);
  return path.reverse();
}

/** A stable name for a node (the Durable Object name of a shard), e.g. `fanout/2/417`. */
export function nodeName(node: NodeAddress): string {
  return `fanout/${node.level}/${node.index}`;
}

/**
 * The smallest tree in which no node sends more than `maxDegree` pushes per batch for `clients` subscribers
 * (assuming they spread evenly over the leaves): `L` levels of degree `maxDegree` with the last level's degree
 * trimmed, where `L` is the least with `maxDegree^(L+1) ≥ clients`. A batch then takes `L + 1` hops.
 * `maxDegree` defaults to {@link DEFAULT_MAX_DEGREE}.
 * @example
 * ```ts
 * planTopology(1_000_000, 100).degrees; // [100, 100]: 10,000 leaves of ~100 SyncDOs, 3 hops
 * ```
 * @throws RangeError unless `clients` ≥ 0 and `maxDegree` ≥ 2 are integers.
 */
export function planTopology(clients: number, maxDegree = DEFAULT_MAX_DEGREE): FanoutTopology {
  if (!Number.isInteger(clients) || clients < 0) throw new RangeError(`clients must be ≥ 0, got ${clients}`);
  if (!Number.isInteger(maxDegree) || maxDegree < 2) {
    throw new RangeError(`maxDegree must be ≥ 2, got ${maxDegree}`);
  }
  const neededLeaves = Math.ceil(clients / maxDegree);
  const degrees: number[] = [];
  let leaves = 1;
  while (leaves < neededLeaves) {
    const d = Math.min(maxDegree, Math.ceil(neededLeaves / leaves));
    degrees.push(d);
    leaves *= d;
  }
  return createTopology(degrees);
}
