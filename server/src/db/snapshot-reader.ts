/**
 * Initial-sync reads: one REPEATABLE READ, READ ONLY transaction whose snapshot (xmin, xmax, xip) and WAL
 * position are recorded, and tables read from it in primary-key order by keyset pagination. The snapshot tells
 * which logged transactions it already contains (docs: server/DESIGN.md, "Snapshot handoff").
 */

import type { Lsn } from '@vibestack/proto';
import {
  isVisibleInSnapshot as isVisibleInXidSnapshot,
  type XidSnapshot,
} from '../core/session/snapshot-visibility.ts';
import { pgBigInt, pgLsn } from './pg-text.ts';
import { quoteIdent, quoteTable, type TableName } from './quote.ts';
import type { SqlClient, SqlText } from './sql-client.ts';

/** A `pg_current_snapshot()` plus the WAL position, taken at the start of the snapshot transaction. */
export interface Snapshot {
  /** Oldest transaction still running: every xid below it had finished (full 64-bit `xid8`). */
  readonly xmin: bigint;
  /** First unassigned xid: no xid at or above it is visible. */
  readonly xmax: bigint;
  /** Transactions in [xmin, xmax) that were running, hence invisible (ascending). */
  readonly xip: readonly bigint[];
  /**
   * `pg_current_wal_insert_lsn()` read inside the snapshot: every transaction the snapshot sees committed below
   * it (also with `synchronous_commit = off`, where a commit is visible before its WAL is written).
   */
  readonly walLsn: Lsn;
}

/** A table to read: its name and primary key (from the catalog, never from client input). */
export interface SnapshotTable extends TableName {
  /** Primary-key column names in key order. */
  readonly primaryKey: readonly string[];
}

/** One page of a table. */
export interface SnapshotChunk {
  /** Rows in primary-key order, values as Postgres text in the order of the requested columns. */
  readonly rows: SqlText[][];
  /** Primary key of the last row (pass as `afterKey` for the next page); `null` when the table is done. */
  readonly nextKey: string[] | null;
}

/** An open snapshot transaction on one client. The client must not be used for anything else until `close()`. */
export interface SnapshotReader {
  readonly snapshot: Snapshot;
  /**
   * Reads up to `limit` rows of `table` whose primary key is greater than `afterKey` (`null`: from the start).
   * `columns` are catalog column names, read in that order. Primary-key text values round-trip exactly for
   * every type whose output function is injective under the session settings (all usual key types).
   */
  readChunk(
    table: SnapshotTable,
    columns: readonly string[],
    afterKey: readonly string[] | null,
    limit: number,
  ): Promise<SnapshotChunk>;
  /** Ends the transaction (COMMIT). Idempotent. */
  close(): Promise<void>;
}

/**
 * Parses `pg_snapshot` text (`xmin:xmax:xip,xip,…`).
 * @throws RangeError when the text is not a snapshot.
 */
export function parsePgSnapshot(text: string): Omit<Snapshot, 'walLsn'> {
  const m = /^(\d+):(\d+):([\d,]*)$/.exec(text);
  if (!m) throw new RangeError(`not a pg_snapshot: ${JSON.stringify(text)}`);
  return {
    xmin: BigInt(m[1]!),
    xmax: BigInt(m[2]!),
    xip: m[3] === '' ? [] : m[3]!.split(',').map((x) => BigInt(x)),
  };
}

const low32 = (xid: bigint): number => Number(xid & 0xffff_ffffn);

/** The snapshot's xids as the 32-bit xids pgoutput carries (their low 32 bits), for the session's handoff. */
export function toXidSnapshot(snapshot: Omit<Snapshot, 'walLsn'>): XidSnapshot {
  return { xmin: low32(snapshot.xmin), xmax: low32(snapshot.xmax), xip: snapshot.xip.map(low32) };
}

/**
 * Whether the snapshot already contains the effects of transaction `xid32` (a 32-bit xid, as pgoutput's Begin
 * message carries it); the rule is the core's (`core/session/snapshot-visibility.ts`), which the handoff uses.
 */
export function isVisibleInSnapshot(snapshot: Omit<Snapshot, 'walLsn'>, xid32: number): boolean {
  return isVisibleInXidSnapshot(xid32, toXidSnapshot(snapshot));
}

function chunkQuery(
  table: SnapshotTable,
  columns: readonly string[],
  keyed: boolean,
): { text: string; keyIndexes: number[]; width: number } {
  if (table.primaryKey.length === 0) throw new RangeError(`${table.schema}.${table.name} has no primary key`);
  const select = [...columns];
  // Key columns not requested are read after the requested ones (and cut from the rows).
  for (const key of table.primaryKey) if (!select.includes(key)) select.push(key);
  const keyIndexes = table.primaryKey.map((key) => select.indexOf(key));
  const keyList = table.primaryKey.map(quoteIdent).join(', ');
  const n = table.primaryKey.length;
  const where = keyed
    ? ` WHERE (${keyList}) > (${table.primaryKey.map((_, i) => `$${i + 1}`).join(', ')})`
    : '';
  const text =
    `SELECT ${select.map(quoteIdent).join(', ')} FROM ${quoteTable(table)}${where} ` +
    `ORDER BY ${keyList} LIMIT $${keyed ? n + 1 : 1}`;
  return { text, keyIndexes, width: columns.length };
}

/**
 * Starts `BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY` on `client` and records the snapshot and WAL
 * position (taken by the same first statement, so they describe the same instant).
 *
 * @example
 * const reader = await openSnapshot(client);
 * try {
 *   let after: string[] | null = null;
 *   do {
 *     const chunk = await reader.readChunk(table, columns, after, 1000);
 *     send(chunk.rows);
 *     after = chunk.nextKey;
 *   } while (after);
 * } finally {
 *   await reader.close();
 * }
 */
export async function openSnapshot(client: SqlClient): Promise<SnapshotReader> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  let snapshot: Snapshot;
  try {
    const { rows } = await client.query<{ snapshot: string; lsn: string }>(
      'SELECT pg_catalog.pg_current_snapshot() AS snapshot, pg_catalog.pg_current_wal_insert_lsn() AS lsn',
    );
    const row = rows[0];
    if (!row) throw new Error('pg_current_snapshot() returned no row');
    snapshot = { ...parsePgSnapshot(row.snapshot), walLsn: pgLsn(row.lsn, 'pg_current_wal_insert_lsn()') };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  const fetchChunk = async (
    table: SnapshotTable,
    columns: readonly string[],
    afterKey: readonly string[] | null,
    limit: number,
  ): Promise<SnapshotChunk> => {
    const { text, keyIndexes, width } = chunkQuery(table, columns, afterKey !== null);
    const { rows } = await client.queryArrays(text, [...(afterKey ?? []), limit]);
    const last = rows[rows.length - 1];
    const nextKey =
      rows.length < limit || last === undefined ? null : keyIndexes.map((i) => last[i] as string);
    for (const row of rows) if (row.length > width) row.length = width;
    return { rows, nextKey };
  };
  const requestKey = (
    table: SnapshotTable,
    columns: readonly string[],
    afterKey: readonly string[] | null,
    limit: number,
  ) => JSON.stringify([table.schema, table.name, columns, afterKey, limit]);
  // Read-ahead: while the caller encodes and sends one page, Postgres already produces the next (the usual next
  // request is the same query after this page's last key). A request that differs just waits for it behind.
  let ahead: { key: string; chunk: Promise<SnapshotChunk> } | undefined;
  return {
    snapshot,
    async readChunk(table, columns, afterKey, limit) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`invalid chunk limit: ${limit}`);
      if (afterKey !== null && afterKey.length !== table.primaryKey.length) {
        throw new RangeError(
          `afterKey has ${afterKey.length} values, the primary key ${table.primaryKey.length}`,
        );
      }
      const key = requestKey(table, columns, afterKey, limit);
      const pending = ahead?.key === key ? ahead.chunk : fetchChunk(table, columns, afterKey, limit);
      ahead = undefined;
      const chunk = await pending;
      if (chunk.nextKey !== null && closing === undefined) {
        const next = fetchChunk(table, columns, chunk.nextKey, limit);
        next.catch(() => undefined); // surfaces when (if) it is used
        ahead = { key: requestKey(table, columns, chunk.nextKey, limit), chunk: next };
      }
      return chunk;
    },
    close() {
      ahead = undefined;
      closing ??= client.query('COMMIT').then(() => undefined);
      return closing;
    },
  };
}

/** A table's size estimate, for progress reporting and planning. */
export interface TableEstimate {
  /** Estimated live rows (`reltuples`; 0 when the table was never analyzed). */
  readonly rows: number;
  /** Table plus indexes plus TOAST, in bytes (`pg_total_relation_size`). */
  readonly bytes: number;
}

/** Cheap size estimate of `table` from the planner statistics. */
export async function estimateTable(client: SqlClient, table: TableName): Promise<TableEstimate> {
  const { rows } = await client.query<{ reltuples: string; bytes: string }>(
    `SELECT c.reltuples, pg_catalog.pg_total_relation_size(c.oid) AS bytes
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  );
  const row = rows[0];
  if (!row) throw new RangeError(`table not found: ${table.schema}.${table.name}`);
  const tuples = Number(row.reltuples);
  return {
    rows: tuples < 0 || !Number.isFinite(tuples) ? 0 : Math.round(tuples),
    bytes: Number(pgBigInt(row.bytes, 'pg_total_relation_size')),
  };
}
