/**
 * Reading catalog values that arrive as Postgres text (every `SqlClient` value is text).
 */

import { type Lsn, parseLsn } from '@vibestack/proto';

/** `t` / `f` → boolean. */
export function pgBool(text: string | null): boolean {
  return text === 't';
}

/** A `pg_lsn` text (`X/Y`), or `null` → `null`. */
export function pgLsnOrNull(text: string | null): Lsn | null {
  return text === null ? null : parseLsn(text);
}

/** A `pg_lsn` text that must be present. */
export function pgLsn(text: string | null, what: string): Lsn {
  if (text === null) throw new Error(`${what} is NULL`);
  return parseLsn(text);
}

/** An integer-valued text (int2/int4/int8/oid/xid/numeric without fraction) → bigint. */
export function pgBigInt(text: string, what: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new Error(`${what} is not an integer: ${JSON.stringify(text)}`);
  return BigInt(text);
}

/** An int2/int4/oid/xid text → number. */
export function pgInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} is not an integer: ${JSON.stringify(text)}`);
  return n;
}
