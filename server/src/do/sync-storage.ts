/**
 * A SyncDO's durable state in its SQLite storage: the client record (bound user, acknowledged LSN, last mutation
 * id), the client's latest initial sync (to resume it), and the checkpoints of its hibernatable connections.
 */

import { SYNC_DO_TABLES } from '../constants.ts';
import type { ClientRecord } from '../core/session/index.ts';
import type { XidSnapshot } from '../core/session/snapshot-visibility.ts';

/** The client's latest initial sync, as `startSnapshot` needs it to continue one (docs/protocol.md §6.5). */
export interface SnapshotRecord {
  readonly snapshotId: string;
  readonly fingerprint: string;
  readonly xids: XidSnapshot;
  readonly handoffAfterLsn: bigint;
}

/** The storage of one SyncDO. */
export class SyncStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.client} (client_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
         acked_lsn TEXT NOT NULL, last_mutation_id TEXT NOT NULL)`,
    );
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.snapshot} (client_id TEXT PRIMARY KEY, snapshot_id TEXT NOT NULL,
         fingerprint TEXT NOT NULL, xids TEXT NOT NULL, handoff_after_lsn TEXT NOT NULL)`,
    );
    // One checkpoint per connection (a connection waiting for its Hello next to the established one). The
    // table of the earlier layout held one per client; its sessions are simply not restored.
    sql.exec(`DROP TABLE IF EXISTS ${SYNC_DO_TABLES.legacyCheckpoint}`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${SYNC_DO_TABLES.checkpoints} (connection_id TEXT PRIMARY KEY,
         checkpoint TEXT NOT NULL)`,
    );
  }

  /** The client record, `undefined` before the client id was first bound. */
  record(clientId: string): ClientRecord | undefined {
    const row = this.#sql
      .exec<{ user_id: string; acked_lsn: string; last_mutation_id: string }>(
        `SELECT user_id, acked_lsn, last_mutation_id FROM ${SYNC_DO_TABLES.client} WHERE client_id = ?`,
        clientId,
      )
      .toArray()[0];
    return row
      ? { userId: row.user_id, ackedLsn: BigInt(row.acked_lsn), lastMutationId: BigInt(row.last_mutation_id) }
      : undefined;
  }

  /** Binds the client id to a user (only the first time: the binding never changes, §4.4). */
  bind(clientId: string, userId: string): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO ${SYNC_DO_TABLES.client} (client_id, user_id, acked_lsn, last_mutation_id)
       VALUES (?, ?, '0', '0')`,
      clientId,
      userId,
    );
  }

  setAckedLsn(clientId: string, lsn: bigint): void {
    this.#sql.exec(
      `UPDATE ${SYNC_DO_TABLES.client} SET acked_lsn = ? WHERE client_id = ?`,
      lsn.toString(),
      clientId,
    );
  }

  setLastMutationId(clientId: string, id: bigint): void {
    this.#sql.exec(
      `UPDATE ${SYNC_DO_TABLES.client} SET last_mutation_id = ? WHERE client_id = ?`,
      id.toString(),
      clientId,
    );
  }

  /** The client's latest initial sync. */
  snapshot(clientId: string): SnapshotRecord | undefined {
    const row = this.#sql
      .exec<{ snapshot_id: string; fingerprint: string; xids: string; handoff_after_lsn: string }>(
        `SELECT snapshot_id, fingerprint, xids, handoff_after_lsn FROM ${SYNC_DO_TABLES.snapshot} WHERE client_id = ?`,
        clientId,
      )
      .toArray()[0];
    return row
      ? {
          snapshotId: row.snapshot_id,
          fingerprint: row.fingerprint,
          xids: JSON.parse(row.xids) as XidSnapshot,
          handoffAfterLsn: BigInt(row.handoff_after_lsn),
        }
      : undefined;
  }

  saveSnapshot(clientId: string, record: SnapshotRecord): void {
    this.#sql.exec(
      `INSERT OR REPLACE INTO ${SYNC_DO_TABLES.snapshot} (client_id, snapshot_id, fingerprint, xids, handoff_after_lsn)
       VALUES (?, ?, ?, ?, ?)`,
      clientId,
      record.snapshotId,
      record.fingerprint,
      JSON.stringify(record.xids),
      record.handoffAfterLsn.toString(),
    );
  }

  /** Every stored checkpoint (JSON text) by connection id. */
  checkpoints(): Map<string, string> {
    const rows = this.#sql
      .exec<{ connection_id: string; checkpoint: string }>(
        `SELECT connection_id, checkpoint FROM ${SYNC_DO_TABLES.checkpoints}`,
      )
      .toArray();
    return new Map(rows.map((r) => [r.connection_id, r.checkpoint]));
  }

  saveCheckpoint(connectionId: string, json: string): void {
    this.#sql.exec(
      `INSERT OR REPLACE INTO ${SYNC_DO_TABLES.checkpoints} (connection_id, checkpoint) VALUES (?, ?)`,
      connectionId,
      json,
    );
  }

  deleteCheckpoint(connectionId: string): void {
    this.#sql.exec(`DELETE FROM ${SYNC_DO_TABLES.checkpoints} WHERE connection_id = ?`, connectionId);
  }

  deleteAllCheckpoints(): void {
    this.#sql.exec(`DELETE FROM ${SYNC_DO_TABLES.checkpoints}`);
  }
}
