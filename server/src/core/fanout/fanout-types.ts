/**
 * The vocabulary of the fan-out tree: what a node needs to know of a batch, and the effects a node asks its
 * shell to carry out. Transport is the shell's business (RPC between Durable Objects in production, a simulated
 * network in the tests); every effect may be lost, delayed, duplicated or reordered without harm, because the
 * change log, not the tree, is the source of truth.
 */

import type { Lsn } from '@vibestack/proto';
import type { NodeAddress } from './fanout-tree.ts';

/**
 * What the fan-out reads of a batch; the rest (transactions, shapes) travels opaque. A batch holds every
 * transaction with a commit LSN in (`afterLsn`, `throughLsn`], like `LogBatch` (core/session), which satisfies
 * this interface.
 */
export interface PositionedBatch {
  readonly afterLsn: Lsn;
  readonly throughLsn: Lsn;
  /** The log's head when the batch was read. */
  readonly head: Lsn;
}

/** Effects of a {@link FanoutNode}, carried out by its shell in order. */
export type FanoutEffect<B extends PositionedBatch> =
  /** Send the batch to a child shard (`to` is never the root). */
  | { readonly type: 'push'; readonly to: NodeAddress; readonly batch: B }
  /**
   * Tell a child shard the log's head (the root sends beacons while no batch moves, so a shard that missed the
   * last push learns the head). Shards forward beacons down to the leaves but not to subscribers: subscribers
   * learn the head from their lease renewals.
   */
  | { readonly type: 'beacon'; readonly to: NodeAddress; readonly head: Lsn }
  /** Push the batch to a subscriber (the last hop: a leaf to a SyncDO). */
  | { readonly type: 'deliver'; readonly clientId: string; readonly batch: B }
  /**
   * Answer a subscriber's renewal. `head` is a head the subscriber should have reached by now: the newest the
   * leaf knows for a subscriber it was not pushing to, and for one it was, the newest it pushed at least
   * `settleMs` ago (a newer push may still be on its way, and reading the log for it would be wasted); 0 when
   * the leaf knows none yet, e.g. just after a restart. `expiresAt` (ms) is when the subscription lapses unless
   * renewed, or 0 when the leaf did not take it (the client does not belong to this leaf in its topology).
   */
  | {
      readonly type: 'lease';
      readonly clientId: string;
      readonly head: Lsn;
      readonly expiresAt: number;
    };

/** The effect types, for counting. */
export type FanoutEffectType = FanoutEffect<PositionedBatch>['type'];
