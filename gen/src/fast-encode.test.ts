import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastChangeSize, fastEncodeServerFrame, fastRowSize } from './fast-encode.ts';
import { ServerMessageSchema } from './gen/vibestack/sync/v1/envelope_pb.ts';
import { SnapshotChunkSchema } from './gen/vibestack/sync/v1/snapshot_pb.ts';
import { type Change, ChangeSchema, TransactionSchema } from './gen/vibestack/sync/v1/transaction_pb.ts';
import { type Row, RowSchema, type Value, ValueSchema } from './gen/vibestack/sync/v1/value_pb.ts';
import { caseOf, nativeOf, SCALAR_TYPES } from './testing/arbitraries.ts';

const scalar: fc.Arbitrary<Value> = fc.oneof(
  ...SCALAR_TYPES.map(({ type }) =>
    nativeOf(type).map((n) =>
      create(ValueSchema, { kind: { case: caseOf(type), value: n } as Value['kind'] }),
    ),
  ),
  fc.constant(create(ValueSchema, { kind: { case: 'null', value: true } })),
  fc.constant(create(ValueSchema, { kind: { case: 'unchanged', value: true } })),
  fc
    .string({ minLength: 100, maxLength: 20_000 })
    .map((s) => create(ValueSchema, { kind: { case: 'textValue', value: s } })),
  fc
    .array(fc.float({ noNaN: true }), { maxLength: 5 })
    .map((values) => create(ValueSchema, { kind: { case: 'vectorValue', value: { values } } })),
);
const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  {
    weight: 1,
    arbitrary: fc
      .record({
        elements: fc.array(scalar, { maxLength: 4 }),
        dims: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 3 }),
        lowerBounds: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 3 }),
      })
      .map((a) => create(ValueSchema, { kind: { case: 'arrayValue', value: a } })),
  },
);
const row: fc.Arbitrary<Row> = fc
  .array(value, { maxLength: 14 })
  .map((values) => create(RowSchema, { values }));
const relationId = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 32 - 1 }));
const change: fc.Arbitrary<Change> = fc.oneof(
  fc
    .record({ relationId, newRow: row })
    .map((v) => create(ChangeSchema, { kind: { case: 'insert', value: v } })),
  fc
    .record({ relationId, newRow: row, oldKey: fc.option(row, { nil: undefined }) })
    .map(({ oldKey, ...v }) =>
      create(ChangeSchema, { kind: { case: 'update', value: oldKey ? { ...v, oldKey } : v } }),
    ),
  fc
    .record({ relationId, oldKey: row })
    .map((v) => create(ChangeSchema, { kind: { case: 'delete', value: v } })),
  fc
    .array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 4 })
    .map((relationIds) => create(ChangeSchema, { kind: { case: 'truncate', value: { relationIds } } })),
  fc.constant(create(ChangeSchema, {})),
);

describe('fast encoder', () => {
  it('encodes Transaction frames byte-identically to toBinary', () => {
    fc.assert(
      fc.property(
        fc.record({
          commitLsn: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          xid: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          commitTimeUs: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          frameIndex: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          hasMore: fc.boolean(),
          changes: fc.array(change, { maxLength: 12 }),
        }),
        (t) => {
          const m = create(ServerMessageSchema, {
            message: { case: 'transaction', value: create(TransactionSchema, t) },
          });
          const expected = toBinary(ServerMessageSchema, m);
          expect(fastEncodeServerFrame(m)).toEqual(expected);
          for (const c of t.changes) expect(fastChangeSize(c)).toBe(toBinary(ChangeSchema, c).length);
          // Sizing caches each change's bytes; the frame then reuses them and must not change.
          expect(fastEncodeServerFrame(m)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes SnapshotChunk frames byte-identically to toBinary', () => {
    fc.assert(
      fc.property(
        fc.record({
          relationId,
          rows: fc.array(row, { maxLength: 30 }),
          cursor: fc.uint8Array({ maxLength: 40 }),
          lastInTable: fc.boolean(),
        }),
        (s) => {
          const m = create(ServerMessageSchema, {
            message: { case: 'snapshotChunk', value: create(SnapshotChunkSchema, s) },
          });
          const expected = toBinary(ServerMessageSchema, m);
          expect(fastEncodeServerFrame(m)).toEqual(expected);
          for (const r of s.rows) expect(fastRowSize(r)).toBe(toBinary(RowSchema, r).length);
          expect(fastEncodeServerFrame(m)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles frames far larger than its initial buffer', () => {
    const big = create(RowSchema, {
      values: [create(ValueSchema, { kind: { case: 'textValue', value: 'é'.repeat(300_000) } })],
    });
    const m = create(ServerMessageSchema, {
      message: {
        case: 'snapshotChunk',
        value: create(SnapshotChunkSchema, { relationId: 1, rows: [big, big, big] }),
      },
    });
    const fast = fastEncodeServerFrame(m)!;
    expect(Buffer.from(fast).equals(Buffer.from(toBinary(ServerMessageSchema, m)))).toBe(true);
  });

  it('leaves other messages to toBinary', () => {
    expect(
      fastEncodeServerFrame(create(ServerMessageSchema, { message: { case: 'pong', value: { nonce: 1n } } })),
    ).toBeUndefined();
  });
});
