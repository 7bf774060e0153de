/**
 * Reads the TypeScript client's synced state out of its PGlite database as a conformance `State`: every table
 * listed in `_vibestack.synced_tables`, each value as its type's output text under the protocol's session
 * settings (docs/protocol.md §7.3), and the applied LSN — all in one read transaction.
 */

import { create } from '@bufbuild/protobuf';
import {
  cellOf,
  type DumpStateResult,
  DumpStateResultSchema,
  StateSchema,
  TableStateSchema,
} from '@vibestack/conformance';
import { type Lsn, parseLsn, TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';

/** The part of PGlite the dump needs. */
export interface DumpDatabase {
  transaction<T>(callback: (tx: DumpTransaction) => Promise<T>): Promise<T>;
}

/** A transaction of {@link DumpDatabase}. */
export interface DumpTransaction {
  exec(sql: string): Promise<unknown>;
  query<R>(
    sql: string,
    params?: unknown[],
    options?: { rowMode?: 'array' | 'object' },
  ): Promise<{ rows: R[] }>;
}

const META_SCHEMA = '_vibestack';

const SET_LOCAL = Object.entries(TEXT_VALUE_SESSION_SETTINGS)
  .map(([k, v]) => `SET LOCAL ${k} = '${v}'`)
  .join('; ');

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The applied LSN and synced tables of the client's database (no metadata yet: LSN 0, no tables). */
export async function dumpLocalState(db: DumpDatabase): Promise<DumpStateResult> {
  return db.transaction(async (tx) => {
    await tx.exec(SET_LOCAL);
    const meta = await tx.query<{ present: boolean }>(
      `SELECT to_regclass('${META_SCHEMA}.state') IS NOT NULL AS present`,
    );
    if (meta.rows[0]?.present !== true) {
      return create(DumpStateResultSchema, { appliedLsn: 0n, state: create(StateSchema) });
    }
    const state = await tx.query<{ applied_lsn: string }>(
      `SELECT applied_lsn::text FROM ${META_SCHEMA}.state`,
    );
    const appliedLsn: Lsn = state.rows[0] ? parseLsn(state.rows[0].applied_lsn) : 0n;
    const synced = await tx.query<{ schema_name: string; table_name: string }>(
      `SELECT schema_name, table_name FROM ${META_SCHEMA}.synced_tables ORDER BY 1, 2`,
    );
    const tables = [];
    for (const { schema_name: schema, table_name: name } of synced.rows) {
      const qualified = `${ident(schema)}.${ident(name)}`;
      const cols = await tx.query<{ attname: string }>(
        `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
         ORDER BY attnum`,
        [qualified],
      );
      const columns = cols.rows.map((c) => c.attname);
      const list = columns.map(
        (c) => `CASE WHEN num_nulls(${ident(c)}) = 1 THEN NULL ELSE format('%s', ${ident(c)}) END`,
      );
      const rows =
        columns.length === 0
          ? { rows: [] as (string | null)[][] }
          : await tx.query<(string | null)[]>(`SELECT ${list.join(', ')} FROM ${qualified}`, [], {
              rowMode: 'array',
            });
      tables.push(
        create(TableStateSchema, {
          schema,
          name,
          columns,
          rows: rows.rows.map((row) => ({ cells: row.map(cellOf) })),
        }),
      );
    }
    return create(DumpStateResultSchema, { appliedLsn, state: create(StateSchema, { tables }) });
  });
}
