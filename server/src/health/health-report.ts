import { PROTOCOL_VERSION } from '@vibestack/proto';
import { HEALTH_STATUS, SERVICE_NAME } from '../constants.ts';
import { DATABASE_NOT_CONFIGURED, type DatabaseHealth, probeDatabase } from './database-probe.ts';
import type { ReplicationHealth } from './replication-health.ts';

/** Value of {@link HealthReport.status}. */
export type HealthStatus = (typeof HEALTH_STATUS)[keyof typeof HEALTH_STATUS];

/** The JSON body of `GET /health`. */
export interface HealthReport {
  /** `ok`, or `degraded` when a database is configured but did not answer. */
  readonly status: HealthStatus;
  /** Always `vibestack`. */
  readonly service: typeof SERVICE_NAME;
  /** The sync wire-protocol version this server speaks (`@vibestack/proto` `PROTOCOL_VERSION`). */
  readonly protocolVersion: number;
  readonly database: DatabaseHealth;
  /** The replication path (ReplicationDO): durable LSN, slot position, retained WAL, log size, lag. Absent
   * without a database. */
  readonly replication?: ReplicationHealth;
}

/**
 * Builds the health report, probing the database when `databaseUrl` is set (bounded by `HEALTH_DB_TIMEOUT_MS`).
 */
export async function createHealthReport(
  databaseUrl: string | undefined,
  replication?: () => Promise<ReplicationHealth>,
): Promise<HealthReport> {
  const database = databaseUrl ? await probeDatabase(databaseUrl) : DATABASE_NOT_CONFIGURED;
  const degraded = database.configured && !database.reachable;
  const report: HealthReport = {
    status: degraded ? HEALTH_STATUS.degraded : HEALTH_STATUS.ok,
    service: SERVICE_NAME,
    protocolVersion: PROTOCOL_VERSION,
    database,
  };
  if (!databaseUrl || !replication || degraded) return report;
  const repl = await replication();
  return {
    ...report,
    status: repl.status === 'error' ? HEALTH_STATUS.degraded : report.status,
    replication: repl,
  };
}
