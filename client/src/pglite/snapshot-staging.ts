/**
 * The staged snapshot of an initial sync (docs/protocol.md §6.4, §6.5): one unindexed staging table per synced
 * table in `_vibestack_staging`, keyed by `schema.name` (relation ids change between connections), filled with
 * COPY (the bulk path), indexed by its key only when handoff transactions need upserts, and swapped into the
 * synced tables in the one local transaction that also records the snapshot's LSN.
 */

import { ErrorCode, type Relation, SyncError } from '@vibestack/proto';
import type { StagedChunk, TextTransaction } from '../core/client-types.ts';
import { META_SCHEMA, STAGING_SCHEMA } from '../core/constants.ts';
import { applyTransactions } from './apply-changes.ts';
import { copyText } from './copy-text.ts';
import type { LocalTable } from './local-tables.ts';
import { addSyncedTable, syncedTables } from './metadata.ts';
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

/** Stages chunk rows with COPY and counts them per table. */
export async function stageChunks(
  tx: SqlRunner,
  chunks: readonly StagedChunk[],
  targetOf: (relation: Relation) => LocalTable,
): Promise<void> {
  // One COPY per table and group: PGlite's per-statement cost dominates 1000-row COPYs.
  const perTable = new Map<LocalTable, string[]>();
  for (const chunk of chunks) {
    const target = targetOf(chunk.relation);
    const parts = perTable.get(target) ?? [];
    perTable.set(target, parts);
    if (chunk.rows.length > 0) parts.push(copyText(chunk.rows));
  }
  for (const [target, parts] of perTable) {
    const staging = await stagingOf(tx, target);
    if (parts.length === 0) continue;
    const columns = staging.columns.map((c) => c.ident).join(', ');
    await tx.query(`COPY ${staging.sql} (${columns}) FROM '/dev/blob'`, [], { blob: new Blob(parts) });
    const rows = chunks.reduce((n, c) => n + (targetOf(c.relation) === target ? c.rows.length : 0), 0);
    await tx.query(
      `UPDATE ${M}.staged_tables SET staged_rows = staged_rows + $3 WHERE schema_name = $1 AND table_name = $2`,
      [target.schema, target.name, rows],
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

/**
 * Replaces the synced state with the staged snapshot (§6.4): every table of the snapshot gets exactly its staged
 * rows, synced tables absent from the snapshot are emptied, staging is dropped.
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
  for (const old of await syncedTables(tx)) {
    if (!inSnapshot.has(`${old.schema}.${old.name}`))
      await tx.exec(`DELETE FROM ${qualified(old.schema, old.name)}`);
  }
  for (const t of tables) {
    const s = stagingByName.get(`${t.schema}.${t.name}`);
    await tx.exec(`DELETE FROM ${t.sql}`);
    if (s !== undefined) {
      const columns = t.columns.map((c) => c.ident).join(', ');
      await tx.exec(
        `INSERT INTO ${t.sql} (${columns}) SELECT ${columns} FROM ${qualified(STAGING_SCHEMA, s.staging_name)}`,
      );
    }
    await addSyncedTable(tx, t.schema, t.name);
  }
  await discardStaging(tx);
}
