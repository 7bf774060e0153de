/**
 * Cost accounting of the fan-out: what a batch costs per hop on paper ({@link batchCost}), and what the nodes
 * actually sent ({@link createFanoutMeter}). The point of the tree is that the root sends one push per child
 * shard, `degrees[0]`, whatever the number of subscribers, and that no node sends more than its degree (or its
 * share of subscribers, at a leaf); the total stays one push per subscriber plus one per shard.
 */

import { depthOf, type FanoutTopology, nodesAt } from './fanout-tree.ts';
import type { FanoutEffect, FanoutEffectType, PositionedBatch } from './fanout-types.ts';

/** The cost of one batch on paper, every node up and subscribers spread evenly over the leaves. */
export interface BatchCost {
  /** Hops from the root to a subscriber (`depth + 1`). */
  readonly hops: number;
  /** Messages sent at each hop: hop `h` (index `h − 1`) is sent by the nodes of level `h − 1`. */
  readonly perHop: readonly number[];
  /** The most messages one node sends at each hop (its degree; at a leaf its share of the subscribers). */
  readonly perNode: readonly number[];
  /** All messages of the batch (the sum of `perHop`). */
  readonly total: number;
}

/**
 * Messages one batch costs in a tree with `subscribers` subscribers.
 * @example
 * ```ts
 * batchCost(planTopology(1_000_000, 100), 1_000_000);
 * // { hops: 3, perHop: [100, 10_000, 1_000_000], perNode: [100, 100, 100], total: 1_010_100 }
 * ```
 */
export function batchCost(topology: FanoutTopology, subscribers: number): BatchCost {
  const depth = depthOf(topology);
  const perHop: number[] = [];
  const perNode: number[] = [];
  for (let level = 0; level < depth; level++) {
    perHop.push(nodesAt(topology, level + 1));
    perNode.push(topology.degrees[level]!);
  }
  perHop.push(subscribers);
  perNode.push(Math.ceil(subscribers / nodesAt(topology, depth)));
  return { hops: depth + 1, perHop, perNode, total: perHop.reduce((a, b) => a + b, 0) };
}

/** Messages of each kind sent by the nodes of one level. */
export type LevelCount = Record<FanoutEffectType, number>;

/** Counts the messages nodes send, per level of the sender. */
export interface FanoutMeter {
  /** Counts the effects a node of `level` produced; returns how many there were. */
  record(level: number, effects: readonly FanoutEffect<PositionedBatch>[]): number;
  /** Counts per sender level (index = level; 0 is the root). */
  byLevel(): readonly LevelCount[];
  /** Counts over all levels. */
  total(): LevelCount;
}

const zero = (): LevelCount => ({ push: 0, beacon: 0, deliver: 0, lease: 0 });

/** A meter starting at zero. */
export function createFanoutMeter(): FanoutMeter {
  const levels: LevelCount[] = [];
  return {
    record(level, effects) {
      while (levels.length <= level) levels.push(zero());
      const counts = levels[level]!;
      for (const e of effects) counts[e.type]++;
      return effects.length;
    },
    byLevel: () => levels.map((c) => ({ ...c })),
    total() {
      const sum = zero();
      for (const c of levels) for (const k of Object.keys(sum) as FanoutEffectType[]) sum[k] += c[k];
      return sum;
    },
  };
}
