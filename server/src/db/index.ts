/**
 * The database shell of the server: the `SqlClient` port (`pg` over TCP, `@neondatabase/serverless` over
 * WebSocket), replication setup and slot health, the catalog reader (relation descriptors), the snapshot reader
 * (initial sync) and the replication reader (pgoutput through a cursor). Worker-safe: no `node:*` imports.
 */

export type { ForeignKeyOrder, TableReference } from '../core/fk-order.ts';
export { orderByForeignKeys } from '../core/fk-order.ts';
export { parseByteaHex } from './bytea-hex.ts';
// Catalog.
export type {
  Catalog,
  CatalogColumn,
  CatalogForeignKey,
  CatalogRelation,
  ColumnDescriptor,
  ReadRelationsOptions,
  RelationSource,
} from './catalog.ts';
export { CatalogError, readRelations } from './catalog.ts';
export type { TableName } from './quote.ts';
export { quoteIdent, quoteTable } from './quote.ts';
// Setup and slot health.
export type {
  ReplicationProblem,
  ReplicationProblemKind,
  ReplicationSettings,
} from './replication-prerequisites.ts';
export {
  assertReplicationPrerequisites,
  checkReplicationPrerequisites,
  ReplicationSetupError,
  readReplicationSettings,
} from './replication-prerequisites.ts';
// Replication.
export type {
  ReplicationBatchOptions,
  ReplicationBatchResult,
  ReplicationRowSignal,
} from './replication-reader.ts';
export { advanceSlot, PGOUTPUT_PROTO_VERSION, readReplicationBatch } from './replication-reader.ts';
export type { ReplicationSetupOptions, ReplicationSetupResult, SlotStatus } from './setup.ts';
export { ensureReplicationSetup, OUTPUT_PLUGIN, slotStatus } from './setup.ts';
// Initial sync.
export type {
  Snapshot,
  SnapshotChunk,
  SnapshotReader,
  SnapshotTable,
  TableEstimate,
} from './snapshot-reader.ts';
export { estimateTable, isVisibleInSnapshot, openSnapshot, parsePgSnapshot } from './snapshot-reader.ts';
// Sessions.
export type {
  NeonDriverOptions,
  OpenSqlClientOptions,
  SqlClient,
  SqlDriver,
  SqlResult,
  SqlText,
  WebSocketConstructorLike,
} from './sql-client.ts';
export { openSqlClient } from './sql-client.ts';
export { isSqlError, SQLSTATE_CODES, SqlError } from './sql-error.ts';
