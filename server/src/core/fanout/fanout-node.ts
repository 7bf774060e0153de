/**
 * One node of the fan-out tree, sans-IO: the root (the ReplicationDO publishes each batch into it once), an
 * interior shard (forwards to its children) or a leaf shard (forwards to its subscribers). Inputs are method
 * calls with the current time; outputs are {@link FanoutEffect}s.
 *
 * A node holds no durable state. A leaf's subscriber set is soft: subscriptions are leases that the SyncDOs
 * renew, so a shard that restarts empty is whole again within one renewal period, and a SyncDO that went away
 * without saying so drops out when its lease lapses. While a shard is down or empty its subscribers get no
 * pushes; they learn the head from a later push or renewal and read the change log themselves, which is the
 * same path as a slow client's (see `subscriber-cursor.ts`). So the tree only ever decides how fast a batch
 * arrives, never whether a transaction does.
 *
 * ```
 *            publish(batch)
 *                 │
 *             [root L0] ──beacon (idle)──┐
 *           push ╱  ╲ push               │      renew ──► [leaf] ──► lease{head}
 *       [shard L1]  [shard L1]  ◄────────┘      leave ──► [leaf]
 *         ╱    ╲       ╱    ╲
 *     [leaf]  [leaf] [leaf] [leaf] ──deliver(batch)──► SyncDO (continues its cursor, or reads the log)
 * ```
 */

import type { Lsn } from '@vibestack/proto';
import {
  type FanoutNodeOptions,
  type ResolvedFanoutNodeOptions,
  resolveFanoutNodeOptions,
} from './fanout-config.ts';
import {
  childrenOf,
  contains,
  depthOf,
  type FanoutTopology,
  leafOf,
  type NodeAddress,
} from './fanout-tree.ts';
import type { FanoutEffect, PositionedBatch } from './fanout-types.ts';

/**
 * A root or shard of the fan-out tree.
 * @example
 * ```ts
 * const tree = createTopology([64]);
 * const root = new FanoutNode<LogBatch>(ROOT, tree);
 * for (const e of root.onPush(batch, Date.now())) shell.carryOut(e); // 64 pushes, one per shard
 * ```
 */
export class FanoutNode<B extends PositionedBatch> {
  /** Where this node sits in the tree. */
  readonly address: NodeAddress;
  readonly #options: ResolvedFanoutNodeOptions;
  #topology: FanoutTopology;
  #head: Lsn = 0n;
  /** Root only: when it last sent something down (a push or a beacon), ms. */
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** Leaf only: subscriber client id → lease expiry (ms). */
  readonly #subscribers = new Map<string, number>();
  /** Leaf only: the newest head pushed at least `settleMs` ago, and newer heads with when they arrived. */
  #settledHead: Lsn = 0n;
  readonly #unsettled: { readonly head: Lsn; readonly at: number }[] = [];

  constructor(address: NodeAddress, topology: FanoutTopology, options: FanoutNodeOptions = {}) {
    this.address = address;
    this.#topology = topology;
    this.#options = resolveFanoutNodeOptions(options);
  }

  /** The newest head this node has seen (0 until the first push or beacon). */
  get head(): Lsn {
    return this.#head;
  }

  /** True when this node pushes to subscribers rather than to shards. */
  get isLeaf(): boolean {
    return this.address.level === depthOf(this.#topology);
  }

  /** Subscribers with a lease at `now` (leaves only). */
  subscriberCount(now: number): number {
    let n = 0;
    for (const expiresAt of this.#subscribers.values()) if (expiresAt > now) n++;
    return n;
  }

  /** A batch arrived from the parent, or, at the root, a batch to publish: forward it one level down. */
  onPush(batch: B, now: number): FanoutEffect<B>[] {
    this.#learnHead(batch.head, now);
    if (!contains(this.#topology, this.address)) return [];
    if (this.address.level === 0) this.#lastSentAt = now;
    if (!this.isLeaf) {
      return childrenOf(this.#topology, this.address).map((to) => ({ type: 'push', to, batch }));
    }
    const effects: FanoutEffect<B>[] = [];
    for (const [clientId, expiresAt] of this.#subscribers) {
      if (expiresAt <= now) this.#subscribers.delete(clientId);
      else effects.push({ type: 'deliver', clientId, batch });
    }
    return effects;
  }

  /** A beacon arrived from the parent: remember the head and pass it on to child shards. */
  onBeacon(head: Lsn, now: number): FanoutEffect<B>[] {
    this.#learnHead(head, now);
    if (this.isLeaf || !contains(this.#topology, this.address)) return [];
    return childrenOf(this.#topology, this.address).map((to) => ({ type: 'beacon', to, head: this.#head }));
  }

  /**
   * A subscriber (re)subscribes. The leaf takes it when the client belongs here in this node's topology, and
   * answers with a head so that a subscriber that missed pushes learns how far to read the log: the newest head
   * to a subscriber it was not pushing to, and the settled head (pushed `settleMs` ago) to one it was — its
   * newest push may still be in flight, and a read for it would cost the log a read for nothing.
   */
  onRenew(clientId: string, now: number): FanoutEffect<B>[] {
    const pushedTo = (this.#subscribers.get(clientId) ?? 0) > now;
    let expiresAt = 0;
    if (this.#owns(clientId)) {
      expiresAt = now + this.#options.leaseMs;
      this.#subscribers.set(clientId, expiresAt);
    }
    const head = pushedTo ? this.#settled(now) : this.#head;
    return [{ type: 'lease', clientId, head, expiresAt }];
  }

  /** A subscriber leaves (its socket closed). A lost leave only costs pushes until the lease lapses. */
  onLeave(clientId: string): void {
    this.#subscribers.delete(clientId);
  }

  /**
   * The tree was re-planned. Subscribers that no longer belong here are dropped (they renew at their new leaf,
   * and until then read the log); a node that is no longer in the tree goes quiet.
   */
  onTopology(topology: FanoutTopology): void {
    this.#topology = topology;
    for (const clientId of this.#subscribers.keys()) {
      if (!this.#owns(clientId)) this.#subscribers.delete(clientId);
    }
  }

  /**
   * Time passed. The root sends a beacon when it has sent nothing for `beaconIntervalMs` (so the head reaches
   * every leaf even when the last push was lost); a leaf drops lapsed leases.
   */
  tick(now: number): FanoutEffect<B>[] {
    if (this.isLeaf) {
      for (const [clientId, expiresAt] of this.#subscribers) {
        if (expiresAt <= now) this.#subscribers.delete(clientId);
      }
      return [];
    }
    if (this.address.level !== 0 || this.#head === 0n) return [];
    if (now < this.#lastSentAt + this.#options.beaconIntervalMs) return [];
    this.#lastSentAt = now;
    return childrenOf(this.#topology, this.address).map((to) => ({ type: 'beacon', to, head: this.#head }));
  }

  /** When the root next wants a {@link tick} (ms); undefined for shards and before the first publish. */
  nextTickAt(): number | undefined {
    if (this.address.level !== 0 || this.isLeaf || this.#head === 0n) return undefined;
    return this.#lastSentAt + this.#options.beaconIntervalMs;
  }

  #learnHead(head: Lsn, now: number): void {
    if (head <= this.#head) return;
    this.#head = head;
    if (this.isLeaf) this.#unsettled.push({ head, at: now });
  }

  #settled(now: number): Lsn {
    const u = this.#unsettled;
    while (u.length > 0 && u[0]!.at + this.#options.settleMs <= now) this.#settledHead = u.shift()!.head;
    return this.#settledHead;
  }

  #owns(clientId: string): boolean {
    if (!this.isLeaf || !contains(this.#topology, this.address)) return false;
    return leafOf(this.#topology, clientId).index === this.address.index;
  }
}
