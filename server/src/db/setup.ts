/**
 * Replication setup: checks that the server and role can do logical replication, then creates (or brings up to
 * date) the publication and the pgoutput slot, idempotently and safely against a concurrent setup. Also reports
 * a slot's health (retained WAL, lost).
 */

import type { Lsn } from '@vibestack/proto';
import { pgBigInt, pgBool, pgLsn, pgLsnOrNull } from './pg-text.ts';
import { quoteIdent, quoteTable, type TableName } from './quote.ts';
import {
  assertReplicationPrerequisites,
  ReplicationSetupError,
  readReplicationSettings,
} from './replication-prerequisites.ts';
import type { SqlClient } from './sql-client.ts';
import { isSqlError, SQLSTATE_CODES } from './sql-error.ts';

/** The logical decoding output plugin the server reads. */
export const OUTPUT_PLUGIN = 'pgoutput';

/**
 * The publication options VibeStack needs: every action, and partitioned tables published under their root's
 * name (so a partitioned table syncs as one table).
 */
const PUBLICATION_OPTIONS = "publish = 'insert, update, delete, truncate', publish_via_partition_root = true";

/** What {@link ensureReplicationSetup} sets up. */
export interface ReplicationSetupOptions {
  /** Publication name (from configuration). */
  readonly publication: string;
  /** Logical slot name (from configuration; Postgres allows `[a-z0-9_]`, at most 63 bytes). */
  readonly slot: string;
  /** Tables to publish; empty or absent = `FOR ALL TABLES` (needs a superuser). */
  readonly tables?: readonly TableName[];
}

/** What {@link ensureReplicationSetup} found or did. */
export interface ReplicationSetupResult {
  /** The slot's `confirmed_flush_lsn`: changes committed after it will be decoded. */
  readonly slotConfirmedLsn: Lsn;
  /** True when this call created the slot. */
  readonly created: boolean;
  /** What happened to the publication. */
  readonly publication: 'created' | 'updated' | 'unchanged';
}

/**
 * Checks the prerequisites (`wal_level = logical`, REPLICATION or superuser, a free slot, Postgres ≥ 15), then
 * creates the publication for `tables` (or FOR ALL TABLES) and the pgoutput slot when missing. Idempotent: a
 * second call changes nothing; a changed table list is applied with `ALTER PUBLICATION … SET TABLE`. The
 * publication is set up before the slot, so the slot never decodes WAL from before the publication existed.
 *
 * @throws ReplicationSetupError when a prerequisite fails or the slot exists with another plugin/database.
 * @throws SqlError for anything Postgres rejects (e.g. a listed table does not exist: SQLSTATE 42P01).
 * @example
 * const { slotConfirmedLsn } = await ensureReplicationSetup(client, {
 *   publication: 'vibestack', slot: 'vibestack', tables: [{ schema: 'public', name: 'tasks' }],
 * });
 */
export async function ensureReplicationSetup(
  client: SqlClient,
  options: ReplicationSetupOptions,
): Promise<ReplicationSetupResult> {
  assertReplicationPrerequisites(await readReplicationSettings(client));
  const publication = await ensurePublication(client, options.publication, options.tables ?? []);
  const slot = await ensureSlot(client, options.slot);
  return { ...slot, publication };
}

interface PublicationRow {
  oid: string;
  puballtables: string;
  options_ok: string;
  schemas: string;
}

function sameTables(a: readonly TableName[], b: readonly TableName[]): boolean {
  const key = (t: TableName): string => JSON.stringify([t.schema, t.name]);
  const left = new Set(a.map(key));
  const right = new Set(b.map(key));
  return left.size === right.size && [...left].every((k) => right.has(k));
}

function createPublicationSql(publication: string, tables: readonly TableName[]): string {
  const target = tables.length === 0 ? 'ALL TABLES' : `TABLE ${tables.map(quoteTable).join(', ')}`;
  return `CREATE PUBLICATION ${quoteIdent(publication)} FOR ${target} WITH (${PUBLICATION_OPTIONS})`;
}

async function ensurePublication(
  client: SqlClient,
  publication: string,
  tables: readonly TableName[],
): Promise<'created' | 'updated' | 'unchanged'> {
  const { rows } = await client.query<PublicationRow>(
    `SELECT p.oid, p.puballtables,
            p.pubinsert AND p.pubupdate AND p.pubdelete AND p.pubtruncate AND p.pubviaroot AS options_ok,
            (SELECT count(*) FROM pg_catalog.pg_publication_namespace pn WHERE pn.pnpubid = p.oid) AS schemas
       FROM pg_catalog.pg_publication p WHERE p.pubname = $1`,
    [publication],
  );
  const existing = rows[0];
  if (!existing) {
    try {
      await client.query(createPublicationSql(publication, tables));
      return 'created';
    } catch (error) {
      // Another instance created it first: fall through to the comparison on the next call.
      if (!isSqlError(error, SQLSTATE_CODES.duplicateObject)) throw error;
      return ensurePublication(client, publication, tables);
    }
  }

  const wantAll = tables.length === 0;
  let changed = false;
  if (pgBool(existing.puballtables) !== wantAll) {
    // FOR ALL TABLES cannot be ALTERed into a table list or back: replace the publication in one transaction,
    // so that decoding sees either the old or the new one at every LSN.
    await inTransaction(client, async () => {
      await client.query(`DROP PUBLICATION ${quoteIdent(publication)}`);
      await client.query(createPublicationSql(publication, tables));
    });
    return 'updated';
  }
  if (!wantAll) {
    const current = await client.query<{ schema: string; name: string; filtered: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, (pr.prqual IS NOT NULL OR pr.prattrs IS NOT NULL) AS filtered
         FROM pg_catalog.pg_publication_rel pr
         JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE pr.prpubid = $1`,
      [existing.oid],
    );
    // SET TABLE also drops schema entries (FOR TABLES IN SCHEMA), row filters and column lists.
    const filtered = current.rows.some((row) => pgBool(row.filtered));
    if (existing.schemas !== '0' || filtered || !sameTables(current.rows, tables)) {
      await client.query(
        `ALTER PUBLICATION ${quoteIdent(publication)} SET TABLE ${tables.map(quoteTable).join(', ')}`,
      );
      changed = true;
    }
  }
  if (!pgBool(existing.options_ok)) {
    await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET (${PUBLICATION_OPTIONS})`);
    changed = true;
  }
  return changed ? 'updated' : 'unchanged';
}

async function inTransaction(client: SqlClient, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

interface SlotRow {
  plugin: string | null;
  slot_type: string;
  database: string | null;
  current_database: string;
  confirmed_flush_lsn: string | null;
}

async function ensureSlot(
  client: SqlClient,
  slot: string,
): Promise<{ slotConfirmedLsn: Lsn; created: boolean }> {
  const { rows } = await client.query<SlotRow>(
    `SELECT plugin, slot_type, database, current_database() AS current_database, confirmed_flush_lsn
       FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const existing = rows[0];
  if (existing) {
    if (
      existing.slot_type !== 'logical' ||
      existing.plugin !== OUTPUT_PLUGIN ||
      existing.database !== existing.current_database
    ) {
      throw new ReplicationSetupError([
        {
          kind: 'slot_mismatch',
          message:
            `Replication slot "${slot}" exists but is a ${existing.slot_type} slot for plugin ` +
            `"${existing.plugin ?? ''}" in database "${existing.database ?? ''}"; VibeStack needs a logical ` +
            `${OUTPUT_PLUGIN} slot in "${existing.current_database}". Configure another slot name, or drop it ` +
            `with SELECT pg_drop_replication_slot('${slot.replaceAll("'", "''")}').`,
        },
      ]);
    }
    return { slotConfirmedLsn: pgLsn(existing.confirmed_flush_lsn, 'confirmed_flush_lsn'), created: false };
  }
  try {
    // Outside any transaction: Postgres refuses to create a logical slot in a transaction that has written.
    const created = await client.query<{ lsn: string }>(
      'SELECT lsn FROM pg_catalog.pg_create_logical_replication_slot($1, $2)',
      [slot, OUTPUT_PLUGIN],
    );
    return { slotConfirmedLsn: pgLsn(created.rows[0]?.lsn ?? null, 'created slot LSN'), created: true };
  } catch (error) {
    if (!isSqlError(error, SQLSTATE_CODES.duplicateObject)) throw error;
    return ensureSlot(client, slot);
  }
}

/** The health of a replication slot. */
export interface SlotStatus {
  readonly exists: boolean;
  /** Changes up to here are consumed; decoding resumes after it. `null` when the slot does not exist. */
  readonly confirmedFlushLsn: Lsn | null;
  /** The oldest WAL the slot still needs. */
  readonly restartLsn: Lsn | null;
  /** WAL kept for the slot, in bytes (`pg_current_wal_lsn() - restart_lsn`). */
  readonly retainedWalBytes: bigint | null;
  /** `reserved`, `extended`, `unreserved` or `lost` (Postgres's `wal_status`). */
  readonly walStatus: string | null;
  /** Why Postgres invalidated the slot (Postgres ≥ 17), e.g. `wal_removed`. */
  readonly invalidationReason: string | null;
  /** The slot can no longer be used: every client must re-sync from a new slot. */
  readonly lost: boolean;
  /** A session is using the slot right now. */
  readonly active: boolean;
}

interface SlotStatusRow {
  confirmed_flush_lsn: string | null;
  restart_lsn: string | null;
  retained: string | null;
  wal_status: string | null;
  invalidation_reason: string | null;
  active: string;
}

/** Reads the state of `slot` (all fields `null`/false when it does not exist). */
export async function slotStatus(client: SqlClient, slot: string): Promise<SlotStatus> {
  // to_jsonb(s) reads invalidation_reason where the column exists (Postgres ≥ 17) and yields NULL elsewhere.
  const { rows } = await client.query<SlotStatusRow>(
    `SELECT s.confirmed_flush_lsn, s.restart_lsn, pg_catalog.pg_current_wal_lsn() - s.restart_lsn AS retained,
            s.wal_status, to_jsonb(s) ->> 'invalidation_reason' AS invalidation_reason, s.active
       FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) {
    return {
      exists: false,
      confirmedFlushLsn: null,
      restartLsn: null,
      retainedWalBytes: null,
      walStatus: null,
      invalidationReason: null,
      lost: false,
      active: false,
    };
  }
  return {
    exists: true,
    confirmedFlushLsn: pgLsnOrNull(row.confirmed_flush_lsn),
    restartLsn: pgLsnOrNull(row.restart_lsn),
    retainedWalBytes: row.retained === null ? null : pgBigInt(row.retained, 'retained WAL'),
    walStatus: row.wal_status,
    invalidationReason: row.invalidation_reason,
    lost: row.wal_status === 'lost' || row.invalidation_reason !== null,
    active: pgBool(row.active),
  };
}
