/**
 * The client's metadata in its own schema inside the application's PGlite (`_vibestack`): the client id, the
 * applied LSN, the server's schema version, the mutation counter and the resumable snapshot position — written
 * in the same local transaction as the data they describe (docs/protocol.md §6.5, §8.7).
 */

import { formatLsn, type Lsn, parseLsn } from '@vibestack/proto';
import type { ResumeState } from '../core/client-types.ts';
import { META_LAYOUT_VERSION, META_SCHEMA, STAGING_SCHEMA } from '../core/constants.ts';
import { ident, type SqlRunner } from './sql.ts';

const M = ident(META_SCHEMA);

/** The metadata schema (idempotent). */
const LAYOUT = `
CREATE SCHEMA IF NOT EXISTS ${M};
CREATE SCHEMA IF NOT EXISTS ${ident(STAGING_SCHEMA)};
CREATE TABLE IF NOT EXISTS ${M}.state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  layout_version integer NOT NULL,
  client_id text NOT NULL,
  applied_lsn pg_lsn NOT NULL DEFAULT '0/0',
  schema_version text NOT NULL DEFAULT '',
  last_sent_mutation_id bigint NOT NULL DEFAULT 0,
  snapshot_id text,
  snapshot_cursor bytea
);
CREATE TABLE IF NOT EXISTS ${M}.synced_tables (
  schema_name text NOT NULL,
  table_name text NOT NULL,
  PRIMARY KEY (schema_name, table_name)
);
CREATE TABLE IF NOT EXISTS ${M}.staged_tables (
  schema_name text NOT NULL,
  table_name text NOT NULL,
  staging_name text NOT NULL UNIQUE,
  staged_rows bigint NOT NULL DEFAULT 0,
  indexed boolean NOT NULL DEFAULT false,
  PRIMARY KEY (schema_name, table_name)
);`;

/** What the store loads at start. */
export interface StoredState {
  readonly clientId: string;
  readonly resume: ResumeState;
  readonly schemaVersion: string;
}

/** Creates the metadata schema if needed and the client id on first use; returns the stored state. */
export async function openMetadata(db: SqlRunner, newClientId: () => string): Promise<StoredState> {
  await db.exec(LAYOUT);
  await db.query(
    `INSERT INTO ${M}.state (layout_version, client_id) VALUES ($1, $2) ON CONFLICT (singleton) DO NOTHING`,
    [META_LAYOUT_VERSION, newClientId()],
  );
  const { rows } = await db.query<{
    client_id: string;
    applied_lsn: string;
    schema_version: string;
    last_sent_mutation_id: string;
    snapshot_id: string | null;
    snapshot_cursor: Uint8Array | null;
  }>(
    `SELECT client_id, applied_lsn::text, schema_version, last_sent_mutation_id::text, snapshot_id, snapshot_cursor
       FROM ${M}.state`,
  );
  const s = rows[0]!;
  const snapshot =
    s.snapshot_id === null
      ? undefined
      : {
          snapshotId: s.snapshot_id,
          cursor: s.snapshot_cursor ?? new Uint8Array(),
          stagedRows: await stagedRowCount(db),
        };
  return {
    clientId: s.client_id,
    schemaVersion: s.schema_version,
    resume: {
      appliedLsn: parseLsn(s.applied_lsn),
      lastSentMutationId: BigInt(s.last_sent_mutation_id),
      ...(snapshot === undefined ? {} : { snapshot }),
    },
  };
}

/** Rows staged so far (the staging area holds one snapshot's rows, §6.5). */
async function stagedRowCount(db: SqlRunner): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT coalesce(sum(staged_rows), 0)::text AS n FROM ${M}.staged_tables`,
  );
  return Number(rows[0]!.n);
}

/** Reads the client id of a database that has the client's metadata, without creating anything. */
export async function storedClientId(db: SqlRunner): Promise<string | undefined> {
  const { rows: table } = await db.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [
    `${M}.state`,
  ]);
  if (table[0]?.found !== true) return undefined;
  const { rows } = await db.query<{ client_id: string }>(`SELECT client_id FROM ${M}.state`);
  return rows[0]?.client_id;
}

/** Records the applied LSN (and forgets the snapshot position when `clearSnapshot`). */
export async function setAppliedLsn(tx: SqlRunner, lsn: Lsn, clearSnapshot = false): Promise<void> {
  const clear = clearSnapshot ? ', snapshot_id = NULL, snapshot_cursor = NULL' : '';
  await tx.query(`UPDATE ${M}.state SET applied_lsn = $1::pg_lsn${clear}`, [formatLsn(lsn)]);
}

/** Records the snapshot position (§6.5); `undefined` forgets it. */
export async function setSnapshotPosition(
  tx: SqlRunner,
  position: { snapshotId: string; cursor: Uint8Array } | undefined,
): Promise<void> {
  await tx.query(`UPDATE ${M}.state SET snapshot_id = $1, snapshot_cursor = $2`, [
    position?.snapshotId ?? null,
    position?.cursor ?? null,
  ]);
}

/** The tables that hold synced state (emptied by a snapshot that no longer includes them, §6.4). */
export async function syncedTables(tx: SqlRunner): Promise<{ schema: string; name: string }[]> {
  const { rows } = await tx.query<{ schema_name: string; table_name: string }>(
    `SELECT schema_name, table_name FROM ${M}.synced_tables ORDER BY 1, 2`,
  );
  return rows.map((r) => ({ schema: r.schema_name, name: r.table_name }));
}

/** Marks a table as no longer synced (§6.4: it was left out of a committed snapshot); its local table stays. */
export async function removeSyncedTable(tx: SqlRunner, schema: string, name: string): Promise<void> {
  await tx.query(`DELETE FROM ${M}.synced_tables WHERE schema_name = $1 AND table_name = $2`, [schema, name]);
}

/** Marks a table as synced. */
export async function addSyncedTable(tx: SqlRunner, schema: string, name: string): Promise<void> {
  await tx.query(`INSERT INTO ${M}.synced_tables VALUES ($1, $2) ON CONFLICT DO NOTHING`, [schema, name]);
}
