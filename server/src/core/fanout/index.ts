/**
 * Sharded fan-out of committed transactions, sans-IO: the ReplicationDO publishes each batch into the root of a
 * tree of stateless shards, whose leaves push it to the SyncDOs subscribed there. See server/DESIGN.md
 * ("Scaling past one ReplicationDO") and fanout-simulation.test.ts. Not wired into the Durable Objects yet.
 *
 * Shells use {@link FanoutNode} (the ReplicationDO as the root, a FanoutDO per shard) and
 * {@link SubscriberCursor} (the SyncDO's rule for pushes); planning uses the topology, assignment and cost helpers.
 */

export type { FanoutNodeOptions } from './fanout-config.ts';
export {
  DEFAULT_BEACON_INTERVAL_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_DEGREE,
  DEFAULT_SETTLE_MS,
} from './fanout-config.ts';
export type { BatchCost, FanoutMeter, LevelCount } from './fanout-cost.ts';
export { batchCost, createFanoutMeter } from './fanout-cost.ts';
export { FanoutNode } from './fanout-node.ts';
export type { FanoutTopology, NodeAddress } from './fanout-tree.ts';
export {
  childrenOf,
  contains,
  createTopology,
  depthOf,
  leafOf,
  nodeName,
  nodesAt,
  parentOf,
  pathOf,
  planTopology,
  ROOT,
} from './fanout-tree.ts';
export type { FanoutEffect, FanoutEffectType, PositionedBatch } from './fanout-types.ts';
export { hashClientId, jumpHash, MAX_SHARDS, shardOf } from './shard-assignment.ts';
export type { CursorBatch, ReadRequest, SubscriberLimits } from './subscriber-cursor.ts';
export { SubscriberCursor } from './subscriber-cursor.ts';
