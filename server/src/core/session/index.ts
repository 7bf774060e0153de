/**
 * The sync session (docs/protocol.md §3.3): one WebSocket's server state machine, sans-IO. The SyncDO shell
 * feeds events in and carries effects out; SPEC.md has the transition table.
 */

export { WRITES_DISABLED_MESSAGE } from './mutations.ts';
// What the shell fills in.
export type { ColumnDescriptor, ForeignKeyDescriptor, RelationDescriptor } from './relation-descriptor.ts';
export { buildRelation, orderByForeignKeys } from './relation-descriptor.ts';
export type {
  HelloCheckpoint,
  LiveCheckpoint,
  LogCheckpoint,
  RelationsCheckpoint,
  SessionCheckpoint,
  TableCheckpoint,
} from './session-checkpoint.ts';
export { parseSessionCheckpoint, SESSION_CHECKPOINT_VERSION } from './session-checkpoint.ts';
// Defaults and building blocks.
export {
  DEFAULT_CHANGES_PER_FRAME,
  DEFAULT_LOG_READ_LIMIT,
  DEFAULT_MAX_QUEUED_FRAMES,
  DEFAULT_PROGRESS_INTERVAL_MS,
  DEFAULT_ROWS_PER_CHUNK,
  DEFAULT_TOKEN_LEEWAY_MS,
} from './session-config.ts';
// The session itself.
export type {
  ClientRecord,
  LogBatch,
  LogContinuation,
  LogTransaction,
  SessionConfig,
  SessionEffect,
  SessionEvent,
  SessionState,
  TableRef,
} from './session-types.ts';
export type { SnapshotPosition } from './snapshot-cursor.ts';
export { decodeSnapshotCursor, encodeSnapshotCursor, MAX_CURSOR_BYTES } from './snapshot-cursor.ts';
export type { XidSnapshot } from './snapshot-visibility.ts';
export { isHandoffTransaction, isVisibleInSnapshot } from './snapshot-visibility.ts';
export type { SyncSession } from './sync-session.ts';
export { createSyncSession, restoreSyncSession } from './sync-session.ts';
