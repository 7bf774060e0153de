/**
 * Acks (docs/protocol.md §8.7): an Ack may not exceed the largest LSN the client could have committed (the resume
 * point, or a SnapshotEnd, last transaction frame or Progress that was sent); smaller or equal Acks are ignored;
 * at most one persist is in flight, and the newest Ack is persisted after it.
 */

import { ErrorCode, type Lsn, maxLsn, SyncError } from '@vibestack/proto';

/** One connection's ack state. */
export class AckTracker {
  #maxAckable: Lsn = 0n;
  #last: Lsn = 0n;
  #inFlight = false;
  readonly #persist: (lsn: Lsn) => void;

  /** @param persist emits the persist effect for an LSN. */
  constructor(persist: (lsn: Lsn) => void) {
    this.#persist = persist;
  }

  /** Starts from the stored Ack and the client's resume point. */
  reset(storedAck: Lsn, resumeLsn: Lsn): void {
    this.#last = storedAck;
    this.#maxAckable = resumeLsn;
  }

  /** The state to continue from, or `undefined` while a persist is in flight (its answer would be lost). */
  checkpoint(): { maxAckable: Lsn; last: Lsn } | undefined {
    return this.#inFlight ? undefined : { maxAckable: this.#maxAckable, last: this.#last };
  }

  /** Continues from a {@link checkpoint}. */
  restore(state: { maxAckable: Lsn; last: Lsn }): void {
    this.#maxAckable = state.maxAckable;
    this.#last = state.last;
    this.#inFlight = false;
  }

  /** A frame the client may Ack after was sent. */
  sent(lsn: Lsn): void {
    this.#maxAckable = maxLsn(this.#maxAckable, lsn);
  }

  /** The client's Ack. @throws SyncError PROTOCOL_VIOLATION beyond what was sent. */
  ack(lsn: Lsn): void {
    if (lsn > this.#maxAckable) {
      throw new SyncError(
        ErrorCode.PROTOCOL_VIOLATION,
        `Ack of ${lsn} is beyond the last LSN sent (${this.#maxAckable})`,
      );
    }
    if (lsn <= this.#last) return;
    this.#last = lsn;
    if (!this.#inFlight) this.#flush();
  }

  /** The shell stored `lsn`. */
  persisted(lsn: Lsn): void {
    this.#inFlight = false;
    if (this.#last > lsn) this.#flush();
  }

  #flush(): void {
    this.#inFlight = true;
    this.#persist(this.#last);
  }
}
