/**
 * The wire type of a column: its {@link ValueEncoding} plus the few facts needed to turn values back into
 * Postgres text (float4 vs float8, timestamp vs timestamptz, the element type of an array).
 */

import type { Column } from '../gen/vibestack/sync/v1/schema_pb.ts';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import { PGVECTOR_TYPE_NAME, PgOid } from './pg-type-oids.ts';

/** The wire type of a column or array element. */
export type ValueType =
  | { readonly encoding: ValueEncoding.FLOAT; readonly single: boolean }
  | { readonly encoding: ValueEncoding.TIMESTAMP; readonly withTimeZone: boolean }
  | { readonly encoding: ValueEncoding.ARRAY; readonly element: ScalarValueType }
  | {
      readonly encoding:
        | ValueEncoding.TEXT
        | ValueEncoding.BOOL
        | ValueEncoding.INT
        | ValueEncoding.BYTES
        | ValueEncoding.UUID
        | ValueEncoding.DATE
        | ValueEncoding.VECTOR;
    };

/** A wire type that is not an array (array elements are never arrays themselves). */
export type ScalarValueType = Exclude<ValueType, { encoding: ValueEncoding.ARRAY }>;

/** The shape of a Postgres type needed to choose its encoding (a row of `pg_type`, resolved). */
export interface PgTypeInfo {
  /** `pg_type.oid`. */
  readonly oid: number;
  /** `pg_type.typname` (unqualified). */
  readonly name: string;
  /** For a domain: its base type (resolved recursively by the caller). */
  readonly base?: PgTypeInfo;
  /** For an array type: its element type. */
  readonly element?: PgTypeInfo;
  /** `pg_type.typdelim` of the element type for arrays; `,` for all but a few geometric types. */
  readonly delimiter?: string;
}

const BUILTIN_SCALARS: ReadonlyMap<number, ScalarValueType> = new Map<number, ScalarValueType>([
  [PgOid.bool, { encoding: ValueEncoding.BOOL }],
  [PgOid.int2, { encoding: ValueEncoding.INT }],
  [PgOid.int4, { encoding: ValueEncoding.INT }],
  [PgOid.int8, { encoding: ValueEncoding.INT }],
  [PgOid.oid, { encoding: ValueEncoding.INT }],
  [PgOid.float4, { encoding: ValueEncoding.FLOAT, single: true }],
  [PgOid.float8, { encoding: ValueEncoding.FLOAT, single: false }],
  [PgOid.bytea, { encoding: ValueEncoding.BYTES }],
  [PgOid.uuid, { encoding: ValueEncoding.UUID }],
  [PgOid.timestamp, { encoding: ValueEncoding.TIMESTAMP, withTimeZone: false }],
  [PgOid.timestamptz, { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }],
  [PgOid.date, { encoding: ValueEncoding.DATE }],
]);

const TEXT: ScalarValueType = { encoding: ValueEncoding.TEXT };

function resolveScalar(type: PgTypeInfo): ScalarValueType {
  if (type.base) return resolveScalar(type.base);
  if (type.name === PGVECTOR_TYPE_NAME && !BUILTIN_SCALARS.has(type.oid))
    return { encoding: ValueEncoding.VECTOR };
  return BUILTIN_SCALARS.get(type.oid) ?? TEXT;
}

/**
 * Chooses the wire type of a Postgres type (server side). Domains follow their base type; arrays use
 * VALUE_ENCODING_ARRAY with their element's encoding, except arrays whose delimiter is not `,` (`box[]`),
 * which travel as text. Everything without a dedicated encoding is TEXT.
 */
export function valueTypeOfPgType(type: PgTypeInfo): ValueType {
  if (type.base) return valueTypeOfPgType(type.base);
  if (type.element) {
    if ((type.delimiter ?? ',') !== ',') return TEXT;
    return { encoding: ValueEncoding.ARRAY, element: resolveScalar(type.element) };
  }
  return resolveScalar(type);
}

function scalarFromWire(encoding: ValueEncoding, baseOid: number): ScalarValueType {
  switch (encoding) {
    case ValueEncoding.FLOAT:
      return { encoding, single: baseOid === PgOid.float4 };
    case ValueEncoding.TIMESTAMP:
      return { encoding, withTimeZone: baseOid === PgOid.timestamptz };
    case ValueEncoding.TEXT:
    case ValueEncoding.BOOL:
    case ValueEncoding.INT:
    case ValueEncoding.BYTES:
    case ValueEncoding.UUID:
    case ValueEncoding.DATE:
    case ValueEncoding.VECTOR:
      return { encoding };
    default:
      throw new RangeError(`not a scalar value encoding: ${encoding}`);
  }
}

/**
 * The wire type of a column as described in a Relation (client side).
 * @throws RangeError when the descriptor is inconsistent (unspecified encoding, array without element encoding).
 */
export function valueTypeOfColumn(
  column: Pick<Column, 'encoding' | 'elementEncoding' | 'baseTypeOid' | 'elementTypeOid'>,
): ValueType {
  if (column.encoding === ValueEncoding.ARRAY) {
    return {
      encoding: ValueEncoding.ARRAY,
      element: scalarFromWire(column.elementEncoding, column.elementTypeOid),
    };
  }
  return scalarFromWire(column.encoding, column.baseTypeOid);
}
