/**
 * The initial syncs of one SyncDO: at most one open REPEATABLE READ snapshot, owned by the connection that asked
 * for it and closed with it. Before it opens its database connection a snapshot waits for one of the
 * SNAPSHOT_CONCURRENCY leases the ReplicationDO hands out (first come, first served), renews it with every read
 * of rows, and gives it back once the connection is closed — so a thousand first syncs read a few at a time
 * instead of each trying Postgres and being refused.
 */

import type { SessionEffect, SessionEvent } from '../core/session/index.ts';
import { estimateTable, openSnapshot, type SnapshotReader, toXidSnapshot } from '../db/snapshot-reader.ts';
import type { SqlClient } from '../db/sql-client.ts';
import type { LogPositions } from './log-batch.ts';
import type { SnapshotRecord, SyncStorage } from './sync-storage.ts';

/** What the snapshots need from the ReplicationDO. */
export interface SnapshotReplication {
  acquireSnapshotLease(name: string): Promise<'granted' | 'superseded'>;
  renewSnapshotLease(name: string): Promise<void> | void;
  releaseSnapshotLease(name: string): Promise<void> | void;
  replayStart(xmin32: number): Promise<bigint>;
  positions(): Promise<LogPositions>;
}

/** What {@link SyncSnapshots} works with. */
export interface SyncSnapshotsHost {
  readonly clientId: () => string;
  readonly storage: SyncStorage;
  readonly replication: () => SnapshotReplication;
  /** A new database session. */
  readonly db: () => Promise<SqlClient>;
}

interface OpenSnapshot {
  readonly owner: object;
  readonly id: string;
  readonly client: SqlClient;
  readonly reader: SnapshotReader;
}

/** See the module comment. `owner` is the connection a snapshot belongs to (compared by identity). */
export class SyncSnapshots {
  readonly #host: SyncSnapshotsHost;
  #open: OpenSnapshot | undefined;
  /** The owner whose snapshot waits for its lease. */
  #waiting: object | undefined;

  constructor(host: SyncSnapshotsHost) {
    this.#host = host;
  }

  /**
   * Opens a snapshot for `owner` (closing any other). A resumable earlier snapshot of this client (same id and
   * fingerprint, and the change log still holds every transaction it did not see) is continued: its rows after
   * the client's cursor come from the new snapshot, and its xids and handoff start are kept, so the handoff
   * replays everything the original missed (see the `snapshot-started` event). This works across a restart of
   * workerd, since the record is durable.
   *
   * @param alive whether `owner`'s connection is still open (checked after each wait).
   */
  async start(
    owner: object,
    effect: Extract<SessionEffect, { type: 'start-snapshot' }>,
    alive: () => boolean,
  ): Promise<SessionEvent> {
    await this.close();
    const replication = this.#host.replication();
    const clientId = this.#host.clientId();
    this.#waiting = owner;
    const outcome = await replication.acquireSnapshotLease(clientId);
    if (this.#waiting === owner) this.#waiting = undefined;
    if (outcome !== 'granted') throw new Error('the snapshot request was withdrawn');
    if (!alive()) {
      this.#release();
      throw new Error('the connection closed while its snapshot waited');
    }
    let client: SqlClient;
    try {
      client = await this.#host.db();
    } catch (error) {
      this.#release();
      throw error;
    }
    try {
      const reader = await openSnapshot(client);
      const estimates = await Promise.all(
        effect.tables.map(async (t) => {
          const e = await estimateTable(client, t);
          return { relationOid: t.relationOid, rows: BigInt(e.rows), bytes: BigInt(e.bytes) };
        }),
      );
      const resumable = effect.resume
        ? await this.#resumable(effect.resume.snapshotId, effect.fingerprint)
        : undefined;
      const id = resumable?.snapshotId ?? crypto.randomUUID();
      const xids = resumable?.xids ?? toXidSnapshot(reader.snapshot);
      const handoffAfterLsn = resumable?.handoffAfterLsn ?? (await replication.replayStart(xids.xmin));
      if (!resumable) {
        this.#host.storage.saveSnapshot(clientId, {
          snapshotId: id,
          fingerprint: effect.fingerprint,
          xids,
          handoffAfterLsn,
        });
      }
      // The connection may have ended while the snapshot opened: then nobody reads it.
      if (!alive()) throw new Error('the connection closed');
      this.#open = { owner, id, client, reader };
      return {
        type: 'snapshot-started',
        snapshotId: id,
        resumed: resumable !== undefined,
        // Every transaction the snapshot sees has its commit record below the insert position: at or below
        // walLsn - 1, the same "everything ≤ head is logged" convention the change log's head uses.
        lsn: reader.snapshot.walLsn - 1n,
        xids,
        handoffAfterLsn,
        estimates,
      };
    } catch (error) {
      await client.end().catch(() => undefined);
      this.#release();
      throw error;
    }
  }

  /** Reads the next rows of `owner`'s snapshot, renewing its lease. */
  async readRows(
    owner: object,
    effect: Extract<SessionEffect, { type: 'read-snapshot-rows' }>,
  ): Promise<SessionEvent> {
    const snap = this.#open;
    if (!snap || snap.owner !== owner || snap.id !== effect.snapshotId)
      throw new Error(`snapshot ${effect.snapshotId} is not open`);
    void Promise.resolve(this.#host.replication().renewSnapshotLease(this.#host.clientId())).catch(
      () => undefined,
    );
    const chunk = await snap.reader.readChunk(
      { schema: effect.table.schema, name: effect.table.name, primaryKey: effect.keyColumns },
      effect.columns,
      effect.afterKey ? (effect.afterKey as string[]) : null,
      effect.limit,
    );
    return {
      type: 'snapshot-rows',
      relationOid: effect.table.relationOid,
      rows: chunk.rows,
      done: chunk.rows.length < effect.limit,
    };
  }

  /** `owner`'s connection ended: its snapshot closes, or its place in the lease queue is given up. */
  ownerGone(owner: object): void {
    if (this.#open?.owner === owner) void this.close();
    if (this.#waiting === owner) {
      this.#waiting = undefined;
      this.#release();
    }
  }

  /** Closes `owner`'s snapshot (its rows are all read). */
  async end(owner: object): Promise<void> {
    if (this.#open?.owner === owner) await this.close();
  }

  /** Closes the open snapshot, if any, and then gives its lease back. */
  async close(): Promise<void> {
    const snap = this.#open;
    this.#open = undefined;
    if (!snap) return;
    await snap.reader.close().catch(() => undefined);
    await snap.client.end().catch(() => undefined);
    // Only once the connection is gone: the lease stands for it.
    this.#release();
  }

  #release(): void {
    void Promise.resolve(this.#host.replication().releaseSnapshotLease(this.#host.clientId())).catch(
      () => undefined,
    );
  }

  /** The stored snapshot `snapshotId` of this client, when it can still be continued under `fingerprint`. */
  async #resumable(snapshotId: string, fingerprint: string): Promise<SnapshotRecord | undefined> {
    const record = this.#host.storage.snapshot(this.#host.clientId());
    if (!record || record.snapshotId !== snapshotId || record.fingerprint !== fingerprint) return undefined;
    // The handoff must replay from where the original snapshot's began: the log must still hold it.
    const { floor } = await this.#host.replication().positions();
    return floor > record.handoffAfterLsn ? undefined : record;
  }
}
