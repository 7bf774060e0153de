/**
 * `@vibestack/client` — keeps a PGlite database in sync with a VibeStack server (docs/protocol.md).
 *
 * `createSyncClient` is the entry point. Below it: the sans-IO client session (`createClientSession`, SPEC.md) and
 * the PGlite apply layer (`createSyncStore`), for other shells. React bindings and the CLI follow.
 */

export type { ClientSession } from './core/client-session.ts';
export { createClientSession } from './core/client-session.ts';
// The client session (for shells: WebSocket drivers, tests, the CLI).
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
// The fast frame reader (also usable by other TypeScript clients of the protocol).
export { decodeServerFrameFast, decodeServerMessage } from './core/fast-decode.ts';
export type { TableChange, TablesChangedEvent } from './core/table-changes.ts';
export { tablesChangedBy } from './core/table-changes.ts';
export type { StoredState } from './pglite/metadata.ts';
// The local store over the application's PGlite.
export type { PGliteLike, SyncStore, SyncStoreOptions } from './pglite/sync-store.ts';
export { createSyncStore } from './pglite/sync-store.ts';
// The client: keeps an app's PGlite in sync over a WebSocket.
export type {
  SyncClient,
  SyncClientOptions,
  SyncClientStats,
  WebSocketFactory,
  WebSocketLike,
} from './sync-client.ts';
export { createSyncClient } from './sync-client.ts';
