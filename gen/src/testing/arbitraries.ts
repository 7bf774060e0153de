/**
 * fast-check arbitraries for wire values of every encoding, shared by the codec's unit tests and its
 * real-Postgres tests.
 */

import fc from 'fast-check';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import {
  DATE_NEG_INFINITY,
  DATE_POS_INFINITY,
  END_PG_TIMESTAMP,
  MAX_PG_DATE,
  MIN_PG_DAY,
  MIN_PG_TIMESTAMP,
  TIMESTAMP_NEG_INFINITY,
  TIMESTAMP_POS_INFINITY,
} from '../values/pg-datetime.ts';
import type { ScalarValueType, ValueType } from '../values/value-type.ts';

/** Every scalar wire type, with the Postgres type name used to test it against a real server. */
export const SCALAR_TYPES: readonly { pgType: string; type: ScalarValueType }[] = [
  { pgType: 'text', type: { encoding: ValueEncoding.TEXT } },
  { pgType: 'boolean', type: { encoding: ValueEncoding.BOOL } },
  { pgType: 'bigint', type: { encoding: ValueEncoding.INT } },
  { pgType: 'double precision', type: { encoding: ValueEncoding.FLOAT, single: false } },
  { pgType: 'real', type: { encoding: ValueEncoding.FLOAT, single: true } },
  { pgType: 'bytea', type: { encoding: ValueEncoding.BYTES } },
  { pgType: 'uuid', type: { encoding: ValueEncoding.UUID } },
  { pgType: 'timestamp', type: { encoding: ValueEncoding.TIMESTAMP, withTimeZone: false } },
  { pgType: 'timestamptz', type: { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true } },
  { pgType: 'date', type: { encoding: ValueEncoding.DATE } },
];

/** Text without NUL (Postgres text cannot hold U+0000), with a bias to characters arrays must quote. */
export const pgText = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({
      unit: fc.constantFrom('a', ' ', '"', '\\', '{', '}', ',', 'N', 'U', 'L', '\t', '\n', 'é'),
      maxLength: 8,
    }),
    fc.constantFrom('', 'NULL', 'null', ' x ', '"', '\\'),
  )
  .map((s) => s.replace(/\0/g, ''));

/** Doubles including NaN, ±Infinity, -0, subnormals and extremes. */
export const pgFloat8 = fc.double();
/** float32 values (as doubles). */
export const pgFloat4 = fc.float().map((f) => Math.fround(f));

/** Microseconds since 2000-01-01 over Postgres's whole range, plus the infinities. */
export const pgTimestamp = fc.oneof(
  fc.bigInt({ min: MIN_PG_TIMESTAMP, max: END_PG_TIMESTAMP - 1n }),
  fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
  fc.constantFrom(
    TIMESTAMP_NEG_INFINITY,
    TIMESTAMP_POS_INFINITY,
    MIN_PG_TIMESTAMP,
    END_PG_TIMESTAMP - 1n,
    0n,
  ),
);

/** Days since 2000-01-01 over Postgres's whole date range, plus the infinities. */
export const pgDate = fc.oneof(
  fc.integer({ min: MIN_PG_DAY, max: MAX_PG_DATE }),
  fc.integer({ min: -800_000, max: 800_000 }),
  fc.constantFrom(DATE_NEG_INFINITY, DATE_POS_INFINITY, MIN_PG_DAY, MAX_PG_DATE, 0),
);

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/** A "native" value for a scalar type: what the wire value case carries. */
export function nativeOf(type: ScalarValueType): fc.Arbitrary<unknown> {
  switch (type.encoding) {
    case ValueEncoding.TEXT:
      return pgText;
    case ValueEncoding.BOOL:
      return fc.boolean();
    case ValueEncoding.INT:
      return fc.oneof(fc.bigInt(INT64), fc.bigInt({ min: -1000n, max: 1000n }));
    case ValueEncoding.FLOAT:
      return type.single ? pgFloat4 : pgFloat8;
    case ValueEncoding.BYTES:
      return fc.uint8Array({ maxLength: 40 });
    case ValueEncoding.UUID:
      return fc.uint8Array({ minLength: 16, maxLength: 16 });
    case ValueEncoding.TIMESTAMP:
      return pgTimestamp;
    case ValueEncoding.DATE:
      return pgDate;
    case ValueEncoding.VECTOR:
      return fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround), { maxLength: 12 });
  }
}

/** The `Value.kind` case name for a scalar encoding. */
export function caseOf(type: ValueType): string {
  return {
    [ValueEncoding.UNSPECIFIED]: 'unset',
    [ValueEncoding.TEXT]: 'textValue',
    [ValueEncoding.BOOL]: 'boolValue',
    [ValueEncoding.INT]: 'intValue',
    [ValueEncoding.FLOAT]: 'floatValue',
    [ValueEncoding.BYTES]: 'bytesValue',
    [ValueEncoding.UUID]: 'uuidValue',
    [ValueEncoding.TIMESTAMP]: 'timestampValue',
    [ValueEncoding.DATE]: 'dateValue',
    [ValueEncoding.ARRAY]: 'arrayValue',
    [ValueEncoding.VECTOR]: 'vectorValue',
  }[type.encoding];
}
