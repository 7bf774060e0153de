/**
 * The simulated change log: transactions with increasing commit LSNs and a head that may run ahead of the last
 * one (commits of tables nobody syncs). It is the single source of truth of the simulation, like the DO SQLite
 * log in production. Test-only.
 */

import type { Lsn } from '@vibestack/proto';
import type { CursorBatch } from '../subscriber-cursor.ts';

/** A logged transaction: its commit LSN and its position in the log. */
export interface SimTx {
  readonly commitLsn: Lsn;
  readonly seq: number;
}

/** A batch of the simulated log (a push or a read's answer). */
export type SimBatch = CursorBatch<SimTx>;

/** An append-only log with reads after an LSN. */
export class SimLog {
  readonly transactions: SimTx[] = [];
  #head: Lsn;

  constructor(head: Lsn) {
    this.#head = head;
  }

  /** Every transaction with a commit LSN ≤ head is logged. */
  get head(): Lsn {
    return this.#head;
  }

  /** Commits a transaction `gap` (≥ 1) above the head. */
  append(gap: number): SimTx {
    const tx = { commitLsn: this.#head + BigInt(gap), seq: this.transactions.length };
    this.transactions.push(tx);
    this.#head = tx.commitLsn;
    return tx;
  }

  /** Moves the head by `gap` without a transaction for anyone. */
  advance(gap: number): void {
    this.#head += BigInt(gap);
  }

  /** The index of the first transaction with a commit LSN above `lsn`. */
  indexAfter(lsn: Lsn): number {
    let lo = 0;
    let hi = this.transactions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.transactions[mid]!.commitLsn <= lsn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Up to `limit` transactions after `afterLsn`; `throughLsn` is the head when the read reached it. */
  read(afterLsn: Lsn, limit: number, requestId?: number): SimBatch {
    const from = this.indexAfter(afterLsn);
    const transactions = this.transactions.slice(from, from + limit);
    const reachedHead = from + limit >= this.transactions.length;
    const throughLsn = reachedHead ? this.#head : transactions[transactions.length - 1]!.commitLsn;
    const through = throughLsn > afterLsn ? throughLsn : afterLsn;
    const batch = { afterLsn, throughLsn: through, head: this.#head, transactions };
    return requestId === undefined ? batch : { ...batch, requestId };
  }
}
