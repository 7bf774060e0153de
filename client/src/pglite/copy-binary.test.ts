import { create } from '@bufbuild/protobuf';
import {
  ArrayValueSchema,
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
import { binaryCopyPlan, copyBinary, NoBinaryForm } from './copy-binary.ts';

type Kind = Value['kind'];
const scalar = (encoding: ValueEncoding, baseTypeOid: number) => ({
  encoding,
  baseTypeOid,
  elementEncoding: ValueEncoding.UNSPECIFIED,
  elementTypeOid: 0,
});
/** Each binary column kind: its descriptor, values, and how its bytes read back. */
const KINDS: [
  Pick<Column, 'encoding' | 'baseTypeOid' | 'elementEncoding' | 'elementTypeOid'>,
  fc.Arbitrary<Kind>,
  (b: DataView) => unknown,
][] = [
  [
    scalar(ValueEncoding.BOOL, PgOid.bool),
    fc.boolean().map((value) => ({ case: 'boolValue', value })),
    (b) => b.getUint8(0) === 1,
  ],
  [
    scalar(ValueEncoding.INT, PgOid.int2),
    fc.integer({ min: -32768, max: 32767 }).map((n) => ({ case: 'intValue', value: BigInt(n) })),
    (b) => BigInt(b.getInt16(0)),
  ],
  [
    scalar(ValueEncoding.INT, PgOid.int4),
    fc.integer().map((n) => ({ case: 'intValue', value: BigInt(n) })),
    (b) => BigInt(b.getInt32(0)),
  ],
  [
    scalar(ValueEncoding.INT, PgOid.int8),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ case: 'intValue', value })),
    (b) => b.getBigInt64(0),
  ],
  [
    scalar(ValueEncoding.INT, PgOid.oid),
    fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((value) => ({ case: 'intValue', value })),
    (b) => BigInt(b.getUint32(0)),
  ],
  [
    scalar(ValueEncoding.FLOAT, PgOid.float4),
    pgFloat4.map((value) => ({ case: 'floatValue', value })),
    (b) => b.getFloat32(0),
  ],
  [
    scalar(ValueEncoding.FLOAT, PgOid.float8),
    pgFloat8.map((value) => ({ case: 'floatValue', value })),
    (b) => b.getFloat64(0),
  ],
  [
    scalar(ValueEncoding.TIMESTAMP, PgOid.timestamptz),
    pgTimestamp.map((value) => ({ case: 'timestampValue', value })),
    (b) => b.getBigInt64(0),
  ],
  [
    scalar(ValueEncoding.DATE, PgOid.date),
    pgDate.map((value) => ({ case: 'dateValue', value })),
    (b) => b.getInt32(0),
  ],
  [
    scalar(ValueEncoding.UUID, PgOid.uuid),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((value) => ({ case: 'uuidValue', value })),
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ],
  [
    scalar(ValueEncoding.BYTES, PgOid.bytea),
    fc.uint8Array({ maxLength: 300 }).map((value) => ({ case: 'bytesValue', value })),
    (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ],
  [
    scalar(ValueEncoding.TEXT, PgOid.text),
    pgText.map((value) => ({ case: 'textValue', value })),
    (b) => new TextDecoder().decode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
  ],
  [
    scalar(ValueEncoding.TEXT, PgOid.jsonb),
    fc.json().map((value) => ({ case: 'textValue', value })),
    (b) => {
      expect(b.getUint8(0)).toBe(1); // jsonb version
      return new TextDecoder().decode(new Uint8Array(b.buffer, b.byteOffset + 1, b.byteLength - 1));
    },
  ],
  [
    {
      encoding: ValueEncoding.ARRAY,
      baseTypeOid: PgOid.int8Array,
      elementEncoding: ValueEncoding.INT,
      elementTypeOid: PgOid.int8,
    },
    fc
      .tuple(
        fc.array(fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: undefined }), {
          maxLength: 30,
        }),
        fc.integer({ min: -3, max: 3 }),
      )
      .map(([items, lb]) => ({
        case: 'arrayValue',
        value: create(ArrayValueSchema, {
          elements: items.map((value) =>
            create(ValueSchema, {
              kind: value === undefined ? { case: 'null', value: true } : { case: 'intValue', value },
            }),
          ),
          ...(items.length > 0 && lb !== 1 ? { dims: [items.length], lowerBounds: [lb] } : {}),
        }),
      })),
    (b) => {
      // ndim, has-NULLs, element OID, (length, lower bound) per dimension, then the elements.
      const ndim = b.getInt32(0);
      expect(b.getUint32(8)).toBe(PgOid.int8);
      const length = ndim === 0 ? 0 : b.getInt32(12);
      const lb = ndim === 0 ? 1 : b.getInt32(16);
      const elements = [];
      let hasNull = 0;
      for (let i = 0, p = 12 + 8 * ndim; i < length; i++) {
        const size = b.getInt32(p);
        hasNull |= size === -1 ? 1 : 0;
        elements.push(
          create(ValueSchema, {
            kind:
              size === -1 ? { case: 'null', value: true } : { case: 'intValue', value: b.getBigInt64(p + 4) },
          }),
        );
        p += 4 + Math.max(size, 0);
      }
      expect(b.getInt32(4)).toBe(hasNull);
      return create(ArrayValueSchema, {
        elements,
        ...(length > 0 && lb !== 1 ? { dims: [length], lowerBounds: [lb] } : {}),
      });
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
    const int4 = scalar(ValueEncoding.INT, PgOid.int4);
    expect(binaryCopyPlan([int4], [PgOid.int4])).toBeDefined();
    expect(binaryCopyPlan([int4], [PgOid.int8])).toBeUndefined(); // the app declared another type
    expect(binaryCopyPlan([int4], [PgOid.text])).toBeUndefined(); // stored as text locally
    expect(binaryCopyPlan([int4], [])).toBeUndefined();
    const interval = scalar(ValueEncoding.TEXT, PgOid.interval);
    expect(binaryCopyPlan([int4, interval], [PgOid.int4, PgOid.interval])).toBeUndefined();
    const array = (elementEncoding: ValueEncoding, elementTypeOid: number, baseTypeOid: number) => ({
      encoding: ValueEncoding.ARRAY,
      baseTypeOid,
      elementEncoding,
      elementTypeOid,
    });
    expect(
      binaryCopyPlan([array(ValueEncoding.INT, PgOid.int4, PgOid.int4Array)], [PgOid.int4Array]),
    ).toEqual({
      fields: [binaryCopyPlan([int4], [PgOid.int4])!.fields[0]],
      elementOids: [PgOid.int4],
    });
    const numerics = array(ValueEncoding.TEXT, PgOid.numeric, PgOid.numericArray);
    expect(binaryCopyPlan([numerics], [PgOid.numericArray])).toBeDefined();
    const moods = array(ValueEncoding.TEXT, 16_400, 16_399); // an enum's array: not built in
    expect(binaryCopyPlan([moods], [16_399])).toBeUndefined();
  });

  it('gives up (NoBinaryForm) on a numeric text Postgres accepts but does not print', () => {
    const plan = binaryCopyPlan([scalar(ValueEncoding.TEXT, PgOid.numeric)], [PgOid.numeric])!;
    const row = (t: string) =>
      create(RowSchema, { values: [create(ValueSchema, { kind: { case: 'textValue', value: t } })] });
    expect(copyBinary(plan, [row('12.50'), row('-Infinity')]).length).toBeGreaterThan(0);
    for (const t of ['1e5', ' 1', '+1', '.5', '1.', 'abc']) {
      expect(() => copyBinary(plan, [row(t)]), t).toThrow(NoBinaryForm);
    }
  });
});
