import { create, toBinary } from '@bufbuild/protobuf';
import {
  ChangeSchema,
  ErrorCode,
  InsertSchema,
  RowSchema,
  ServerMessageSchema,
  ValueSchema,
} from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeFieldSize, chunkRows, frameTransaction, varintSize } from './framing.ts';

const header = { commitLsn: 2n ** 64n - 1n, endLsn: 0n, xid: 0xffff_ffff, commitTimeUs: -(2n ** 63n) };

function change(textBytes: number) {
  const row = create(RowSchema, {
    values: [create(ValueSchema, { kind: { case: 'textValue', value: 'x'.repeat(textBytes) } })],
  });
  return create(ChangeSchema, {
    kind: { case: 'insert', value: create(InsertSchema, { relationId: 4_000_000_000, newRow: row }) },
  });
}

describe('framing', () => {
  it('computes varint sizes', () => {
    expect([0, 127, 128, 16_383, 16_384, 2 ** 28].map(varintSize)).toEqual([1, 1, 2, 2, 3, 5]);
  });

  it('splits a transaction into numbered frames that fit, keeping every change in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(3000), { maxLength: 40 }),
        fc.integer({ min: 65_536, max: 70_000 }),
        fc.integer({ min: 1, max: 7 }),
        (sizes, maxFrameBytes, maxChanges) => {
          const changes = sizes.map((n) => change(n * 10));
          const frames = frameTransaction(
            header,
            changes,
            changes.map(changeFieldSize),
            { maxFrameBytes, maxChanges },
            String,
          );
          expect(frames.flatMap((f) => f.changes)).toEqual(changes);
          frames.forEach((f, i) => {
            expect(f.frameIndex).toBe(i);
            expect(f.hasMore).toBe(i < frames.length - 1);
            expect(f.changes.length).toBeLessThanOrEqual(maxChanges);
            const bytes = toBinary(
              ServerMessageSchema,
              create(ServerMessageSchema, { message: { case: 'transaction', value: f } }),
            );
            expect(bytes.length).toBeLessThanOrEqual(maxFrameBytes);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses a change that cannot fit any frame with ROW_TOO_LARGE', () => {
    const big = change(70_000);
    expect(() =>
      frameTransaction(
        header,
        [big],
        [changeFieldSize(big)],
        { maxFrameBytes: 65_536, maxChanges: 10 },
        () => 'public.t row ["1"]',
      ),
    ).toThrow(
      expect.objectContaining({
        code: ErrorCode.ROW_TOO_LARGE,
        message: expect.stringContaining('public.t row ["1"]'),
      }),
    );
    expect(() =>
      chunkRows([70_000], { maxFrameBytes: 65_536, maxRows: 10, cursorBytes: 1024 }, () => 'r'),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ROW_TOO_LARGE }));
  });

  it('chunks rows by count and bytes', () => {
    expect(
      chunkRows([10, 10, 10, 10, 10], { maxFrameBytes: 65_536, maxRows: 2, cursorBytes: 1024 }, String),
    ).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(
      chunkRows([30_000, 30_000, 30_000], { maxFrameBytes: 65_536, maxRows: 100, cursorBytes: 1024 }, String),
    ).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(chunkRows([], { maxFrameBytes: 65_536, maxRows: 2, cursorBytes: 1024 }, String)).toEqual([]);
  });
});
