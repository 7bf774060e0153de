/**
 * What a subscriber (a SyncDO session) does with a pushed batch. The session keeps one cursor — every
 * transaction with a commit LSN ≤ cursor is queued for its client — and the change log is its buffer:
 *
 * - a pushed batch is used only when it continues the cursor (`afterLsn ≤ cursor`) and the outbox has room;
 *   transactions at or below the cursor in it are skipped, so a duplicate or an overlapping batch is harmless;
 * - any other push (it starts past the cursor: an earlier push was lost, late or reordered, or the client is
 *   slow) is dropped, but its head is kept, and the session reads the log after its cursor instead;
 * - a read's answer is always used (it was asked for after the cursor of that time).
 *
 * This is the rule of `LogStream.onBatch` / `LogStream.maybeRead` in core/session (docs/protocol.md §10.4),
 * without the transformation to client frames, so the fan-out can be simulated with many thousands of
 * subscribers. A change to one must be made in the other. Transactions here are whole; the session also takes
 * them in parts, and then additionally drops a batch that does not continue its half-sent transaction exactly
 * (which, like every other drop, only makes it read the log).
 */

import { type Lsn, maxLsn } from '@vibestack/proto';
import type { PositionedBatch } from './fanout-types.ts';

const NONE: readonly never[] = Object.freeze([]);

/** A pushed batch or a read's answer. */
export interface CursorBatch<T> extends PositionedBatch {
  /** The read answered; absent for pushes. */
  readonly requestId?: number;
  /** Transactions in commit order: every one in (`afterLsn`, `throughLsn`]. */
  readonly transactions: readonly T[];
}

/** Backlog bounds, as in the session config. */
export interface SubscriberLimits {
  /** Pushes are dropped while the outbox holds this many frames (`maxQueuedFrames`). */
  readonly maxQueued: number;
  /** The log is read only while the outbox holds fewer frames than this (`lowWater`). */
  readonly lowWater: number;
  /** Transactions per log read (`logReadLimit`). */
  readonly readLimit: number;
}

/** A read of the change log the subscriber asks for: transactions after `afterLsn`, at most `limit`. */
export interface ReadRequest {
  readonly requestId: number;
  readonly afterLsn: Lsn;
  readonly limit: number;
}

/**
 * The cursor of one subscriber.
 * @example
 * ```ts
 * const sub = new SubscriberCursor<LogTransaction>((t) => t.header.commitLsn, { cursor: acked, head }, limits);
 * queue(sub.onBatch(pushed, outbox.length)); // [] when the push does not continue the cursor
 * const read = sub.nextRead(outbox.length);  // then read the log after sub.cursor
 * ```
 */
export class SubscriberCursor<T> {
  readonly #commitLsnOf: (tx: T) => Lsn;
  readonly #limits: SubscriberLimits;
  #cursor: Lsn;
  #head: Lsn;
  #reading: number | undefined;
  #nextRequestId = 1;

  constructor(commitLsnOf: (tx: T) => Lsn, start: { cursor: Lsn; head: Lsn }, limits: SubscriberLimits) {
    this.#commitLsnOf = commitLsnOf;
    this.#limits = limits;
    this.#cursor = start.cursor;
    this.#head = start.head;
  }

  /** Every transaction with a commit LSN ≤ this was handed out (by {@link onBatch}). */
  get cursor(): Lsn {
    return this.#cursor;
  }

  /** The newest head seen. */
  get head(): Lsn {
    return this.#head;
  }

  /** The read in flight, if any. */
  get reading(): number | undefined {
    return this.#reading;
  }

  /** True when the cursor is behind the head and no read is in flight (a read waits only for outbox room). */
  get wantsRead(): boolean {
    return this.#reading === undefined && this.#cursor < this.#head;
  }

  /**
   * A push or a read's answer arrived, with the outbox holding `outboxLength` frames. Returns the transactions
   * to queue, in commit order (none when the batch does not continue the cursor).
   */
  onBatch(batch: CursorBatch<T>, outboxLength: number): readonly T[] {
    if (batch.requestId !== undefined && batch.requestId === this.#reading) this.#reading = undefined;
    this.#head = maxLsn(this.#head, batch.head);
    const usable =
      batch.afterLsn <= this.#cursor &&
      (batch.requestId !== undefined || outboxLength < this.#limits.maxQueued);
    if (!usable) return NONE;
    const out: T[] = [];
    for (const tx of batch.transactions) {
      const lsn = this.#commitLsnOf(tx);
      if (lsn <= this.#cursor) continue;
      out.push(tx);
      this.#cursor = lsn;
    }
    this.#cursor = maxLsn(this.#cursor, batch.throughLsn);
    return out;
  }

  /** The head moved (a lease answer or a beacon relayed by the shell). */
  onHead(head: Lsn): void {
    this.#head = maxLsn(this.#head, head);
  }

  /** The read to start now, if the cursor is behind the head, no read is in flight and the outbox has room. */
  nextRead(outboxLength: number): ReadRequest | undefined {
    if (!this.wantsRead || outboxLength >= this.#limits.lowWater) return undefined;
    this.#reading = this.#nextRequestId++;
    return { requestId: this.#reading, afterLsn: this.#cursor, limit: this.#limits.readLimit };
  }
}
