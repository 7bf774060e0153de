/**
 * An in-memory local store for the model test of the client session: it runs apply works with the semantics of
 * docs/protocol.md §6.4 and §8.4 (for the `items` test relation) and commits them only when told, so a test can
 * interleave commits, failures and crashes with frames. Test-only.
 */

import { type Lsn, UNCHANGED, valueTypeOfColumn } from '@vibestack/proto';
import type { ApplyWork, ResumeState, SnapshotPosition, TextTransaction } from '../client-types.ts';
import { textOfRow } from '../relations.ts';

/** Rows of `items` by id (text). */
export type Items = Map<string, string | null>;

/** Applies transactions to a copy of `rows` (§8.4). */
export function applyTransactions(rows: Items, transactions: readonly TextTransaction[]): Items {
  const out = new Map(rows);
  for (const t of transactions) {
    for (const c of t.changes) {
      if (c.op === 'insert') out.set(c.row[0]!, c.row[1]!);
      else if (c.op === 'delete') out.delete(c.key[0]!);
      else if (c.op === 'truncate') out.clear();
      else {
        const [id, title] = c.row as [string, string | null | typeof UNCHANGED];
        if (title !== UNCHANGED) out.set(id, title);
        // An update with unchanged values of a missing row is skipped; of an existing row it keeps the value.
      }
    }
  }
  return out;
}

/** The committed state plus at most one work in flight. */
export class MemoryStore {
  synced: Items = new Map();
  appliedLsn: Lsn = 0n;
  staging: Items | undefined;
  position: SnapshotPosition | undefined;
  inFlight: { id: number; work: ApplyWork } | undefined;
  /** Commit LSNs of the transactions applied to the synced state, in order (duplicates show up here). */
  readonly appliedCommits: Lsn[] = [];

  begin(id: number, work: ApplyWork): void {
    if (this.inFlight !== undefined) throw new Error(`apply ${id} while ${this.inFlight.id} is in flight`);
    this.inFlight = { id, work };
  }

  /** Commits the work in flight; returns its id. */
  commit(): number {
    const { id, work } = this.inFlight!;
    this.inFlight = undefined;
    switch (work.kind) {
      case 'transactions': {
        let previous = this.appliedLsn;
        for (const t of work.transactions) {
          // Exactly once, in order (§8.9): a transaction at or below the applied LSN is a duplicate.
          if (t.commitLsn <= previous)
            throw new Error(`transaction ${t.commitLsn} applied after ${previous}`);
          previous = t.commitLsn;
          this.appliedCommits.push(t.commitLsn);
        }
        this.synced = applyTransactions(this.synced, work.transactions);
        this.appliedLsn = work.lsn;
        break;
      }
      case 'snapshot-begin':
        this.staging = new Map();
        this.position = undefined;
        break;
      case 'snapshot-chunks':
        this.staging ??= new Map();
        for (const chunk of work.chunks) {
          const types = chunk.relation.columns.map(valueTypeOfColumn);
          for (const r of chunk.rows) {
            const [id, title] = textOfRow(types, r);
            this.staging.set(id!, title!);
          }
        }
        this.position = { snapshotId: work.snapshotId, cursor: work.cursor };
        break;
      case 'snapshot-handoff':
        this.staging = applyTransactions(this.staging ?? new Map(), work.transactions);
        break;
      case 'snapshot-commit':
        this.synced = this.staging ?? new Map();
        this.staging = undefined;
        this.position = undefined;
        this.appliedLsn = work.lsn;
        this.appliedCommits.length = 0;
        break;
    }
    return id;
  }

  /** Rolls back the work in flight; returns its id. */
  rollback(): number {
    const { id } = this.inFlight!;
    this.inFlight = undefined;
    return id;
  }

  /** What a restarted client loads. */
  resumeState(): ResumeState {
    return this.position === undefined
      ? { appliedLsn: this.appliedLsn }
      : { appliedLsn: this.appliedLsn, snapshot: this.position };
  }
}
