/**
 * Splitting transactions and snapshot rows into frames that fit the negotiated `max_frame_bytes` (docs/protocol.md
 * §8.2, §6.1, §13). Sizes are computed from the encoded parts plus an upper bound of the envelope around them,
 * so every frame built here encodes to at most the limit.
 */

import { create } from '@bufbuild/protobuf';
import {
  type Change,
  ErrorCode,
  fastChangeSize,
  fastRowSize,
  type Row,
  SyncError,
  type Transaction,
  TransactionSchema,
} from '@vibestack/proto';
import type { TransactionHeader } from '../change.ts';

/** Bytes of a varint. */
export function varintSize(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

/** Bytes of a length-delimited field holding `length` bytes (tag of one byte). */
export function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/**
 * Upper bound of a Transaction frame without its changes: the ServerMessage tag and length (6), commit_lsn (11),
 * xid (6), commit_time_us (11), frame_index (6), has_more (2).
 */
export const TRANSACTION_FRAME_OVERHEAD = 42;

/**
 * Upper bound of a SnapshotChunk frame without rows and cursor: the ServerMessage tag and length (6),
 * relation_id (6), last_in_table (2), the cursor's tag and length (3).
 */
export const CHUNK_FRAME_OVERHEAD = 17;

/** A row or change too large for any frame: ROW_TOO_LARGE (docs/protocol.md §13). */
export function rowTooLarge(what: string, size: number, maxFrameBytes: number): SyncError {
  return new SyncError(
    ErrorCode.ROW_TOO_LARGE,
    `${what} encodes to ${size} bytes and cannot fit in a frame of ${maxFrameBytes} bytes`,
  );
}

/** The encoded size of a change inside a Transaction (`changes` field included). */
export function changeFieldSize(change: Change): number {
  return fieldSize(fastChangeSize(change));
}

/** The encoded size of a row inside a SnapshotChunk (`rows` field included). */
export function rowFieldSize(row: Row): number {
  return fieldSize(fastRowSize(row));
}

/**
 * Splits one transaction's changes into frames of at most `maxFrameBytes` and `maxChanges` changes each,
 * numbered from `part.firstFrameIndex` (default 0) with `has_more` on all but the last — and on the last too when
 * `part.more` (a part of a larger transaction whose next part follows). `sizes[i]` is `changeFieldSize(changes[i])`.
 * @param describe names the i-th change for a ROW_TOO_LARGE message (table and key).
 * @throws SyncError ROW_TOO_LARGE when a single change cannot fit.
 */
export function frameTransaction(
  header: TransactionHeader,
  changes: readonly Change[],
  sizes: readonly number[],
  limits: { readonly maxFrameBytes: number; readonly maxChanges: number },
  describe: (index: number) => string,
  part: { readonly firstFrameIndex: number; readonly more: boolean } = { firstFrameIndex: 0, more: false },
): Transaction[] {
  const budget = limits.maxFrameBytes - TRANSACTION_FRAME_OVERHEAD;
  const frames: Change[][] = [[]];
  let used = 0;
  changes.forEach((change, i) => {
    const size = sizes[i]!;
    if (size > budget) throw rowTooLarge(describe(i), size, limits.maxFrameBytes);
    let current = frames[frames.length - 1]!;
    if (current.length > 0 && (used + size > budget || current.length >= limits.maxChanges)) {
      current = [];
      frames.push(current);
      used = 0;
    }
    current.push(change);
    used += size;
  });
  return frames.map((frameChanges, i) =>
    create(TransactionSchema, {
      commitLsn: header.commitLsn,
      xid: header.xid >>> 0,
      commitTimeUs: header.commitTimeUs,
      frameIndex: part.firstFrameIndex + i,
      hasMore: part.more || i < frames.length - 1,
      changes: frameChanges,
    }),
  );
}

/**
 * Groups rows into chunks of at most `maxRows` rows and `maxFrameBytes` bytes (with a cursor of at most
 * `cursorBytes`). Returns the index ranges `[start, end)`.
 * @throws SyncError ROW_TOO_LARGE when a single row cannot fit.
 */
export function chunkRows(
  sizes: readonly number[],
  limits: { readonly maxFrameBytes: number; readonly maxRows: number; readonly cursorBytes: number },
  describe: (index: number) => string,
): [number, number][] {
  const budget = limits.maxFrameBytes - CHUNK_FRAME_OVERHEAD - limits.cursorBytes;
  const ranges: [number, number][] = [];
  let start = 0;
  let used = 0;
  sizes.forEach((size, i) => {
    if (size > budget) throw rowTooLarge(describe(i), size, limits.maxFrameBytes);
    if (i > start && (used + size > budget || i - start >= limits.maxRows)) {
      ranges.push([start, i]);
      start = i;
      used = 0;
    }
    used += size;
  });
  if (start < sizes.length) ranges.push([start, sizes.length]);
  return ranges;
}
