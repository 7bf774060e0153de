import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSnapshotCursor,
  encodeSnapshotCursor,
  MAX_CURSOR_BYTES,
  type SnapshotPosition,
} from './snapshot-cursor.ts';

const position: fc.Arbitrary<SnapshotPosition> = fc
  .record({
    tableIndex: fc.nat(20),
    tableDone: fc.boolean(),
    counts: fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 21, maxLength: 21 }),
    afterKey: fc.array(fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: null }), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map(({ tableIndex, tableDone, counts, afterKey }) => ({
    tableIndex,
    tableDone,
    rowCounts: counts.slice(0, tableIndex + 1),
    ...(tableDone ? {} : { afterKey }),
  }));

describe('snapshot cursor', () => {
  it('round-trips every position and stays within 1 KiB', () => {
    fc.assert(
      fc.property(position, (p) => {
        const bytes = encodeSnapshotCursor(p);
        expect(bytes.length).toBeLessThanOrEqual(MAX_CURSOR_BYTES);
        expect(decodeSnapshotCursor(bytes)).toEqual(p);
      }),
    );
  });

  it('marks a cursor whose key does not fit as not resumable', () => {
    const p = { tableIndex: 0, tableDone: false, rowCounts: [5], afterKey: ['x'.repeat(2000)] };
    const bytes = encodeSnapshotCursor(p);
    expect(bytes.length).toBeLessThanOrEqual(MAX_CURSOR_BYTES);
    expect(decodeSnapshotCursor(bytes)).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const p = decodeSnapshotCursor(bytes);
        if (p !== undefined) expect(p.rowCounts).toHaveLength(p.tableIndex + 1);
      }),
    );
    expect(decodeSnapshotCursor(new Uint8Array())).toBeUndefined();
    expect(decodeSnapshotCursor(new Uint8Array([2, 0, 0, 1, 0]))).toBeUndefined();
  });
});
