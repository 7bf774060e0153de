import { create } from '@bufbuild/protobuf';
import {
  ColumnSchema,
  ErrorCode,
  RelationSchema,
  RowSchema,
  SyncError,
  ValueEncoding,
} from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { describeRelation, fullRow } from './relations.ts';
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
