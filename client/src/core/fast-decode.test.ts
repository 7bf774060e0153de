import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type Change,
  ChangeSchema,
  ErrorCode,
  type Row,
  RowSchema,
  type ServerMessage,
  ServerMessageSchema,
  SnapshotChunkSchema,
  SyncError,
  TransactionSchema,
  type Value,
  ValueSchema,
} from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// The protocol's shared value arbitraries (test helpers of @vibestack/proto, not part of its API).
import { caseOf, nativeOf, SCALAR_TYPES } from '../../../gen/src/testing/arbitraries.ts';
import { decodeServerFrameFast, decodeServerMessage } from './fast-decode.ts';

const scalar: fc.Arbitrary<Value> = fc.oneof(
  ...SCALAR_TYPES.map(({ type }) =>
    nativeOf(type).map((n) =>
      create(ValueSchema, { kind: { case: caseOf(type), value: n } as Value['kind'] }),
    ),
  ),
  fc.constant(create(ValueSchema, { kind: { case: 'null', value: true } })),
  fc.constant(create(ValueSchema, { kind: { case: 'unchanged', value: true } })),
  fc.constant(create(ValueSchema, {})),
  fc
    .string({ unit: 'binary', maxLength: 300 })
    .map((s) => create(ValueSchema, { kind: { case: 'textValue', value: s } })),
  fc
    .array(fc.float(), { maxLength: 5 })
    .map((values) => create(ValueSchema, { kind: { case: 'vectorValue', value: { values } } })),
);
const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  {
    weight: 1,
    arbitrary: fc
      .record({
        elements: fc.array(scalar, { maxLength: 4 }),
        dims: fc.array(fc.nat({ max: 2 ** 32 - 1 }), { maxLength: 3 }),
        lowerBounds: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 3 }),
      })
      .map((a) => create(ValueSchema, { kind: { case: 'arrayValue', value: a } })),
  },
);
const row: fc.Arbitrary<Row> = fc
  .array(value, { maxLength: 14 })
  .map((values) => create(RowSchema, { values }));
const relationId = fc.oneof(fc.constant(0), fc.nat({ max: 2 ** 32 - 1 }));
const change: fc.Arbitrary<Change> = fc.oneof(
  fc
    .record({ relationId, newRow: row })
    .map((v) => create(ChangeSchema, { kind: { case: 'insert', value: v } })),
  fc
    .record({
      relationId,
      newRow: fc.option(row, { nil: undefined }),
      oldKey: fc.option(row, { nil: undefined }),
    })
    .map(({ oldKey, newRow, ...v }) =>
      create(ChangeSchema, {
        kind: {
          case: 'update',
          value: { ...v, ...(newRow ? { newRow } : {}), ...(oldKey ? { oldKey } : {}) },
        },
      }),
    ),
  fc
    .record({ relationId, oldKey: row })
    .map((v) => create(ChangeSchema, { kind: { case: 'delete', value: v } })),
  fc
    .array(fc.nat({ max: 2 ** 32 - 1 }), { maxLength: 4 })
    .map((relationIds) => create(ChangeSchema, { kind: { case: 'truncate', value: { relationIds } } })),
  fc.constant(create(ChangeSchema, {})),
);

const transactionFrame = fc
  .record({
    commitLsn: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    xid: fc.nat({ max: 2 ** 32 - 1 }),
    commitTimeUs: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    frameIndex: fc.nat({ max: 2 ** 32 - 1 }),
    hasMore: fc.boolean(),
    changes: fc.array(change, { maxLength: 10 }),
  })
  .map((t) =>
    create(ServerMessageSchema, { message: { case: 'transaction', value: create(TransactionSchema, t) } }),
  );
const chunkFrame = fc
  .record({
    relationId,
    rows: fc.array(row, { maxLength: 20 }),
    cursor: fc.uint8Array({ maxLength: 40 }),
    lastInTable: fc.boolean(),
  })
  .map((s) =>
    create(ServerMessageSchema, {
      message: { case: 'snapshotChunk', value: create(SnapshotChunkSchema, s) },
    }),
  );

/** Attaches unknown fields (a varint and a length-delimited one) to some messages of the tree. */
function withUnknown(node: unknown, pick: () => boolean): void {
  if (Array.isArray(node)) {
    for (const n of node) withUnknown(n, pick);
    return;
  }
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
  const m = node as Record<string, unknown>;
  if (typeof m.$typeName === 'string' && pick()) {
    m.$unknown = [
      { no: 1000, wireType: 0, data: Uint8Array.of(0x96, 0x01) },
      { no: 2047, wireType: 2, data: Uint8Array.of(3, 1, 2, 3) },
    ];
  }
  for (const [k, v] of Object.entries(m)) if (k !== '$unknown') withUnknown(v, pick);
}

const reference = (bytes: Uint8Array) => fromBinary(ServerMessageSchema, bytes, { readUnknownFields: false });

describe('fast server-frame decoder', () => {
  it('decodes Transaction and SnapshotChunk frames exactly like fromBinary', () => {
    fc.assert(
      fc.property(fc.oneof(transactionFrame, chunkFrame), (m) => {
        const bytes = toBinary(ServerMessageSchema, m);
        expect(decodeServerMessage(bytes)).toEqual(reference(bytes));
        expect(decodeServerMessage(bytes)).toEqual(m);
      }),
      { numRuns: 400 },
    );
  });

  it('ignores unknown fields at every level', () => {
    fc.assert(
      fc.property(fc.oneof(transactionFrame, chunkFrame), fc.infiniteStream(fc.boolean()), (m, coins) => {
        const plain = toBinary(ServerMessageSchema, m);
        const it = coins[Symbol.iterator]();
        withUnknown(m, () => it.next().value as boolean);
        const bytes = toBinary(ServerMessageSchema, m);
        expect(decodeServerMessage(bytes)).toEqual(reference(plain));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves merged, foreign and broken encodings to fromBinary', () => {
    fc.assert(
      fc.property(transactionFrame, chunkFrame, (a, b) => {
        const ab = new Uint8Array([...toBinary(ServerMessageSchema, a), ...toBinary(ServerMessageSchema, b)]);
        expect(decodeServerMessage(ab)).toEqual(reference(ab));
        const aa = new Uint8Array([...toBinary(ServerMessageSchema, a), ...toBinary(ServerMessageSchema, a)]);
        expect(decodeServerMessage(aa)).toEqual(reference(aa));
      }),
      { numRuns: 100 },
    );
    const pong: ServerMessage = create(ServerMessageSchema, {
      message: { case: 'pong', value: { nonce: 9n } },
    });
    expect(decodeServerMessage(toBinary(ServerMessageSchema, pong))).toEqual(pong);
    expect(decodeServerMessage(new Uint8Array(0))).toEqual(reference(new Uint8Array(0)));
  });

  it('rejects what fromBinary rejects, as MALFORMED_FRAME', () => {
    fc.assert(
      fc.property(transactionFrame, fc.nat(), (m, cut) => {
        const bytes = toBinary(ServerMessageSchema, m);
        const truncated = bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length);
        let expected: unknown;
        try {
          expected = reference(truncated);
        } catch {
          expected = 'error';
        }
        let actual: unknown;
        try {
          actual = decodeServerFrameFast(truncated, 1 << 26);
        } catch (e) {
          expect(e).toBeInstanceOf(SyncError);
          expect((e as SyncError).code).toBe(ErrorCode.MALFORMED_FRAME);
          actual = 'error';
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    expect(() => decodeServerFrameFast('text', 100)).toThrow(SyncError);
    expect(() => decodeServerFrameFast(new Uint8Array(101), 100)).toThrow(/exceeds/);
  });
});
