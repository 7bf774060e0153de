import { PROTOCOL_VERSION } from '@vibestack/proto';
import { HEALTH_REASONS, HEALTH_STATUS, SERVICE_NAME } from '../constants.ts';
import { DATABASE_NOT_CONFIGURED, type DatabaseHealth } from './database-probe.ts';
import type { ReplicationHealth, ReplicationProbe } from './replication-health.ts';

/** Value of {@link HealthReport.status}. */
export type HealthStatus = (typeof HEALTH_STATUS)[keyof typeof HEALTH_STATUS];

/** Value of {@link HealthReport.reason}. */
export type HealthReason = (typeof HEALTH_REASONS)[keyof typeof HEALTH_REASONS];

/**
 * The JSON body of `GET /health`. Anyone gets `status`, `service`, `protocolVersion` and, when degraded, a coarse
 * `reason`; the details (`database`, `replication`, `error`: versions, error texts, LSNs, sizes, lag,
 * subscribers) only come with `VIBESTACK_DEV=1` or `Authorization: Bearer <HEALTH_TOKEN>`.
 */
export interface HealthReport {
  /** `ok`, or `degraded` (HTTP 503) when the database or replication is unhealthy. */
  readonly status: HealthStatus;
  /** Always `vibestack`. */
  readonly service: typeof SERVICE_NAME;
  /** The sync wire-protocol version this server speaks (`@vibestack/proto` `PROTOCOL_VERSION`). */
  readonly protocolVersion: number;
  /** Why it is degraded; absent when ok. */
  readonly reason?: HealthReason;
  /** Details: the database as the ReplicationDO's last probe saw it. */
  readonly database?: DatabaseHealth;
  /** Details: the replication path (slot, change log, lag). Absent without a database. */
  readonly replication?: ReplicationHealth;
  /** Details: why the ReplicationDO could not be asked (with reason `replication_unavailable`). */
  readonly error?: string;
}

/** What `GET /health` learned, for {@link createHealthReport}. */
export interface HealthInput {
  /** `DATABASE_URL` is set. */
  readonly databaseConfigured: boolean;
  /** The ReplicationDO's answer, or the error of asking it; absent without a database. */
  readonly probe?: ReplicationProbe | Error;
  /** Include the details (dev mode, or the admin token was presented). */
  readonly detailed: boolean;
}

/** Why `probe` is unhealthy, most fundamental first; `undefined` when it is healthy. */
export function healthReason(probe: ReplicationProbe | Error): HealthReason | undefined {
  if (probe instanceof Error) return HEALTH_REASONS.replicationUnavailable;
  const { database, replication } = probe;
  if (!database.reachable) return HEALTH_REASONS.databaseUnreachable;
  if (database.walLevel !== 'logical') return HEALTH_REASONS.walLevel;
  if (replication.slot === 'lost') return HEALTH_REASONS.slotLost;
  if (replication.slot === 'missing') return HEALTH_REASONS.slotMissing;
  if (replication.status === 'error') return HEALTH_REASONS.replicationError;
  return undefined;
}

/**
 * Builds the body of `GET /health` from what the ReplicationDO reported (pure; the Worker route does the IO).
 *
 * @example
 * const report = createHealthReport({ databaseConfigured: true, probe: await stub.health(), detailed: false });
 * // { status: 'degraded', service: 'vibestack', protocolVersion: 1, reason: 'replication_slot_missing' }
 */
export function createHealthReport(input: HealthInput): HealthReport {
  const reason = input.databaseConfigured && input.probe ? healthReason(input.probe) : undefined;
  const report: HealthReport = {
    status: reason === undefined ? HEALTH_STATUS.ok : HEALTH_STATUS.degraded,
    service: SERVICE_NAME,
    protocolVersion: PROTOCOL_VERSION,
    ...(reason === undefined ? {} : { reason }),
  };
  if (!input.detailed) return report;
  if (!input.databaseConfigured || !input.probe) return { ...report, database: DATABASE_NOT_CONFIGURED };
  if (input.probe instanceof Error) return { ...report, error: input.probe.message };
  return { ...report, database: input.probe.database, replication: input.probe.replication };
}
