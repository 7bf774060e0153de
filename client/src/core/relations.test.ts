import { create } from '@bufbuild/protobuf';
import {
  ColumnSchema,
  ErrorCode,
  RelationSchema,
  RowSchema,
  SyncError,
  type Value,
  ValueEncoding,
  ValueSchema,
} from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseOf, nativeOf, SCALAR_TYPES } from '../../../gen/src/testing/arbitraries.ts';
import { checkFullRow, describeRelation, fullRow, keyRow, textOfRow, updateRow } from './relations.ts';
import { intValue } from './testing/server-frames.ts';

const numbers = describeRelation(
  create(RelationSchema, {
    relationId: 1,
    schema: 'public',
    name: 'numbers',
    primaryKey: [0],
    columns: [
      ['i8', 'bigint', 20],
      ['i2', 'smallint', 21],
      ['i4', 'integer', 23],
      ['o', 'oid', 26],
    ].map(([name, typeName, baseTypeOid]) =>
      create(ColumnSchema, {
        name: name as string,
        typeName: typeName as string,
        baseTypeName: typeName as string,
        baseTypeOid: baseTypeOid as number,
        encoding: ValueEncoding.INT,
        typeModifier: -1,
      }),
    ),
  }),
);
const row = (...values: bigint[]) => create(RowSchema, { values: values.map(intValue) });
const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('fullRow integer ranges', () => {
  it('accepts the bounds of smallint, integer and oid columns', () => {
    expect(fullRow(numbers, row(-(2n ** 63n), -32_768n, -2_147_483_648n, 0n))).toEqual([
      '-9223372036854775808',
      '-32768',
      '-2147483648',
      '0',
    ]);
    expect(fullRow(numbers, row(2n ** 63n - 1n, 32_767n, 2_147_483_647n, 4_294_967_295n))).toEqual([
      '9223372036854775807',
      '32767',
      '2147483647',
      '4294967295',
    ]);
  });

  it.each([
    ['smallint', row(1n, 32_768n, 0n, 0n)],
    ['smallint', row(1n, -32_769n, 0n, 0n)],
    ['integer', row(1n, 0n, 2_147_483_648n, 0n)],
    ['integer', row(1n, 0n, -2_147_483_649n, 0n)],
    ['oid', row(1n, 0n, 0n, -1n)],
    ['oid', row(1n, 0n, 0n, 4_294_967_296n)],
  ])('rejects a value outside %s as INVALID_VALUE', (_, r) => {
    const e = errorOf(() => fullRow(numbers, r));
    expect(e).toBeInstanceOf(SyncError);
    expect((e as SyncError).code).toBe(ErrorCode.INVALID_VALUE);
  });
});

describe('integer ranges inside arrays and keys (§7.2: element_type_oid, key rows)', () => {
  // A smallint key and an int2[] column: `element_type_oid` 21 gives the elements' range.
  const arrays = describeRelation(
    create(RelationSchema, {
      relationId: 3,
      schema: 'public',
      name: 'arrays',
      primaryKey: [0],
      columns: [
        create(ColumnSchema, { name: 'k', baseTypeOid: 21, encoding: ValueEncoding.INT, typeModifier: -1 }),
        create(ColumnSchema, {
          name: 'a',
          typeName: 'smallint[]',
          baseTypeOid: 1005,
          elementTypeOid: 21,
          encoding: ValueEncoding.ARRAY,
          elementEncoding: ValueEncoding.INT,
          typeModifier: -1,
        }),
      ],
    }),
  );
  const arrayOf = (...elements: bigint[]) =>
    create(ValueSchema, { kind: { case: 'arrayValue', value: { elements: elements.map(intValue) } } });
  const arrayRow = (k: bigint, ...elements: bigint[]) =>
    create(RowSchema, { values: [intValue(k), arrayOf(...elements)] });
  const codeOf = (f: () => unknown) => (errorOf(f) as SyncError | undefined)?.code;

  it('accepts elements at the bounds of the element type', () => {
    expect(fullRow(arrays, arrayRow(1n, -32_768n, 32_767n))).toEqual(['1', '{-32768,32767}']);
    expect(checkFullRow(arrays, arrayRow(1n, 32_767n))).toBeDefined();
  });

  it('rejects an element outside the element type in snapshot rows, inserts and updates', () => {
    expect(codeOf(() => checkFullRow(arrays, arrayRow(1n, 1n, 40_000n)))).toBe(ErrorCode.INVALID_VALUE);
    expect(codeOf(() => fullRow(arrays, arrayRow(1n, -32_769n)))).toBe(ErrorCode.INVALID_VALUE);
    expect(codeOf(() => updateRow(arrays, arrayRow(1n, 40_000n)))).toBe(ErrorCode.INVALID_VALUE);
  });

  it('rejects a key row value outside its column type', () => {
    const key = (k: bigint) => create(RowSchema, { values: [intValue(k)] });
    expect(keyRow(arrays, key(32_767n))).toEqual(['32767']);
    expect(codeOf(() => keyRow(arrays, key(32_768n)))).toBe(ErrorCode.INVALID_VALUE);
  });
});

describe('checkFullRow', () => {
  // A key, then one column per scalar type.
  const mixed = describeRelation(
    create(RelationSchema, {
      relationId: 2,
      schema: 'public',
      name: 'mixed',
      primaryKey: [0],
      columns: [
        create(ColumnSchema, { name: 'id', baseTypeOid: 20, encoding: ValueEncoding.INT, typeModifier: -1 }),
        ...SCALAR_TYPES.map(({ type }, i) =>
          create(ColumnSchema, {
            name: `c${i}`,
            encoding: type.encoding,
            baseTypeOid:
              type.encoding === ValueEncoding.INT
                ? 20
                : type.encoding === ValueEncoding.FLOAT
                  ? type.single
                    ? 700
                    : 701
                  : type.encoding === ValueEncoding.TIMESTAMP && type.withTimeZone
                    ? 1184
                    : 0,
            typeModifier: -1,
          }),
        ),
      ],
    }),
  );
  const anyValue: fc.Arbitrary<Value> = fc.oneof(
    fc
      .constantFrom(...SCALAR_TYPES)
      .chain(({ type }) =>
        nativeOf(type).map((value) =>
          create(ValueSchema, { kind: { case: caseOf(type), value } as Value['kind'] }),
        ),
      ),
    fc
      .constantFrom('null' as const, 'unchanged' as const)
      .map((c) => create(ValueSchema, { kind: { case: c, value: true } })),
  );
  const ownValue = (i: number): fc.Arbitrary<Value> => {
    const type = i === 0 ? SCALAR_TYPES[2]!.type : SCALAR_TYPES[i - 1]!.type;
    return nativeOf(type).map((value) =>
      create(ValueSchema, { kind: { case: caseOf(type), value } as Value['kind'] }),
    );
  };
  const columns = SCALAR_TYPES.length + 1;
  // Mostly each column's own type, sometimes anything, sometimes the wrong length.
  const rowValues = fc.oneof(
    {
      weight: 9,
      arbitrary: fc.tuple(
        ...Array.from({ length: columns }, (_, i) =>
          fc.oneof({ weight: 12, arbitrary: ownValue(i) }, { weight: 1, arbitrary: anyValue }),
        ),
      ),
    },
    { weight: 1, arbitrary: fc.array(anyValue, { maxLength: columns + 1 }) },
  );
  const outcome = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (e) {
      return e instanceof SyncError ? `SyncError ${e.code}` : e;
    }
  };

  it('accepts exactly the rows fullRow accepts, and textOfRow then gives fullRow’s text', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rowValues, (values) => {
        const r = create(RowSchema, { values });
        const expected = outcome(() => fullRow(mixed, r));
        const checked = outcome(() => textOfRow(mixed.types, checkFullRow(mixed, r)));
        expect(checked).toEqual(expected);
        if (Array.isArray(expected)) accepted++;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });
});
