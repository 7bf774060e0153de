/**
 * `@vibestack/client` — keeps a PGlite database in sync with a VibeStack server (docs/protocol.md).
 *
 * - The client: `createSyncClient` (WebSocket + PGlite shell), its status, per-table change events and stats.
 * - For other shells (WebSocket drivers, tests, the CLI): the sans-IO client session (`createClientSession`,
 *   SPEC.md), the local store over the application's PGlite (`createSyncStore`), and the fast frame reader
 *   (`decodeServerMessage`, usable by any TypeScript client of the protocol).
 * - React bindings: `@vibestack/client/react`. The CLI: the `vibestack-client` bin.
 */

export type { ClientSession } from './core/client-session.ts';
export { createClientSession } from './core/client-session.ts';
export type {
  ApplyWork,
  ClientConfig,
  ClientEffect,
  ClientEvent,
  ClientState,
  ClientStatus,
  ResumeState,
  SnapshotPosition,
  StagedChunk,
  TextChange,
  TextRow,
  TextTransaction,
  UpdateRow,
} from './core/client-types.ts';
export { APPLYING_SETTING, META_SCHEMA, STAGING_SCHEMA } from './core/constants.ts';
export { decodeServerFrameFast, decodeServerMessage } from './core/fast-decode.ts';
export type { TableChange, TablesChangedEvent } from './core/table-changes.ts';
export { tablesChangedBy } from './core/table-changes.ts';
export type { StoredState } from './pglite/metadata.ts';
export type { PGliteLike, SyncStore, SyncStoreOptions } from './pglite/sync-store.ts';
export { createSyncStore } from './pglite/sync-store.ts';
export type {
  SyncClient,
  SyncClientOptions,
  SyncClientStats,
  WebSocketFactory,
  WebSocketLike,
} from './sync-client.ts';
export { createSyncClient } from './sync-client.ts';
