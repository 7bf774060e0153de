/**
 * The opaque `SnapshotChunk.cursor` (docs/protocol.md §6.5): where a snapshot stands after a chunk, so that a
 * reconnecting client's `Hello.snapshot_resume` can continue it. It holds the table index, whether that table is
 * finished, the rows sent per table so far (for `SnapshotEnd.row_counts`) and the last primary key read.
 *
 * Layout (version 1): `01` · varint table index · flags (bit 0 table done, bit 1 key present, bit 2 not
 * resumable) · varint n · n varint row counts · [varint key length · per key value: `00` NULL | `01` varint
 * byte length + UTF-8]. A cursor is at most 1 KiB; when the key does not fit, the cursor is marked not
 * resumable and a resume starts a new snapshot.
 */

import type { Tuple } from '../change.ts';

/** The most bytes a cursor may have (docs/protocol.md §13). */
export const MAX_CURSOR_BYTES = 1024;

const VERSION = 1;
const TABLE_DONE = 1;
const HAS_KEY = 2;
const NOT_RESUMABLE = 4;

/** A position in a snapshot, after some chunk. */
export interface SnapshotPosition {
  /** Index into `SnapshotBegin.tables` of the chunk's table. */
  readonly tableIndex: number;
  /** The chunk was the table's last (`last_in_table`). */
  readonly tableDone: boolean;
  /** Rows sent per table, for tables 0…tableIndex, through the chunk. */
  readonly rowCounts: readonly number[];
  /** The last primary key read in the table (key order), when the table is not done. */
  readonly afterKey?: Tuple;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Encodes a position; at most {@link MAX_CURSOR_BYTES}. */
export function encodeSnapshotCursor(position: SnapshotPosition): Uint8Array {
  const head = (flags: number): number[] => {
    const out = [VERSION];
    pushVarint(out, position.tableIndex);
    out.push(flags);
    pushVarint(out, position.rowCounts.length);
    for (const c of position.rowCounts) pushVarint(out, c);
    return out;
  };
  const done = position.tableDone ? TABLE_DONE : 0;
  const key = position.afterKey;
  if (key !== undefined && !position.tableDone) {
    const out = head(done | HAS_KEY);
    pushVarint(out, key.length);
    for (const v of key) {
      if (typeof v !== 'string') {
        out.push(0);
        continue;
      }
      const bytes = encoder.encode(v);
      out.push(1);
      pushVarint(out, bytes.length);
      for (const b of bytes) out.push(b);
      if (out.length > MAX_CURSOR_BYTES) break;
    }
    if (out.length <= MAX_CURSOR_BYTES) return new Uint8Array(out);
  }
  // Without its key a table can only be resumed from its start, i.e. when nothing of it was sent.
  const resumable =
    position.tableDone || (key === undefined && position.rowCounts[position.tableIndex] === 0);
  const out = head(done | (resumable ? 0 : NOT_RESUMABLE));
  return new Uint8Array(out.length <= MAX_CURSOR_BYTES ? out : [VERSION, 0, NOT_RESUMABLE, 0]);
}

class Reader {
  #at = 0;
  constructor(readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.#at === this.bytes.length;
  }
  byte(): number {
    const b = this.bytes[this.#at++];
    if (b === undefined) throw new RangeError('truncated cursor');
    return b;
  }
  varint(): number {
    let n = 0;
    for (let shift = 1; ; shift *= 0x80) {
      const b = this.byte();
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      if (shift > 2 ** 42) throw new RangeError('varint too long');
    }
  }
  take(n: number): Uint8Array {
    if (this.#at + n > this.bytes.length) throw new RangeError('truncated cursor');
    const out = this.bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** Decodes a cursor; `undefined` when it is malformed, of another version, or not resumable. */
export function decodeSnapshotCursor(bytes: Uint8Array): SnapshotPosition | undefined {
  if (bytes.length === 0 || bytes.length > MAX_CURSOR_BYTES) return undefined;
  try {
    const r = new Reader(bytes);
    if (r.byte() !== VERSION) return undefined;
    const tableIndex = r.varint();
    const flags = r.byte();
    if ((flags & NOT_RESUMABLE) !== 0 || flags > 7) return undefined;
    const n = r.varint();
    if (n !== tableIndex + 1) return undefined;
    const rowCounts: number[] = [];
    for (let i = 0; i < n; i++) rowCounts.push(r.varint());
    const tableDone = (flags & TABLE_DONE) !== 0;
    let afterKey: (string | null)[] | undefined;
    if ((flags & HAS_KEY) !== 0) {
      afterKey = [];
      const k = r.varint();
      for (let i = 0; i < k; i++) {
        const tag = r.byte();
        if (tag > 1) return undefined;
        afterKey.push(tag === 0 ? null : decoder.decode(r.take(r.varint())));
      }
    }
    if (!r.done || (tableDone && afterKey !== undefined)) return undefined;
    return { tableIndex, tableDone, rowCounts, ...(afterKey === undefined ? {} : { afterKey }) };
  } catch {
    return undefined;
  }
}
