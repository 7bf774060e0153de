/** The replication part of `GET /health`, reported by the ReplicationDO. */

export interface ReplicationHealth {
  readonly status: 'ok' | 'starting' | 'error';
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
}
