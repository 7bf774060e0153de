/**
 * Flow-control credit as the client counts it (docs/protocol.md §10): outstanding = granted − data frames
 * received; consumed frames are granted back in batches of half the initial window (§10.2).
 */

import { ErrorCode, MAX_OUTSTANDING_CREDIT, SyncError } from '@vibestack/proto';

/** One connection's credit. */
export class CreditWindow {
  #outstanding: number;
  #consumed = 0;
  readonly #batch: number;

  /** @param initial `Hello.initial_credit` as the server takes it (0 already mapped to the default). */
  constructor(initial: number) {
    this.#outstanding = initial;
    this.#batch = Math.max(1, Math.floor(initial / 2));
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  /** A data frame arrived. @throws SyncError PROTOCOL_VIOLATION when no credit was outstanding (§10.1). */
  receive(): void {
    if (this.#outstanding <= 0) {
      throw new SyncError(ErrorCode.PROTOCOL_VIOLATION, 'a data frame without credit');
    }
    this.#outstanding--;
  }

  /** `frames` were consumed; returns the credit to grant now, if a batch is due. */
  consume(frames: number): number | undefined {
    this.#consumed += frames;
    if (this.#consumed < this.#batch) return undefined;
    const grant = Math.min(this.#consumed, MAX_OUTSTANDING_CREDIT - this.#outstanding);
    if (grant <= 0) return undefined;
    this.#consumed -= grant;
    this.#outstanding += grant;
    return grant;
  }
}
