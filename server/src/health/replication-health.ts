import type { LeaseQueueStats } from '../core/budget/lease-queue.ts';
import type { DatabaseHealth } from './database-probe.ts';

/**
 * The replication slot as the last probe saw it:
 * - `ok` — it exists and is usable;
 * - `missing` — it does not exist although the change log was started from it (dropped by someone, or a
 *   restored database): unhealthy; the ReplicationDO creates a new one at its next poll when it can, and every
 *   client then re-syncs (MUST_REFETCH);
 * - `lost` — Postgres invalidated it (`wal_status = lost`, e.g. WAL removed): unhealthy, handled as `missing`;
 * - `not_created` — replication has not started yet (a new deployment; the first poll creates it);
 * - `unknown` — the database did not answer.
 */
export type SlotState = 'ok' | 'missing' | 'lost' | 'not_created' | 'unknown';

/** The replication part of `GET /health`, reported by the ReplicationDO (details only, see `HealthReport`). */
export interface ReplicationHealth {
  /** `error` while the last poll failed (`lastError`); `starting` until the change log is open. */
  readonly status: 'ok' | 'starting' | 'error';
  /** The slot at the last probe (cached with the database part). */
  readonly slot: SlotState;
  readonly lastDurableLsn: string | null;
  readonly slotConfirmedLsn: string | null;
  readonly retainedWalBytes: number | null;
  readonly logBytes: number;
  readonly logTransactions: number;
  readonly logFloor: string | null;
  /** Milliseconds since the newest logged transaction committed in Postgres, at its logging. */
  readonly lagMs: number | null;
  readonly lastPollAt: string | null;
  readonly lastError: string | null;
  readonly subscribers: number;
  /**
   * Tables named in SYNC_SCOPES that did not exist at the last look (`schema.name`). Not unhealthy: the other
   * tables are synced, and these are picked up once created.
   */
  readonly missingTables: readonly string[];
  /** Initial syncs reading from the database (`holders`, at most `capacity` = SNAPSHOT_CONCURRENCY) and waiting. */
  readonly snapshots: LeaseQueueStats;
}

/** What the ReplicationDO's `health()` answers: the database (probed on its own connection) and replication. */
export interface ReplicationProbe {
  readonly database: DatabaseHealth;
  readonly replication: ReplicationHealth;
}
