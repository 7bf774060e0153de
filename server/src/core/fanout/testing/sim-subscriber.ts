/**
 * A simulated subscriber (a SyncDO with one connected client): a {@link SubscriberCursor} plus an outbox that
 * drains at a fixed rate (fast or slow clients), a lease renewal loop, and reads of the log. Every transaction
 * it queues is checked against the log on the spot: it must be the log's next transaction after the last one
 * queued, so a gap, a duplicate or a reordering is reported as a violation when it happens. Test-only.
 */

import type { Lsn } from '@vibestack/proto';
import { type ReadRequest, SubscriberCursor, type SubscriberLimits } from '../subscriber-cursor.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimBatch, SimLog, SimTx } from './sim-log.ts';
import type { SimNetwork } from './sim-network.ts';

/** What a subscriber reaches of the simulated world. */
export interface SubscriberHost {
  readonly log: SimLog;
  readonly network: SimNetwork;
  readonly queue: EventQueue;
  /** Sends a renewal to the subscriber's leaf (in the topology of now). */
  renew(subscriber: SimSubscriber): void;
  /** Sends a leave to the subscriber's leaf. */
  leave(subscriber: SimSubscriber): void;
  /** The next renewal's delay, ms (jittered). */
  renewDelay(): number;
  violation(message: string): void;
}

/** How a subscriber behaves. */
export interface SubscriberProfile {
  /** Frames the client takes off the outbox per ms. */
  readonly drainPerMs: number;
  readonly limits: SubscriberLimits;
  /** Builds the cursor; default {@link SubscriberCursor} (tests plug in broken ones to see the checks fail). */
  readonly cursor?: CursorFactory;
}

/** Builds a subscriber's cursor. */
export type CursorFactory = (
  start: { cursor: Lsn; head: Lsn },
  limits: SubscriberLimits,
) => SubscriberCursor<SimTx>;

/** One simulated subscriber. */
export class SimSubscriber {
  readonly clientId: string;
  /** The cursor it started from (its acknowledged LSN). */
  readonly startCursor: Lsn;
  readonly joinedAt: number;
  leftAt: number | undefined;
  /** Transactions queued from pushes, from reads, and reads made. */
  pushedTx = 0;
  readTx = 0;
  reads = 0;
  lastQueuedLsn: Lsn;
  lastQueuedAt: number;
  readonly #host: SubscriberHost;
  readonly #profile: SubscriberProfile;
  readonly #cursor: SubscriberCursor<SimTx>;
  #queued = 0;
  /** The index in the log of the transaction this subscriber must queue next. */
  #next: number;
  #drainedAt: number;
  #wakeAt: number | undefined;

  constructor(
    host: SubscriberHost,
    clientId: string,
    start: { cursor: Lsn; head: Lsn },
    profile: SubscriberProfile,
  ) {
    this.#host = host;
    this.clientId = clientId;
    this.startCursor = start.cursor;
    this.lastQueuedLsn = start.cursor;
    this.joinedAt = host.queue.now;
    this.lastQueuedAt = host.queue.now;
    this.#drainedAt = host.queue.now;
    this.#next = host.log.indexAfter(start.cursor);
    this.#profile = profile;
    this.#cursor =
      profile.cursor?.(start, profile.limits) ??
      new SubscriberCursor<SimTx>((tx) => tx.commitLsn, start, profile.limits);
  }

  /** The cursor: everything up to here is queued. */
  get cursor(): Lsn {
    return this.#cursor.cursor;
  }

  get active(): boolean {
    return this.leftAt === undefined;
  }

  /** Subscribes, renews from then on, and catches up from the log if behind. */
  start(): void {
    const renew = (): void => {
      if (!this.active) return;
      this.#host.renew(this);
      this.#host.queue.after(this.#host.renewDelay(), renew);
    };
    renew();
    this.#pump();
  }

  /** The client disconnected. */
  leave(): void {
    if (!this.active) return;
    this.leftAt = this.#host.queue.now;
    this.#host.leave(this);
  }

  /** A leaf pushed a batch. */
  onPush(batch: SimBatch): void {
    if (!this.active) return;
    this.#queue(this.#cursor.onBatch(batch, this.#outbox()), 'push');
    this.#pump();
  }

  /** A leaf answered a renewal. */
  onLease(head: Lsn): void {
    if (!this.active) return;
    this.#cursor.onHead(head);
    this.#pump();
  }

  #onReadAnswer(batch: SimBatch): void {
    if (!this.active) return;
    this.#queue(this.#cursor.onBatch(batch, this.#outbox()), 'read');
    this.#pump();
  }

  #queue(txs: readonly SimTx[], via: 'push' | 'read'): void {
    const log = this.#host.log;
    for (const tx of txs) {
      const expected = log.transactions[this.#next];
      if (tx !== expected) {
        this.#host.violation(
          `${this.clientId} queued ${tx.commitLsn} (${via}) after ${this.lastQueuedLsn}; the log's next is ${expected?.commitLsn}`,
        );
      }
      this.lastQueuedLsn = tx.commitLsn;
      this.#next = tx.seq + 1;
      this.lastQueuedAt = this.#host.queue.now;
      this.#queued++;
      if (via === 'push') this.pushedTx++;
      else this.readTx++;
    }
  }

  /** Reads the log when the cursor wants it, or wakes up when the outbox will have drained enough. */
  #pump(): void {
    const request = this.#cursor.nextRead(this.#outbox());
    if (request !== undefined) {
      this.#read(request);
      return;
    }
    if (!this.#cursor.wantsRead || this.#wakeAt !== undefined) return;
    const excess = this.#queued - this.#profile.limits.lowWater + 1;
    const delay = Math.max(1, Math.ceil(excess / this.#profile.drainPerMs));
    this.#wakeAt = this.#host.queue.now + delay;
    this.#host.queue.after(delay, () => {
      this.#wakeAt = undefined;
      if (this.active) this.#pump();
    });
  }

  #read(request: ReadRequest): void {
    this.reads++;
    const log = this.#host.log;
    this.#host.network.call(
      () => log.read(request.afterLsn, request.limit, request.requestId),
      (answer) => this.#onReadAnswer(answer),
    );
  }

  /** Frames in the outbox now (the client drains it at its rate). */
  #outbox(): number {
    const now = this.#host.queue.now;
    this.#queued = Math.max(0, this.#queued - (now - this.#drainedAt) * this.#profile.drainPerMs);
    this.#drainedAt = now;
    return Math.ceil(this.#queued);
  }
}
