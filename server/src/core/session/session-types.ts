/**
 * The vocabulary of the sync session (one WebSocket, docs/protocol.md §3.3): its states, the events a shell
 * feeds in, the effects it carries out, and the configuration. See SPEC.md for the transitions.
 */

import type { FrameData, Lsn, ServerMessage, SyncError } from '@vibestack/proto';
import type { JwtClaims } from '../auth/index.ts';
import type { LoggedChange, TableShape, TransactionHeader, Tuple } from '../change.ts';
import type { ScopeConfig } from '../scope/index.ts';
import type { RelationDescriptor } from './relation-descriptor.ts';
import type { XidSnapshot } from './snapshot-visibility.ts';

/**
 * Server states. HANDSHAKE is AWAIT_HELLO after a Hello arrived, while the token and client record are checked
 * (the client may send nothing then but a fatal Error).
 */
export type SessionState = 'AWAIT_HELLO' | 'HANDSHAKE' | 'SNAPSHOT' | 'CATCHING_UP' | 'LIVE' | 'CLOSED';

/** What the server keeps per client id. */
export interface ClientRecord {
  /** The user the client id is bound to (§4.4). */
  readonly userId: string;
  /** The last acknowledged LSN (§8.7). */
  readonly ackedLsn: Lsn;
  /** The last processed mutation id (§14). */
  readonly lastMutationId: bigint;
}

/**
 * One committed transaction of the change log, or a run of its changes: a large transaction comes in parts
 * (consecutive runs of its stored chunks, the first with `fromChunk = 0`, all but the last with `more`), so
 * neither the shell nor the session ever holds all of it.
 */
export interface LogTransaction {
  readonly header: TransactionHeader;
  readonly changes: readonly LoggedChange[];
  /** The stored chunk this part starts at; default 0 (the whole transaction, or its first part). */
  readonly fromChunk?: number;
  /** How many stored chunks this part holds (needed only when `more` is set). */
  readonly chunkCount?: number;
  /** More parts of this transaction follow; default false. */
  readonly more?: boolean;
}

/** Where a `read-log` continues a transaction of which only some parts were read. */
export interface LogContinuation {
  readonly commitLsn: Lsn;
  readonly fromChunk: number;
}

/**
 * Transactions of the change log. The batch holds every transaction with a commit LSN in
 * (`afterLsn`, `throughLsn`], in commit order — `throughLsn` is the head when the read reached it, else the last
 * complete transaction's commit LSN — and possibly, last, a part (`more`) of the transaction after `throughLsn`.
 * A batch answering a `read-log` with `continueAt` starts with the continued transaction's next part.
 */
export interface LogBatch {
  /** The `read-log` request answered; absent for batches pushed by the fan-out. */
  readonly requestId?: number;
  readonly afterLsn: Lsn;
  readonly throughLsn: Lsn;
  readonly transactions: readonly LogTransaction[];
  /** The shapes the changes use (a shape id never changes meaning). */
  readonly shapes: readonly TableShape[];
  readonly head: Lsn;
  readonly floor: Lsn;
}

/** Where a table's rows come from, in a snapshot read or row fetch. */
export interface TableRef {
  readonly relationOid: number;
  readonly schema: string;
  readonly name: string;
}

/** Events the shell feeds in. `now` (ms since 1970) comes with every `handle` call. */
export type SessionEvent =
  | { readonly type: 'open' }
  | { readonly type: 'frame'; readonly data: FrameData }
  | { readonly type: 'closed' }
  | { readonly type: 'tick' }
  | { readonly type: 'token-verified'; readonly claims: JwtClaims }
  | { readonly type: 'token-rejected'; readonly error: SyncError }
  | {
      readonly type: 'client-loaded';
      readonly record: ClientRecord | undefined;
      readonly floor: Lsn;
      readonly head: Lsn;
      readonly catalog: readonly RelationDescriptor[];
    }
  | { readonly type: 'catalog-changed'; readonly catalog: readonly RelationDescriptor[] }
  | { readonly type: 'ack-persisted'; readonly lsn: Lsn }
  | {
      readonly type: 'snapshot-started';
      readonly snapshotId: string;
      /**
       * The shell continues the snapshot named in the request's `resume`. It then reads the remaining rows from a
       * new database snapshot but reports the original's `xids` and `handoffAfterLsn`: the handoff replays every
       * transaction the original did not see, through `lsn`, onto rows from both — converging because every
       * change applies as an idempotent assignment in commit order (docs/protocol.md §6.3).
       */
      readonly resumed: boolean;
      /** The consistent LSN of the (newest) database snapshot the rows come from (`SnapshotEnd.lsn`). */
      readonly lsn: Lsn;
      /** Transactions visible here are skipped in the handoff (the original snapshot's, when resumed). */
      readonly xids: XidSnapshot;
      /** Every transaction the snapshot did not see has a commit LSN above this (start of the handoff read). */
      readonly handoffAfterLsn: Lsn;
      readonly estimates?: readonly {
        readonly relationOid: number;
        readonly rows: bigint;
        readonly bytes: bigint;
      }[];
    }
  | {
      readonly type: 'snapshot-rows';
      readonly relationOid: number;
      /** Rows in key order, in the requested column order. */
      readonly rows: readonly Tuple[];
      /** No rows follow in this table. */
      readonly done: boolean;
    }
  | { readonly type: 'log-batch'; readonly batch: LogBatch }
  | { readonly type: 'log-head'; readonly head: Lsn; readonly floor: Lsn }
  | {
      readonly type: 'rows-fetched';
      readonly requestId: number;
      /** Per requested key: the row in the requested column order, or `undefined` when there is none. */
      readonly rows: readonly (Tuple | undefined)[];
    }
  | { readonly type: 'replaced' }
  | { readonly type: 'shutdown'; readonly retryAfterMs?: number }
  | { readonly type: 'failure'; readonly error: SyncError };

/** Effects the shell carries out, in order. */
export type SessionEffect =
  | {
      readonly type: 'send';
      readonly bytes: Uint8Array;
      readonly message: ServerMessage;
      /** A data frame (consumed one credit, §10). */
      readonly data: boolean;
    }
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  | { readonly type: 'verify-token'; readonly token: string }
  | { readonly type: 'load-client'; readonly clientId: string }
  | { readonly type: 'bind-client'; readonly clientId: string; readonly userId: string }
  | { readonly type: 'persist-ack'; readonly clientId: string; readonly lsn: Lsn }
  | { readonly type: 'persist-mutation-id'; readonly clientId: string; readonly lastMutationId: bigint }
  | {
      readonly type: 'start-snapshot';
      /** The synced tables in `SnapshotBegin` order. */
      readonly tables: readonly TableRef[];
      /**
       * What the result depends on besides the database (tables, columns, scope rules with this user's claims).
       * The shell keeps it with the snapshot and continues a snapshot only under the same fingerprint.
       */
      readonly fingerprint: string;
      /**
       * The interrupted snapshot to continue, if the shell still can (same fingerprint, and the change log still
       * holds every transaction that snapshot did not see). Otherwise the shell starts a new one.
       */
      readonly resume?: { readonly snapshotId: string };
    }
  | {
      readonly type: 'read-snapshot-rows';
      readonly snapshotId: string;
      readonly table: TableRef;
      /** Columns to return, in this order. */
      readonly columns: readonly string[];
      readonly keyColumns: readonly string[];
      /** Rows with a key after this one (key order); absent = from the start. */
      readonly afterKey?: Tuple;
      readonly limit: number;
      /** Only rows whose `column` has this text value (the scope rule; the session re-checks every row). */
      readonly filter?: { readonly column: string; readonly equals: string };
    }
  | { readonly type: 'end-snapshot'; readonly snapshotId: string }
  | {
      readonly type: 'read-log';
      readonly requestId: number;
      readonly afterLsn: Lsn;
      /** Most transactions; the shell also bounds the changes per read and splits larger transactions. */
      readonly limit: number;
      /** Continue this transaction first (an earlier read returned only its first parts). */
      readonly continueAt?: LogContinuation;
    }
  | {
      readonly type: 'fetch-rows';
      readonly requestId: number;
      readonly table: TableRef;
      readonly columns: readonly string[];
      readonly keyColumns: readonly string[];
      readonly keys: readonly Tuple[];
    }
  /** Call `handle({ type: 'tick' })` at this time (ms); `undefined` cancels. Replaces the previous timer. */
  | { readonly type: 'set-timer'; readonly at: number | undefined }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string };

/** Session settings. Only `clientId` and `scope` are required. */
export interface SessionConfig {
  /** The client id the connection was routed with (`?client_id=`); `Hello.client_id` must equal it. */
  readonly clientId: string;
  readonly scope: ScopeConfig;
  /** The server's application schema version (`Welcome.schema_version`); default `''`. */
  readonly schemaVersion?: string;
  /** Whether a client's non-empty `schema_version` can be served; default: equal to `schemaVersion`. */
  readonly acceptsSchemaVersion?: (clientSchemaVersion: string) => boolean;
  readonly serverAgent?: string;
  /** Default 15 000 ms; 1 000–300 000. */
  readonly heartbeatIntervalMs?: number;
  /** The server's frame limit; default 4 MiB. */
  readonly maxFrameBytes?: number;
  /** `Welcome.max_rows_per_chunk`; default 1 000. */
  readonly maxRowsPerChunk?: number;
  /** Rows per snapshot read from the database (at least `maxRowsPerChunk`); default 5 000. */
  readonly snapshotReadRows?: number;
  /** Most changes per Transaction frame; default 1 000. */
  readonly maxChangesPerFrame?: number;
  /** Data frames buffered for a slow client before it is served from the log instead; default 256. */
  readonly maxQueuedFrames?: number;
  /** Most transactions per `read-log`; default 256. */
  readonly logReadLimit?: number;
  /** Least time between two Progress frames in LIVE; default 5 000 ms. */
  readonly progressIntervalMs?: number;
  /** After the token's `exp` plus this, close with UNAUTHENTICATED; default 30 000 ms. */
  readonly tokenLeewayMs?: number;
  readonly supportedProtocolVersions?: readonly number[];
}
