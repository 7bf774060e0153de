/**
 * Reassembles server transactions from their frames (docs/protocol.md §8.2) and turns their changes into text
 * changes (§8.1, §8.4). A transaction is handed on only when its last frame arrived (§8.3).
 */

import { ErrorCode, type Lsn, SyncError, type Transaction } from '@vibestack/proto';
import type { TextChange, TextTransaction } from './client-types.ts';
import { fullRow, keyRow, type RelationRegistry, updateRow } from './relations.ts';

const violation = (message: string) => new SyncError(ErrorCode.PROTOCOL_VIOLATION, message);

/** What one Transaction frame amounts to. */
export type AssembledFrame =
  /** More frames of this transaction follow (this one is buffered, or skipped). */
  | { readonly kind: 'partial' }
  /** The last frame of a transaction to apply. */
  | { readonly kind: 'complete'; readonly transaction: TextTransaction }
  /** The last frame of a skipped transaction. */
  | { readonly kind: 'skipped' };

/** Decides, at a transaction's first frame, whether to apply it; throws for an out-of-order commit LSN. */
export type AdmitTransaction = (commitLsn: Lsn) => 'apply' | 'skip';

/** Converts the changes of one frame with the descriptors in force now (§5 rule 3). */
export function textChanges(registry: RelationRegistry, frame: Transaction): TextChange[] {
  return frame.changes.map((change): TextChange => {
    const k = change.kind;
    switch (k.case) {
      case 'insert': {
        const known = registry.get(k.value.relationId);
        return { op: 'insert', relation: known.relation, row: fullRow(known, k.value.newRow) };
      }
      case 'update': {
        const known = registry.get(k.value.relationId);
        const row = updateRow(known, k.value.newRow);
        return k.value.oldKey === undefined
          ? { op: 'update', relation: known.relation, row }
          : { op: 'update', relation: known.relation, row, oldKey: keyRow(known, k.value.oldKey) };
      }
      case 'delete': {
        const known = registry.get(k.value.relationId);
        return { op: 'delete', relation: known.relation, key: keyRow(known, k.value.oldKey) };
      }
      case 'truncate':
        return { op: 'truncate', relations: k.value.relationIds.map((id) => registry.get(id).relation) };
      default:
        throw new SyncError(ErrorCode.MALFORMED_FRAME, 'a Change with no known case');
    }
  });
}

/** One connection's transaction in progress. */
export class TransactionAssembler {
  #open: { commitLsn: Lsn; next: number; skip: boolean; changes: TextChange[] } | undefined;
  readonly #registry: RelationRegistry;

  constructor(registry: RelationRegistry) {
    this.#registry = registry;
  }

  /** True between the first and the last frame of a transaction. */
  get inTransaction(): boolean {
    return this.#open !== undefined;
  }

  /**
   * Takes one Transaction frame.
   * @throws SyncError PROTOCOL_VIOLATION for frames out of sequence (§8.2), or what `admit` or the row checks
   * throw.
   */
  frame(frame: Transaction, admit: AdmitTransaction): AssembledFrame {
    let open = this.#open;
    if (open === undefined) {
      if (frame.frameIndex !== 0) throw violation(`a transaction starts at frame_index ${frame.frameIndex}`);
      open = { commitLsn: frame.commitLsn, next: 0, skip: admit(frame.commitLsn) === 'skip', changes: [] };
      this.#open = open;
    } else if (frame.commitLsn !== open.commitLsn || frame.frameIndex !== open.next) {
      throw violation(
        `expected frame ${open.next} of transaction ${open.commitLsn}, got frame ${frame.frameIndex} of ${frame.commitLsn}`,
      );
    }
    open.next++;
    if (!open.skip) {
      for (const c of textChanges(this.#registry, frame)) open.changes.push(c);
    }
    if (frame.hasMore) return { kind: 'partial' };
    this.#open = undefined;
    if (open.skip) return { kind: 'skipped' };
    return { kind: 'complete', transaction: { commitLsn: open.commitLsn, changes: open.changes } };
  }
}
