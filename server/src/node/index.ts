/**
 * `@vibestack/server/dev` — the Node dev harness, for `npm start` and for other packages' tests. Importing it
 * never starts anything. For tests: `createTestDatabase()` (a fresh database in the run's shared embedded
 * cluster, see test-global-setup.ts) and `connectProtocolClient()` (a protocol-level client). For tools:
 * `startEmbeddedPostgres()`, `applyDemoSchema()` (users, projects, tasks, comments), `startWranglerDev()` (the
 * Worker in real workerd) and connection/port helpers.
 */

export type { ApplyDemoSchemaOptions, ApplyDemoSchemaResult } from '../demo/apply-demo-schema.ts';
export { applyDemoSchema, readDemoSchemaSql, readDemoSeedSql } from '../demo/apply-demo-schema.ts';
export type {
  ProtocolClient,
  ProtocolClientOptions,
  ReceivedFrame,
} from '../testing/protocol-client.ts';
export { connectProtocolClient } from '../testing/protocol-client.ts';
export type { PostgresConnectionInfo } from './connection-info.ts';
export { formatPostgresUrl, parsePostgresUrl, redactPostgresUrl, withDatabase } from './connection-info.ts';
export type { EmbeddedPostgres, StartEmbeddedPostgresOptions } from './embedded-pg.ts';
export { startEmbeddedPostgres } from './embedded-pg.ts';
export { ensureDatabase } from './ensure-database.ts';
export { isPortFree, pickPort, randomFreePort } from './free-port.ts';
export type { CreateTestDatabaseOptions, TestDatabase } from './test-database.ts';
export { createTestDatabase, testClusterAdmin } from './test-database.ts';
export type { StartWranglerDevOptions, WranglerDev } from './wrangler-dev.ts';
export { startWranglerDev } from './wrangler-dev.ts';
