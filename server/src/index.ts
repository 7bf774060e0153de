/**
 * `@vibestack/server` — the Worker side: the Hono `app`, its environment type, the health report and the
 * route/variable names. The Node dev harness is a separate entry point: `@vibestack/server/dev`.
 */

export { ENV_VARS, HEALTH_REASONS, HEALTH_STATUS, ROUTES, SERVICE_NAME } from './constants.ts';
export type { AppEnv, Env } from './env.ts';
export type { DatabaseHealth } from './health/database-probe.ts';
export type { HealthReason, HealthReport, HealthStatus } from './health/health-report.ts';
export { createHealthReport } from './health/health-report.ts';
export type { ReplicationHealth, SlotState } from './health/replication-health.ts';
export { app } from './worker.ts';
