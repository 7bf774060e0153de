/**
 * The storage port of the change log: a synchronous SQLite `exec`, which is exactly the shape of a Durable
 * Object's `ctx.storage.sql.exec(...).toArray()`. Tests plug in an in-memory SQLite (sql.js).
 */

/** A value SQLite stores: LSNs are kept as fixed-width hex text so that they sort and never lose bits. */
export type SqlValue = string | number | null | Uint8Array;

/** Runs one statement and returns its rows as plain objects. */
export interface SqlPort {
  exec<Row extends Record<string, SqlValue> = Record<string, SqlValue>>(
    query: string,
    ...bindings: SqlValue[]
  ): Row[];
}

/** An LSN as 16 hex digits (sortable text). */
export function lsnKey(lsn: bigint): string {
  return lsn.toString(16).padStart(16, '0');
}

/** The LSN of a {@link lsnKey}. */
export function lsnFromKey(key: string): bigint {
  return BigInt(`0x${key}`);
}
