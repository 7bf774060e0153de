/**
 * Reads current rows by primary key, for changes the change log cannot carry by itself (a row that moved into a
 * user's scope while a large value in it was unchanged, so pgoutput did not resend it). Names come from the
 * catalog, never from a client; key values are bound as parameters.
 */

import type { Tuple } from '../core/change.ts';
import { quoteIdent, quoteTable, type TableName } from './quote.ts';
import type { SqlClient } from './sql-client.ts';

/**
 * The rows of `table` with the given keys (each in `keyColumns` order), as `columns` in that order; `undefined`
 * for a key without a row. One statement per key, in one session.
 */
export async function fetchRowsByKey(
  client: SqlClient,
  table: TableName,
  columns: readonly string[],
  keyColumns: readonly string[],
  keys: readonly Tuple[],
): Promise<(Tuple | undefined)[]> {
  const select = columns.map(quoteIdent).join(', ');
  // Untyped parameters take the key column's type, so the text goes through its input function.
  const where = keyColumns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
  const out: (Tuple | undefined)[] = [];
  for (const key of keys) {
    const { rows } = await client.queryArrays(`SELECT ${select} FROM ${quoteTable(table)} WHERE ${where}`, [
      ...key,
    ]);
    out.push(rows[0]);
  }
  return out;
}
