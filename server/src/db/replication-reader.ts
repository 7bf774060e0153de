/**
 * Reads pgoutput from a logical slot without the streaming-replication protocol: `pg_logical_slot_peek_binary_
 * changes` through a server-side cursor, so any transaction size is read in FETCH pages of bounded memory over
 * every driver. Peeking never consumes: the slot moves only through {@link advanceSlot}, after the change log has
 * the transactions (never before).
 */

import { formatLsn, type Lsn, maxLsn } from '@vibestack/proto';
import { parseByteaHex } from './bytea-hex.ts';
import { pgInt, pgLsn } from './pg-text.ts';
import { quoteIdent } from './quote.ts';
import type { SqlClient } from './sql-client.ts';
import { isSqlError, SQLSTATE_CODES } from './sql-error.ts';

/** The pgoutput protocol version requested (1: whole transactions at commit, no streaming). */
export const PGOUTPUT_PROTO_VERSION = '1';

const CURSOR = quoteIdent('vibestack_replication');

/**
 * What {@link ReplicationBatchOptions.onRow} tells the reader after a row:
 * - nothing (`undefined`): keep reading;
 * - `'boundary'`: this row ends a unit that may end a batch (a Commit, or a non-transactional message): the reader
 *   stops here once `maxRows` rows have been read;
 * - `'stop'`: stop right after this row, whatever the count.
 */
export type ReplicationRowSignal = undefined | 'boundary' | 'stop';

/** Options of {@link readReplicationBatch}. */
export interface ReplicationBatchOptions {
  readonly slot: string;
  readonly publication: string;
  /**
   * Read changes committed before this LSN. Default: `pg_current_wal_flush_lsn()` read at the start (not the
   * insert position `pg_current_wal_lsn()`: decoding and slot advancing stop at the flushed WAL, so a later
   * bound would make `exhausted` claim WAL that was not read yet, e.g. after `synchronous_commit = off`).
   */
  readonly uptoLsn?: Lsn;
  /** Rows per FETCH: the most rows held in memory at once (besides what `onRow` keeps). */
  readonly fetchSize: number;
  /**
   * Rows after which the batch ends at the next `'boundary'`. Also bounds the server's decoding work: Postgres
   * stops decoding after the transaction in which this many rows were produced (`upto_nchanges`).
   */
  readonly maxRows: number;
  /**
   * Called for each row in WAL order: `lsn` of the message, `xid` of its transaction (32-bit), the pgoutput
   * message bytes. May be async; the next row waits for it.
   */
  onRow(lsn: Lsn, xid: number, data: Uint8Array): ReplicationRowSignal | Promise<ReplicationRowSignal>;
}

/** What {@link readReplicationBatch} read. */
export interface ReplicationBatchResult {
  /** The upper LSN of this read (given, or `pg_current_wal_flush_lsn()` at the start). */
  readonly uptoLsn: Lsn;
  readonly rowsRead: number;
  /** LSN of the last row read, `null` when none. */
  readonly lastLsn: Lsn | null;
  /**
   * True when every change committed before `uptoLsn` was read: the slot may then be advanced to `uptoLsn` once
   * the read transactions are logged (so it also moves past WAL of unpublished tables). False when the batch
   * ended early (stop, boundary after `maxRows`, or Postgres's decoding limit was reached).
   */
  readonly exhausted: boolean;
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
}

/**
 * Reads one batch of pgoutput rows from `slot` (without consuming them) in one transaction: `DECLARE … CURSOR`
 * over `pg_logical_slot_peek_binary_changes(slot, uptoLsn, maxRows, proto_version 1, publication, messages)`,
 * then FETCH `fetchSize` rows at a time, calling `onRow` for each, until the changes run out, `onRow` says
 * `'stop'`, or a `'boundary'` comes after `maxRows` rows. The client must not be in a transaction.
 *
 * @example
 * const batch = await readReplicationBatch(client, {
 *   slot, publication, fetchSize: 1000, maxRows: 10_000,
 *   onRow: (lsn, xid, data) => (assembler.push(lsn, xid, data) === 'commit' ? 'boundary' : undefined),
 * });
 */
export async function readReplicationBatch(
  client: SqlClient,
  options: ReplicationBatchOptions,
): Promise<ReplicationBatchResult> {
  assertCount('fetchSize', options.fetchSize);
  assertCount('maxRows', options.maxRows);
  await client.query('BEGIN');
  try {
    let uptoLsn = options.uptoLsn;
    if (uptoLsn === undefined) {
      const { rows } = await client.query<{ lsn: string }>(
        'SELECT pg_catalog.pg_current_wal_flush_lsn() AS lsn',
      );
      uptoLsn = pgLsn(rows[0]?.lsn ?? null, 'pg_current_wal_flush_lsn()');
    }
    // publication_names is parsed as a list of identifiers: quoted, so that case and commas survive.
    await client.query(
      `DECLARE ${CURSOR} NO SCROLL CURSOR FOR
         SELECT lsn, xid, data FROM pg_catalog.pg_logical_slot_peek_binary_changes($1, $2::pg_catalog.pg_lsn,
           $3::pg_catalog.int4, 'proto_version', '${PGOUTPUT_PROTO_VERSION}', 'publication_names', $4,
           'messages', 'true')`,
      [options.slot, formatLsn(uptoLsn), options.maxRows, quoteIdent(options.publication)],
    );
    let rowsRead = 0;
    let lastLsn: Lsn | null = null;
    let cursorDone = false;
    let stopped = false;
    while (!cursorDone && !stopped) {
      const { rows } = await client.queryArrays(`FETCH ${options.fetchSize} FROM ${CURSOR}`);
      cursorDone = rows.length < options.fetchSize;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const lsn = pgLsn(row[0] ?? null, 'lsn');
        const xid = pgInt(row[1] ?? '0', 'xid');
        const data = parseByteaHex(row[2] ?? '\\x');
        rowsRead++;
        lastLsn = lsn;
        const signal = await options.onRow(lsn, xid, data);
        if (signal === 'stop' || (signal === 'boundary' && rowsRead >= options.maxRows)) {
          stopped = true;
          // Stopping on the last row of a short page still means everything was read.
          if (i < rows.length - 1) cursorDone = false;
          break;
        }
      }
    }
    await client.query(`CLOSE ${CURSOR}`);
    await client.query('COMMIT');
    // With upto_nchanges Postgres may have stopped decoding early: a full count proves nothing.
    return { uptoLsn, rowsRead, lastLsn, exhausted: cursorDone && rowsRead < options.maxRows };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function confirmedLsn(client: SqlClient, slot: string): Promise<Lsn> {
  const { rows } = await client.query<{ confirmed_flush_lsn: string | null }>(
    'SELECT confirmed_flush_lsn FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const row = rows[0];
  if (!row) throw new RangeError(`replication slot "${slot}" does not exist`);
  return pgLsn(row.confirmed_flush_lsn, 'confirmed_flush_lsn');
}

/**
 * Moves `slot`'s confirmed position to `lsn` (`pg_replication_slot_advance`), releasing WAL before it, and
 * returns the new confirmed LSN. Never moves backwards: an `lsn` at or below the current position is a no-op.
 * Postgres caps the move at the flushed WAL, so the result may be below `lsn`.
 */
/**
 * `pg_current_wal_flush_lsn()`: how far WAL is flushed, the most a read can decode. A cheap statement (no
 * decoding), for telling whether anything at all was written since the last read.
 */
export async function walFlushLsn(client: SqlClient): Promise<Lsn> {
  const { rows } = await client.query<{ lsn: string }>('SELECT pg_catalog.pg_current_wal_flush_lsn() AS lsn');
  return pgLsn(rows[0]?.lsn ?? null, 'pg_current_wal_flush_lsn()');
}

export async function advanceSlot(client: SqlClient, slot: string, lsn: Lsn): Promise<Lsn> {
  const current = await confirmedLsn(client, slot);
  if (lsn <= current) return current;
  try {
    const { rows } = await client.query<{ end_lsn: string | null }>(
      'SELECT end_lsn FROM pg_catalog.pg_replication_slot_advance($1, $2::pg_catalog.pg_lsn)',
      [slot, formatLsn(lsn)],
    );
    return maxLsn(current, pgLsn(rows[0]?.end_lsn ?? null, 'pg_replication_slot_advance end_lsn'));
  } catch (error) {
    // Another session advanced past `lsn` in between (Postgres refuses to move backwards): same outcome.
    if (!isSqlError(error, SQLSTATE_CODES.objectNotInPrerequisiteState)) throw error;
    const now = await confirmedLsn(client, slot);
    if (now < lsn) throw error;
    return now;
  }
}
