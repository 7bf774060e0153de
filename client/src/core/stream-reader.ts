/**
 * The data frames of one connection (docs/protocol.md §5, §6, §8): checks their order — the §6.1 grammar of an
 * initial sync, transaction framing, commit-LSN order, Progress rules — and turns them into apply works. Pure;
 * owned by the client session, which feeds it data frames after the credit check.
 */

import {
  ErrorCode,
  type Lsn,
  MAX_ROWS_PER_CHUNK,
  type Progress,
  type Relation,
  type ServerMessage,
  type SnapshotBegin,
  type SnapshotChunk,
  type SnapshotEnd,
  SyncError,
  type Transaction,
} from '@vibestack/proto';
import type { ApplyWork, SnapshotPosition } from './client-types.ts';
import { checkFullRow, RelationRegistry } from './relations.ts';
import { TransactionAssembler } from './transaction-assembler.ts';

/** Snapshot cursor and id limits (§13). */
export const MAX_CURSOR_BYTES = 1024;
export const MAX_SNAPSHOT_ID_BYTES = 128;

const violation = (message: string) => new SyncError(ErrorCode.PROTOCOL_VIOLATION, message);
const malformed = (message: string) => new SyncError(ErrorCode.MALFORMED_FRAME, message);
const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Where the reader hands its output. */
export interface StreamSink {
  /** Queue a work that accounts for `frames` data frames (consumed when it commits). */
  queue(work: ApplyWork, frames: number): void;
  /** `frames` data frames were consumed without a work. */
  consumed(frames: number): void;
}

/** How the connection started. */
export type StreamStart =
  | { readonly mode: 'initial'; readonly presented: SnapshotPosition | undefined; readonly maxRows: number }
  | { readonly mode: 'resume'; readonly resumeLsn: Lsn };

type Phase = 'begin' | 'chunks' | 'handoff' | 'streaming';

/** One connection's data-frame reader. */
export class StreamReader {
  readonly #relations = new RelationRegistry();
  readonly #assembler = new TransactionAssembler(this.#relations);
  readonly #sink: StreamSink;
  readonly #start: StreamStart;
  #phase: Phase;
  #snapshot: { id: string; tables: number[]; index: number; mayResumeLater: boolean } | undefined;
  #lastHandoff: Lsn | undefined;
  /** Transactions at or below this were applied before (§8.9): skipped. */
  #floor: Lsn;
  /** The largest commit or Progress LSN seen since the floor. */
  #lastSeen: Lsn;
  /** The largest LSN queued for the applied LSN. */
  #lastQueued: Lsn;
  /** The `SnapshotBegin` of this connection, once received (for the snapshot progress status). */
  begun:
    | { readonly snapshotId: string; readonly resumed: boolean; readonly estimatedRows: bigint }
    | undefined;

  constructor(start: StreamStart, sink: StreamSink) {
    this.#start = start;
    this.#sink = sink;
    this.#phase = start.mode === 'initial' ? 'begin' : 'streaming';
    this.#floor = start.mode === 'resume' ? start.resumeLsn : 0n;
    this.#lastSeen = this.#floor;
    this.#lastQueued = this.#floor;
  }

  /** True once SnapshotEnd was received (or from the start in CATCH_UP/LIVE). */
  get streaming(): boolean {
    return this.#phase === 'streaming';
  }

  /**
   * Takes one data frame.
   * @returns `'caught-up'` for a `Progress{caught_up}`.
   * @throws SyncError with the protocol code of the violation.
   */
  data(message: ServerMessage['message']): 'caught-up' | undefined {
    switch (message.case) {
      case 'relation':
        this.#relation(message.value);
        return undefined;
      case 'snapshotBegin':
        this.#begin(message.value);
        return undefined;
      case 'snapshotChunk':
        this.#chunk(message.value);
        return undefined;
      case 'snapshotEnd':
        this.#end(message.value);
        return undefined;
      case 'transaction':
        this.#transaction(message.value);
        return undefined;
      case 'progress':
        return this.#progress(message.value);
      default:
        throw new SyncError(ErrorCode.INTERNAL, `not a data frame: ${message.case}`);
    }
  }

  #relation(relation: Relation): void {
    this.#relations.record(relation);
    this.#sink.consumed(1);
  }

  #begin(begin: SnapshotBegin): void {
    if (this.#phase !== 'begin' || this.#start.mode !== 'initial')
      throw violation('unexpected SnapshotBegin');
    if (utf8Length(begin.snapshotId) > MAX_SNAPSHOT_ID_BYTES) throw malformed('snapshot_id too long');
    const presented = this.#start.presented;
    if (begin.resumed && presented?.snapshotId !== begin.snapshotId) {
      throw violation('SnapshotBegin{resumed} for a snapshot the client did not present');
    }
    const tables = begin.tables.map((t) => this.#relations.get(t.relationId).relation.relationId);
    this.begun = {
      snapshotId: begin.snapshotId,
      resumed: begin.resumed,
      estimatedRows: begin.tables.reduce((sum, t) => sum + t.estimatedRows, 0n),
    };
    this.#snapshot = { id: begin.snapshotId, tables, index: 0, mayResumeLater: begin.resumed };
    this.#phase = tables.length === 0 ? 'handoff' : 'chunks';
    if (begin.resumed) this.#sink.consumed(1);
    else this.#sink.queue({ kind: 'snapshot-begin', snapshotId: begin.snapshotId }, 1);
  }

  /** After a resume, the first chunk may skip the tables finished before the cursor (§6.1). */
  #skipFinishedTables(next: 'chunk' | 'other', relationId?: number): void {
    const s = this.#snapshot!;
    if (!s.mayResumeLater) return;
    s.mayResumeLater = false;
    if (next === 'other') {
      s.index = s.tables.length;
      this.#phase = 'handoff';
      return;
    }
    const at = s.tables.indexOf(relationId!, s.index);
    if (at >= 0) s.index = at;
  }

  #chunk(chunk: SnapshotChunk): void {
    if (this.#phase !== 'chunks') throw violation('unexpected SnapshotChunk');
    this.#skipFinishedTables('chunk', chunk.relationId);
    const s = this.#snapshot!;
    if (chunk.relationId !== s.tables[s.index]) {
      throw violation(`SnapshotChunk of relation ${chunk.relationId} out of SnapshotBegin order`);
    }
    if (
      this.#start.mode === 'initial' &&
      chunk.rows.length > Math.min(this.#start.maxRows, MAX_ROWS_PER_CHUNK)
    ) {
      throw malformed(`a chunk of ${chunk.rows.length} rows`);
    }
    if (chunk.cursor.length > MAX_CURSOR_BYTES) throw malformed('snapshot cursor too long');
    const known = this.#relations.get(chunk.relationId);
    const rows = chunk.rows.map((r) => checkFullRow(known, r));
    if (chunk.lastInTable && ++s.index === s.tables.length) this.#phase = 'handoff';
    const work: ApplyWork = {
      kind: 'snapshot-chunks',
      snapshotId: s.id,
      chunks: [{ relation: known.relation, rows }],
      cursor: chunk.cursor,
    };
    this.#sink.queue(work, 1);
  }

  #end(end: SnapshotEnd): void {
    if (this.#phase === 'chunks') this.#skipFinishedTables('other');
    if (this.#phase !== 'handoff' || this.#assembler.inTransaction) throw violation('unexpected SnapshotEnd');
    if (this.#lastHandoff !== undefined && this.#lastHandoff > end.lsn) {
      throw violation('a handoff transaction above SnapshotEnd.lsn');
    }
    const s = this.#snapshot!;
    const tables = s.tables.map((id) => this.#relations.get(id).relation);
    this.#phase = 'streaming';
    this.#floor = end.lsn;
    this.#lastSeen = end.lsn;
    this.#lastQueued = end.lsn;
    const work: ApplyWork = {
      kind: 'snapshot-commit',
      snapshotId: s.id,
      lsn: end.lsn,
      tables,
      rowCounts: end.rowCounts,
    };
    this.#sink.queue(work, 1);
  }

  #transaction(frame: Transaction): void {
    if (this.#phase === 'chunks') this.#skipFinishedTables('other');
    if (this.#phase === 'handoff') {
      this.#handoff(frame);
      return;
    }
    if (this.#phase !== 'streaming') throw violation('a Transaction before the snapshot was sent');
    const assembled = this.#assembler.frame(frame, (lsn) => {
      if (lsn <= this.#floor) return 'skip';
      if (lsn <= this.#lastSeen) throw violation(`commit LSN ${lsn} does not increase`);
      this.#lastSeen = lsn;
      return 'apply';
    });
    if (assembled.kind !== 'complete') {
      this.#sink.consumed(1);
      return;
    }
    this.#lastQueued = assembled.transaction.commitLsn;
    this.#sink.queue(
      { kind: 'transactions', transactions: [assembled.transaction], lsn: this.#lastQueued },
      1,
    );
  }

  #handoff(frame: Transaction): void {
    const assembled = this.#assembler.frame(frame, (lsn) => {
      if (this.#lastHandoff !== undefined && lsn <= this.#lastHandoff) {
        throw violation('handoff commit LSNs do not increase');
      }
      this.#lastHandoff = lsn;
      return 'apply';
    });
    if (assembled.kind !== 'complete') {
      this.#sink.consumed(1);
      return;
    }
    this.#sink.queue({ kind: 'snapshot-handoff', transactions: [assembled.transaction] }, 1);
  }

  #progress(progress: Progress): 'caught-up' | undefined {
    if (this.#phase !== 'streaming') throw violation('Progress before SnapshotEnd');
    if (this.#assembler.inTransaction) throw violation('Progress inside a transaction');
    if (progress.lsn < this.#lastSeen) throw violation('Progress went backwards');
    this.#lastSeen = progress.lsn;
    if (progress.lsn > this.#lastQueued) {
      this.#lastQueued = progress.lsn;
      this.#sink.queue({ kind: 'transactions', transactions: [], lsn: progress.lsn }, 1);
    } else {
      this.#sink.consumed(1);
    }
    return progress.caughtUp ? 'caught-up' : undefined;
  }
}
