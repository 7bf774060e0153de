/**
 * Rows as Postgres output text on either side — the server's Postgres and the client's PGlite — under the
 * protocol's text settings (docs/protocol.md §7.3), so that the same query gives comparable strings. Free of
 * vitest, so that a client in a child process can use it too. Test-only.
 */

import type { PGliteInterface } from '@electric-sql/pglite';
import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import type pg from 'pg';

/** Rows of text values (`null` = SQL NULL), in the query's order. */
export type TextRows = (string | null)[][];

const SET_LOCAL = Object.entries(TEXT_VALUE_SESSION_SETTINGS)
  .map(([k, v]) => `SET LOCAL ${k} = '${v}'`)
  .join('; ');

/**
 * A SELECT of `columns` (quoted identifiers) of `table` as each type's output text — `format('%s', …)` calls the
 * output function, unlike `::text`, which trims `char(n)` and spells booleans out — ordered by `orderBy`. NULL
 * is tested with `num_nulls`: `IS NULL` is also true for a composite value whose fields are all NULL (`(,)`).
 */
export function textRowsQuery(table: string, columns: readonly string[], orderBy: string): string {
  const list = columns.map((c) => `CASE WHEN num_nulls(${c}) = 1 THEN NULL ELSE format('%s', ${c}) END`);
  return `SELECT ${list.join(', ')} FROM ${table} ORDER BY ${orderBy}`;
}

/** Runs `query` on the server session (which must return text and use the §7.3 settings). */
export async function serverTextRows(sql: pg.Client, query: string): Promise<TextRows> {
  const { rows } = await sql.query<(string | null)[]>({ text: query, rowMode: 'array' });
  return rows;
}

/** Runs `query` on the local database in a read transaction with the §7.3 settings (the session's stay as set). */
export async function localTextRows(local: PGliteInterface, query: string): Promise<TextRows> {
  return local.transaction(async (tx) => {
    await tx.exec(SET_LOCAL);
    const { rows } = await tx.query<(string | null)[]>(query, [], { rowMode: 'array' });
    return rows;
  });
}
