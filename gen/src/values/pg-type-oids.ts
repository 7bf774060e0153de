/**
 * OIDs of the built-in Postgres types that have a dedicated wire encoding. Built-in OIDs are fixed by
 * Postgres's catalog (src/include/catalog/pg_type.dat); extension types (pgvector) are recognised by name.
 */
export const PgOid = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
  // Array types.
  boolArray: 1000,
  byteaArray: 1001,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  int8Array: 1016,
  float4Array: 1021,
  float8Array: 1022,
  oidArray: 1028,
  timestampArray: 1115,
  dateArray: 1182,
  timestamptzArray: 1185,
  numericArray: 1231,
  uuidArray: 2951,
  jsonbArray: 3807,
} as const;

/** The name pgvector gives its dense vector type (in whatever schema the extension lives). */
export const PGVECTOR_TYPE_NAME = 'vector';
