import { create } from '@bufbuild/protobuf';
import {
  type Column,
  PgOid,
  type Row,
  RowSchema,
  type Value,
  ValueEncoding,
  ValueSchema,
} from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgDate, pgFloat4, pgFloat8, pgText, pgTimestamp } from '../../../gen/src/testing/arbitraries.ts';
import { binaryCopyPlan, copyBinary } from './copy-binary.ts';

type Kind = Value['kind'];
/** Each binary column kind: its descriptor, values, and how its bytes read back. */
const KINDS: [Pick<Column, 'encoding' | 'baseTypeOid'>, fc.Arbitrary<Kind>, (b: DataView) => unknown][] = [
  [
    { encoding: ValueEncoding.BOOL, baseTypeOid: PgOid.bool },
    fc.boolean().map((value) => ({ case: 'boolValue', value })),
    (b) => b.getUint8(0) === 1,
  ],
  [
    { encoding: ValueEncoding.INT, baseTypeOid: PgOid.int2 },
    fc.integer({ min: -32768, max: 32767 }).map((n) => ({ case: 'intValue', value: BigInt(n) })),
    (b) => BigInt(b.getInt16(0)),
  ],
  [
    { encoding: ValueEncoding.INT, baseTypeOid: PgOid.int4 },
    fc.integer().map((n) => ({ case: 'intValue', value: BigInt(n) })),
    (b) => BigInt(b.getInt32(0)),
  ],
  [
    { encoding: ValueEncoding.INT, baseTypeOid: PgOid.int8 },
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ case: 'intValue', value })),
    (b) => b.getBigInt64(0),
  ],
  [
    { encoding: ValueEncoding.INT, baseTypeOid: PgOid.oid },
    fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((value) => ({ case: 'intValue', value })),
    (b) => BigInt(b.getUint32(0)),
  ],
  [
    { encoding: ValueEncoding.FLOAT, baseTypeOid: PgOid.float4 },
    pgFloat4.map((value) => ({ case: 'floatValue', value })),
    (b) => b.getFloat32(0),
  ],
  [
    { encoding: ValueEncoding.FLOAT, baseTypeOid: PgOid.float8 },
    pgFloat8.map((value) => ({ case: 'floatValue', value })),
    (b) => b.getFloat64(0),
  ],
  [
    { encoding: ValueEncoding.TIMESTAMP, baseTypeOid: PgOid.timestamptz },
    pgTimestamp.map((value) => ({ case: 'timestampValue', value })),
    (b) => b.getBigInt64(0),
  ],
  [
    { encoding: ValueEncoding.DATE, baseTypeOid: PgOid.date },
    pgDate.map((value) => ({ case: 'dateValue', value })),
    (b) => b.getInt32(0),
  ],
  [
    { encoding: ValueEncoding.UUID, baseTypeOid: PgOid.uuid },
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((value) => ({ case: 'uuidValue', value })),
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ],
  [
    { encoding: ValueEncoding.BYTES, baseTypeOid: PgOid.bytea },
    fc.uint8Array({ maxLength: 300 }).map((value) => ({ case: 'bytesValue', value })),
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ],
  [
    { encoding: ValueEncoding.TEXT, baseTypeOid: PgOid.text },
    pgText.map((value) => ({ case: 'textValue', value })),
    (b) => new TextDecoder().decode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
  ],
  [
    { encoding: ValueEncoding.TEXT, baseTypeOid: PgOid.jsonb },
    fc.json().map((value) => ({ case: 'textValue', value })),
    (b) => {
      expect(b.getUint8(0)).toBe(1); // jsonb version
      return new TextDecoder().decode(new Uint8Array(b.buffer, b.byteOffset + 1, b.byteLength - 1));
    },
  ],
];

/** Reads binary COPY data back: the fields of each tuple as views (`null` for NULL). */
function readCopy(data: Uint8Array): (DataView | null)[][] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  expect([...data.subarray(0, 11)]).toEqual([
    ...new TextEncoder().encode('PGCOPY\n'),
    0xff,
    0x0d,
    0x0a,
    0x00,
  ]);
  expect([v.getInt32(11), v.getInt32(15)]).toEqual([0, 0]);
  const tuples: (DataView | null)[][] = [];
  let p = 19;
  for (;;) {
    const count = v.getInt16(p);
    p += 2;
    if (count === -1) break;
    const fields: (DataView | null)[] = [];
    for (let i = 0; i < count; i++) {
      const length = v.getInt32(p);
      p += 4;
      fields.push(length === -1 ? null : new DataView(data.buffer, data.byteOffset + p, length));
      p += Math.max(length, 0);
    }
    tuples.push(fields);
  }
  expect(p).toBe(data.length);
  return tuples;
}

describe('binary COPY data', () => {
  const plan = binaryCopyPlan(
    KINDS.map(([c]) => c),
    KINDS.map(([c]) => c.baseTypeOid),
  )!;
  const rows = fc.array(
    fc.tuple(...KINDS.map(([, kind]) => fc.option(kind, { nil: undefined }))).map((kinds) =>
      create(RowSchema, {
        values: kinds.map((kind) => create(ValueSchema, { kind: kind ?? { case: 'null', value: true } })),
      }),
    ),
    { maxLength: 40 },
  );

  it('writes every value of every kind, growing its buffer anywhere in a row', () => {
    fc.assert(
      fc.property(rows, fc.integer({ min: 1, max: 200 }), (input: Row[], sizeHint) => {
        const back = readCopy(copyBinary(plan, input, sizeHint));
        expect(back).toHaveLength(input.length);
        back.forEach((fields, r) => {
          expect(fields).toHaveLength(KINDS.length);
          fields.forEach((field, c) => {
            const kind = input[r]!.values[c]!.kind;
            if (kind.case === 'null') expect(field).toBeNull();
            else expect(KINDS[c]![2](field!)).toEqual(kind.value);
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it('has no plan unless every local column type is the described base type and has a binary form', () => {
    const int4 = { encoding: ValueEncoding.INT, baseTypeOid: PgOid.int4 };
    expect(binaryCopyPlan([int4], [PgOid.int4])).toBeDefined();
    expect(binaryCopyPlan([int4], [PgOid.int8])).toBeUndefined(); // the app declared another type
    expect(binaryCopyPlan([int4], [PgOid.text])).toBeUndefined(); // stored as text locally
    expect(binaryCopyPlan([int4], [])).toBeUndefined();
    const numeric = { encoding: ValueEncoding.TEXT, baseTypeOid: PgOid.numeric };
    expect(binaryCopyPlan([int4, numeric], [PgOid.int4, PgOid.numeric])).toBeUndefined();
    const intArray = { encoding: ValueEncoding.ARRAY, baseTypeOid: PgOid.int4Array };
    expect(binaryCopyPlan([intArray], [PgOid.int4Array])).toBeUndefined();
  });
});
