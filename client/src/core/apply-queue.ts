/**
 * The apply pipeline: works wait in a FIFO queue and go to the local store one at a time. Consecutive works of
 * the same kind are grouped into one (one local transaction) up to a size bound, so the backlog that builds up
 * while one apply runs becomes the next, larger group (docs/protocol.md §8.3 allows grouping whole transactions;
 * §6.5 allows several chunks per staging transaction, recording the last cursor).
 */

import type { ApplyWork } from './client-types.ts';

/** A work with the data frames it accounts for and the connection it came from. */
export interface QueuedWork {
  readonly work: ApplyWork;
  readonly frames: number;
  readonly connection: number;
}

/** A work handed to the shell. */
export interface InFlightWork extends QueuedWork {
  readonly id: number;
}

/** The number of changes or rows a work carries (its grouping weight). */
export function workSize(work: ApplyWork): number {
  switch (work.kind) {
    case 'transactions':
    case 'snapshot-handoff':
      return work.transactions.reduce((n, t) => n + t.changes.length, 0);
    case 'snapshot-chunks':
      return work.chunks.reduce((n, c) => n + c.rows.length, 0);
    default:
      return 1;
  }
}

/** Merges `b` into `a` when both can be one local transaction, else returns undefined. */
function merge(a: ApplyWork, b: ApplyWork): ApplyWork | undefined {
  if (a.kind === 'transactions' && b.kind === 'transactions') {
    return { kind: 'transactions', transactions: [...a.transactions, ...b.transactions], lsn: b.lsn };
  }
  if (a.kind === 'snapshot-handoff' && b.kind === 'snapshot-handoff') {
    return { kind: 'snapshot-handoff', transactions: [...a.transactions, ...b.transactions] };
  }
  if (a.kind === 'snapshot-chunks' && b.kind === 'snapshot-chunks' && a.snapshotId === b.snapshotId) {
    return { ...a, chunks: [...a.chunks, ...b.chunks], cursor: b.cursor };
  }
  return undefined;
}

/** How snapshot chunks wait to be staged in larger groups. */
export interface SnapshotHold {
  /** Chunks wait until this many rows are pending (0: never wait). */
  readonly rows: number;
  /**
   * …or this many data frames. Held frames have not given their credit back yet, so this must stay below the
   * credit window (the session uses half of it, the size of a credit grant) or the server would stall.
   */
  readonly frames: number;
}

/** The queue and the one work in flight. */
export class ApplyQueue {
  readonly #pending: QueuedWork[] = [];
  #inFlight: InFlightWork | undefined;
  #nextId = 1;
  readonly #maxGroup: number;
  readonly #hold: SnapshotHold;

  /**
   * @param maxGroupChanges most changes or rows in one grouped work.
   * @param hold staging a snapshot costs a local transaction per group (~3 ms in PGlite, plus a COPY whose
   *   per-row cost falls with size), so chunks wait for company while nothing else is queued behind them.
   */
  constructor(maxGroupChanges: number, hold: SnapshotHold = { rows: 0, frames: 0 }) {
    this.#maxGroup = maxGroupChanges;
    this.#hold = hold;
  }

  /** True while only snapshot chunks are pending and fewer than the hold's rows and frames. */
  #holding(): boolean {
    if (this.#hold.rows <= 0) return false;
    let rows = 0;
    let frames = 0;
    for (const entry of this.#pending) {
      if (entry.work.kind !== 'snapshot-chunks') return false; // Something follows: stage what is there.
      rows += workSize(entry.work);
      frames += entry.frames;
      if (rows >= this.#hold.rows || frames >= this.#hold.frames) return false;
    }
    return true;
  }

  /** True while a work is in flight. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  get inFlight(): InFlightWork | undefined {
    return this.#inFlight;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  push(entry: QueuedWork): void {
    this.#pending.push(entry);
  }

  /** When nothing is in flight (and no snapshot chunks are held): the next (grouped) work, now in flight. */
  take(): InFlightWork | undefined {
    if (this.#inFlight !== undefined || this.#holding()) return undefined;
    const first = this.#pending.shift();
    if (first === undefined) return undefined;
    let { work, frames } = first;
    let size = workSize(work);
    for (let next = this.#pending[0]; next !== undefined; next = this.#pending[0]) {
      const nextSize = workSize(next.work);
      if (next.connection !== first.connection || size + nextSize > this.#maxGroup) break;
      const merged = merge(work, next.work);
      if (merged === undefined) break;
      work = merged;
      frames += next.frames;
      size += nextSize;
      this.#pending.shift();
    }
    this.#inFlight = { id: this.#nextId++, work, frames, connection: first.connection };
    return this.#inFlight;
  }

  /** The in-flight work `id` finished (committed or failed); undefined for an unknown id. */
  finish(id: number): InFlightWork | undefined {
    const done = this.#inFlight;
    if (done === undefined || done.id !== id) return undefined;
    this.#inFlight = undefined;
    return done;
  }

  /** Drops the works not yet handed out (their connection is gone; the server resends them). */
  clearPending(): void {
    this.#pending.length = 0;
  }
}
