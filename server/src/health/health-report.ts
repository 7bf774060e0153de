import { PROTOCOL_VERSION } from '@vibestack/proto';
import { HEALTH_STATUS, SERVICE_NAME } from '../constants.ts';
import { DATABASE_NOT_CONFIGURED, type DatabaseHealth, probeDatabase } from './database-probe.ts';

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
}

/**
 * Builds the health report, probing the database when `databaseUrl` is set (bounded by `HEALTH_DB_TIMEOUT_MS`).
 */
export async function createHealthReport(databaseUrl: string | undefined): Promise<HealthReport> {
  const database = databaseUrl ? await probeDatabase(databaseUrl) : DATABASE_NOT_CONFIGURED;
  const status = database.configured && !database.reachable ? HEALTH_STATUS.degraded : HEALTH_STATUS.ok;
  return { status, service: SERVICE_NAME, protocolVersion: PROTOCOL_VERSION, database };
}
