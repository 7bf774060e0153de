/** A real in-memory PGlite for the apply-layer tests, with helpers to read tables back as text. Test-only. */

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { PGlite } from '@electric-sql/pglite';
import {
  type Column,
  ColumnSchema,
  type Relation,
  RelationSchema,
  TEXT_VALUE_SESSION_SETTINGS,
  type ValueEncoding,
} from '@vibestack/proto';
import { qualified } from '../sql.ts';
import { createSyncStore, type SyncStore, type SyncStoreOptions } from '../sync-store.ts';

/** A fresh in-memory database (cold start takes seconds: create one per test file). */
export async function freshPGlite(): Promise<PGlite> {
  const db = await PGlite.create();
  // Read values back the way the protocol prints them (§7.3).
  for (const [k, v] of Object.entries(TEXT_VALUE_SESSION_SETTINGS)) await db.exec(`SET ${k} = '${v}'`);
  return db;
}

export async function openStore(db: PGlite, options: SyncStoreOptions = {}): Promise<SyncStore> {
  const store = createSyncStore(db, { newClientId: () => 'client-test', ...options });
  await store.open();
  return store;
}

/** A column descriptor with `type_name` = `base_type_name`. */
export function col(
  name: string,
  typeName: string,
  encoding: ValueEncoding,
  extra: MessageInitShape<typeof ColumnSchema> = {},
): Column {
  return create(ColumnSchema, {
    name,
    typeName,
    baseTypeName: typeName,
    encoding,
    nullable: true,
    typeModifier: -1,
    ...extra,
  });
}

export function relation(
  relationId: number,
  name: string,
  columns: Column[],
  primaryKey = [0],
  schema = 'public',
): Relation {
  return create(RelationSchema, { relationId, schema, name, columns, primaryKey });
}

/** Every row of a table as text, ordered by its first column's text. */
export async function rowsOf(db: PGlite, schema: string, name: string, columns: readonly string[]) {
  // format('%s') prints with the type's output function (`::text` would trim char(n) padding).
  const list = columns
    .map((c) => `CASE WHEN "${c}" IS NULL THEN NULL ELSE format('%s', "${c}") END AS "${c}"`)
    .join(', ');
  const { rows } = await db.query<Record<string, string | null>>(
    `SELECT ${list} FROM ${qualified(schema, name)}`,
  );
  return rows.sort((a, b) =>
    String(a[columns[0]!]).localeCompare(String(b[columns[0]!]), 'en', { numeric: true }),
  );
}

/** The applied LSN in `_vibestack.state`. */
export async function appliedLsn(db: PGlite): Promise<string> {
  const { rows } = await db.query<{ lsn: string }>('SELECT applied_lsn::text AS lsn FROM _vibestack.state');
  return rows[0]!.lsn;
}
