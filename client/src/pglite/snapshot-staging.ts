/**
 * The staged snapshot of an initial sync (docs/protocol.md §6.4, §6.5): one unindexed staging table per synced
 * table in `_vibestack_staging`, keyed by `schema.name` (relation ids change between connections), filled with
 * COPY (the bulk path: binary where every column has a binary form, else text), indexed by its key only when
 * handoff transactions need upserts, and swapped into the synced tables in the one local transaction that also
 * records the snapshot's LSN.
 */

import { ErrorCode, type Relation, type Row, SyncError, valueTypeOfColumn } from '@vibestack/proto';
import type { StagedChunk, TextTransaction } from '../core/client-types.ts';
import { META_SCHEMA, STAGING_SCHEMA } from '../core/constants.ts';
import { textOfRow } from '../core/relations.ts';
import { applyTransactions } from './apply-changes.ts';
import { binaryCopyPlan, copyBinary, NoBinaryForm } from './copy-binary.ts';
import { copyText } from './copy-text.ts';
import type { LocalTable } from './local-tables.ts';
import { addSyncedTable, removeSyncedTable, syncedTables } from './metadata.ts';
import { ident, qualified, type SqlRunner } from './sql.ts';

const M = ident(META_SCHEMA);

interface StagingRow {
  staging_name: string;
  staged_rows: string;
  indexed: boolean;
}

/** Drops every staging table and its bookkeeping (a new snapshot, or after the commit). */
export async function discardStaging(tx: SqlRunner): Promise<void> {
  await tx.exec(
    `DROP SCHEMA IF EXISTS ${ident(STAGING_SCHEMA)} CASCADE;
     CREATE SCHEMA ${ident(STAGING_SCHEMA)};
     DELETE FROM ${M}.staged_tables;`,
  );
}

/** The staging copy of `target` (created on first use); its columns and types are the target's. */
async function stagingOf(tx: SqlRunner, target: LocalTable): Promise<LocalTable & { indexed: boolean }> {
  const found = await tx.query<StagingRow>(
    `SELECT staging_name, staged_rows::text, indexed FROM ${M}.staged_tables WHERE schema_name = $1 AND table_name = $2`,
    [target.schema, target.name],
  );
  let row = found.rows[0];
  if (row === undefined) {
    const { rows } = await tx.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${M}.staged_tables`);
    const stagingName = `t${rows[0]!.n}`;
    await tx.exec(`CREATE TABLE ${qualified(STAGING_SCHEMA, stagingName)} (LIKE ${target.sql})`);
    await tx.query(
      `INSERT INTO ${M}.staged_tables (schema_name, table_name, staging_name) VALUES ($1, $2, $3)`,
      [target.schema, target.name, stagingName],
    );
    row = { staging_name: stagingName, staged_rows: '0', indexed: false };
  }
  return {
    ...target,
    schema: STAGING_SCHEMA,
    name: row.staging_name,
    sql: qualified(STAGING_SCHEMA, row.staging_name),
    indexed: row.indexed,
  };
}

/** The COPY statement and data for `rows` of one table: binary when every column has a binary form. */
function copyOf(
  staging: LocalTable,
  relation: Relation,
  rows: readonly Row[],
): { readonly options: string; readonly data: Uint8Array<ArrayBuffer> | string } {
  const plan = binaryCopyPlan(relation.columns, staging.typeOids);
  if (plan !== undefined) {
    try {
      return { options: ' WITH (FORMAT binary)', data: copyBinary(plan, rows) };
    } catch (error) {
      if (!(error instanceof NoBinaryForm)) throw error;
    }
  }
  const types = relation.columns.map(valueTypeOfColumn);
  return { options: '', data: copyText(rows.map((r) => textOfRow(types, r))) };
}

/** Stages chunk rows with COPY and counts them per table. */
export async function stageChunks(
  tx: SqlRunner,
  chunks: readonly StagedChunk[],
  targetOf: (relation: Relation) => LocalTable,
): Promise<void> {
  // One COPY per table and group: PGlite's per-statement cost dominates 1000-row COPYs.
  const perTable = new Map<LocalTable, { relation: Relation; rows: Row[] }>();
  for (const chunk of chunks) {
    const target = targetOf(chunk.relation);
    const entry = perTable.get(target) ?? { relation: chunk.relation, rows: [] };
    perTable.set(target, entry);
    for (const r of chunk.rows) entry.rows.push(r);
  }
  for (const [target, { relation, rows }] of perTable) {
    const staging = await stagingOf(tx, target);
    if (rows.length === 0) continue;
    const columns = staging.columns.map((c) => c.ident).join(', ');
    const { options, data } = copyOf(staging, relation, rows);
    await tx.query(`COPY ${staging.sql} (${columns}) FROM '/dev/blob'${options}`, [], {
      blob: new Blob([data]),
    });
    await tx.query(
      `UPDATE ${M}.staged_tables SET staged_rows = staged_rows + $3 WHERE schema_name = $1 AND table_name = $2`,
      [target.schema, target.name, rows.length],
    );
  }
}

/** Applies handoff transactions to the staged tables (§6.3), indexing each staging table by its key first. */
export async function applyHandoff(
  tx: SqlRunner,
  transactions: readonly TextTransaction[],
  targetOf: (relation: Relation) => LocalTable,
): Promise<void> {
  const stagings = new Map<Relation, LocalTable>();
  for (const t of transactions) {
    for (const c of t.changes) {
      for (const relation of c.op === 'truncate' ? c.relations : [c.relation]) {
        if (stagings.has(relation)) continue;
        const target = targetOf(relation);
        const staging = await stagingOf(tx, target);
        if (!staging.indexed) {
          const key = staging.key.map((i) => staging.columns[i]!.ident).join(', ');
          await tx.exec(`CREATE UNIQUE INDEX ON ${staging.sql} (${key})`);
          await tx.query(
            `UPDATE ${M}.staged_tables SET indexed = true WHERE schema_name = $1 AND table_name = $2`,
            [target.schema, target.name],
          );
        }
        stagings.set(relation, staging);
      }
    }
  }
  await applyTransactions(tx, transactions, (r) => stagings.get(r)!);
}

/** Below this many staged rows a table keeps its primary key index through the swap. */
const REBUILD_KEY_MIN_ROWS = 5_000n;

/**
 * Drops the primary key of `table` for the swap when nothing else needs it (no foreign key references the table,
 * default replica identity), so the swap inserts into an unindexed heap and the key index is then built once by
 * sorting, which is about twice as fast as maintaining it row by row (the bulk-load advice of the Postgres manual).
 * Runs under a savepoint: when the key cannot be dropped, the table is left as it was.
 * @returns how to put the key back, or `undefined` when it was not dropped.
 */
async function dropKeyForSwap(tx: SqlRunner, table: LocalTable): Promise<string | undefined> {
  const { rows } = await tx.query<{ name: string; def: string }>(
    `SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
      WHERE c.conrelid = $1::regclass AND c.contype = 'p' AND r.relkind = 'r' AND r.relreplident = 'd'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.conrelid AND f.contype = 'f')`,
    [table.sql],
  );
  const key = rows[0];
  if (key === undefined) return undefined;
  await tx.exec('SAVEPOINT vibestack_swap_key');
  try {
    await tx.exec(`ALTER TABLE ${table.sql} DROP CONSTRAINT ${ident(key.name)}`);
  } catch {
    await tx.exec('ROLLBACK TO SAVEPOINT vibestack_swap_key');
    return undefined;
  } finally {
    await tx.exec('RELEASE SAVEPOINT vibestack_swap_key');
  }
  return `ALTER TABLE ${table.sql} ADD CONSTRAINT ${ident(key.name)} ${key.def}`;
}

/** The name a staging table has for a moment while it is moved into place (never otherwise used). */
const ADOPTING = '_vibestack_adopting';

// The synced table ($1) can be replaced by its staging table ($2) when nothing is attached to it that a new
// table would lose: no triggers (PGlite's live queries add some), rules, views, foreign keys, defaults, identity
// or generated columns, other indexes, comments, grants, policies or storage options — only its row type and
// TOAST table, its primary key and NOT NULL constraints — and the two have exactly the same columns. Returns
// the primary key's name and definition.
const ADOPTABLE = `
SELECT k.conname AS name, pg_get_constraintdef(k.oid) AS def
  FROM pg_class t
  JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'p'
  JOIN pg_class s ON s.oid = $2::regclass
 WHERE t.oid = $1::regclass
   AND t.relkind = 'r' AND t.relpersistence = 'p' AND NOT t.relispartition AND t.relowner = s.relowner
   AND t.relacl IS NULL AND t.reloptions IS NULL AND t.relreplident = 'd'
   AND NOT t.relhastriggers AND NOT t.relhasrules AND NOT t.relrowsecurity AND NOT t.relhassubclass
   AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = t.oid)
   AND NOT EXISTS (SELECT 1 FROM pg_description WHERE objoid = t.oid AND classoid = 'pg_class'::regclass)
   AND NOT EXISTS (
     SELECT 1 FROM pg_depend d
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid AND d.deptype <> 'i'
        AND NOT (d.classid = 'pg_class'::regclass AND d.objid = k.conindid)
        AND NOT (d.classid = 'pg_constraint'::regclass
                 AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = t.oid AND contype IN ('p', 'n'))))
   AND (SELECT array_agg(ROW(attname, atttypid, atttypmod, attnotnull, attcollation, atthasdef, attidentity,
                             attgenerated, attstorage, attcompression) ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = t.oid AND attnum > 0 AND NOT attisdropped)
     = (SELECT array_agg(ROW(attname, atttypid, atttypmod, attnotnull, attcollation, atthasdef, attidentity,
                             attgenerated, attstorage, attcompression) ORDER BY attnum)
          FROM pg_attribute WHERE attrelid = s.oid AND attnum > 0 AND NOT attisdropped)`;

/**
 * The fast swap: the staging table itself becomes the synced table (which is dropped, in this transaction),
 * with the primary key then built once by sorting — no copy of the rows. Only when {@link ADOPTABLE} holds; the
 * staging table's own indexes (for handoff upserts) are dropped first.
 * @returns false, having changed nothing, when the table cannot be replaced.
 */
async function adoptStaging(tx: SqlRunner, target: LocalTable, stagingName: string): Promise<boolean> {
  const staging = qualified(STAGING_SCHEMA, stagingName);
  const { rows } = await tx.query<{ name: string; def: string }>(ADOPTABLE, [target.sql, staging]);
  const key = rows[0];
  if (key === undefined) return false;
  const { rows: indexes } = await tx.query<{ name: string }>(
    'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass',
    [staging],
  );
  await tx.exec(
    `${indexes.map((i) => `DROP INDEX ${i.name};`).join('\n')}
     DROP TABLE ${target.sql};
     ALTER TABLE ${staging} RENAME TO ${ident(ADOPTING)};
     ALTER TABLE ${qualified(STAGING_SCHEMA, ADOPTING)} SET SCHEMA ${ident(target.schema)};
     ALTER TABLE ${qualified(target.schema, ADOPTING)} RENAME TO ${ident(target.name)};
     ALTER TABLE ${target.sql} ADD CONSTRAINT ${ident(key.name)} ${key.def};`,
  );
  return true;
}

/**
 * Replaces the synced state with the staged snapshot (§6.4): every table of the snapshot gets exactly its staged
 * rows, synced tables absent from the snapshot are emptied, staging is dropped. A table with nothing attached is
 * replaced by its staging table ({@link adoptStaging}); any other gets the staged rows copied in, with its primary
 * key rebuilt after the copy where possible ({@link dropKeyForSwap}).
 * @throws SyncError INTERNAL when a table's staged row count differs from `SnapshotEnd.row_counts`.
 */
export async function commitSnapshot(
  tx: SqlRunner,
  tables: readonly LocalTable[],
  rowCounts: readonly bigint[],
): Promise<void> {
  const { rows: staged } = await tx.query<{ schema_name: string; table_name: string } & StagingRow>(
    `SELECT schema_name, table_name, staging_name, staged_rows::text, indexed FROM ${M}.staged_tables`,
  );
  const stagingByName = new Map(staged.map((s) => [`${s.schema_name}.${s.table_name}`, s]));
  if (rowCounts.length === tables.length) {
    tables.forEach((t, i) => {
      const n = BigInt(stagingByName.get(`${t.schema}.${t.name}`)?.staged_rows ?? '0');
      if (n !== rowCounts[i]) {
        throw new SyncError(
          ErrorCode.INTERNAL,
          `${t.schema}.${t.name}: staged ${n} rows, the server sent ${rowCounts[i]}`,
        );
      }
    });
  }
  const inSnapshot = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  // Synced tables the snapshot left out are emptied and stop being synced (§6.4); the local table stays, empty.
  for (const old of await syncedTables(tx)) {
    if (inSnapshot.has(`${old.schema}.${old.name}`)) continue;
    await tx.exec(`DELETE FROM ${qualified(old.schema, old.name)}`);
    await removeSyncedTable(tx, old.schema, old.name);
  }
  for (const t of tables) {
    const s = stagingByName.get(`${t.schema}.${t.name}`);
    if (s !== undefined && (await adoptStaging(tx, t, s.staging_name))) {
      await addSyncedTable(tx, t.schema, t.name);
      continue;
    }
    await tx.exec(`DELETE FROM ${t.sql}`);
    if (s !== undefined) {
      const restoreKey =
        BigInt(s.staged_rows) >= REBUILD_KEY_MIN_ROWS ? await dropKeyForSwap(tx, t) : undefined;
      const columns = t.columns.map((c) => c.ident).join(', ');
      await tx.exec(
        `INSERT INTO ${t.sql} (${columns}) SELECT ${columns} FROM ${qualified(STAGING_SCHEMA, s.staging_name)}`,
      );
      // Fails (rolling the whole swap back) exactly when the plain insert would have: a duplicate key.
      if (restoreKey !== undefined) await tx.exec(restoreKey);
    }
    await addSyncedTable(tx, t.schema, t.name);
  }
  await discardStaging(tx);
}
