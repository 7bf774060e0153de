/**
 * Credit-based flow control of data frames (docs/protocol.md §10): a bounded FIFO of data frames and the
 * server's credit count. Control frames never pass through here; they are sent at once.
 */

import { ErrorCode, type Lsn, MAX_OUTSTANDING_CREDIT, type ServerMessage, SyncError } from '@vibestack/proto';

/** A queued data frame and what sending it means for the session. */
export interface OutFrame {
  readonly message: ServerMessage;
  /** After this frame the client may Ack this LSN (a transaction's last frame, SnapshotEnd, Progress). */
  readonly ackable?: Lsn;
  /** This frame ends the snapshot or the catch-up: the session is LIVE once it is sent. */
  readonly entersLive?: boolean;
}

/** The queue of data frames and the credit that lets them out. */
export class Outbox {
  #credit: number;
  #queue: OutFrame[] = [];

  constructor(initialCredit: number) {
    this.#credit = initialCredit;
  }

  /** Outstanding credit, in data frames. */
  get credit(): number {
    return this.#credit;
  }

  /** Queued data frames. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Adds a client's `Credit`.
   * @throws SyncError MALFORMED_FRAME for 0 frames, PROTOCOL_VIOLATION when credit would exceed 65 535.
   */
  grant(frames: number): void {
    if (frames === 0) throw new SyncError(ErrorCode.MALFORMED_FRAME, 'Credit.frames must be at least 1');
    if (this.#credit + frames > MAX_OUTSTANDING_CREDIT) {
      throw new SyncError(
        ErrorCode.PROTOCOL_VIOLATION,
        `Credit of ${frames} raises outstanding credit above ${MAX_OUTSTANDING_CREDIT}`,
      );
    }
    this.#credit += frames;
  }

  enqueue(frame: OutFrame): void {
    this.#queue.push(frame);
  }

  /**
   * Queues a Progress, or replaces the queued Progress at the tail (a newer one says everything the older one
   * says, so a slow client never gets a run of them).
   */
  enqueueProgress(frame: OutFrame): void {
    const last = this.#queue[this.#queue.length - 1];
    if (last?.message.message.case === 'progress' && last.entersLive !== true) this.#queue.pop();
    this.#queue.push(frame);
  }

  /** Takes the next frame if credit allows (and consumes one credit). */
  next(): OutFrame | undefined {
    if (this.#credit === 0 || this.#queue.length === 0) return undefined;
    this.#credit--;
    return this.#queue.shift();
  }
}
