/**
 * The vocabulary of the client session (docs/protocol.md §3.1): its states, the events a shell feeds in, the
 * effects it carries out, the apply works it hands to the local store, and the configuration. See SPEC.md.
 */

import type { ClientMessage, FrameData, Lsn, Relation, Row, SyncError, UNCHANGED } from '@vibestack/proto';

/** Client states (SPEC.md). */
export type ClientState =
  | 'IDLE'
  | 'CONNECTING'
  | 'AWAIT_WELCOME'
  | 'SNAPSHOT'
  | 'CATCHING_UP'
  | 'LIVE'
  | 'BACKOFF'
  | 'FAILED'
  | 'STOPPED';

/** A row as Postgres text values (`null` = SQL NULL), in the relation's column order. */
export type TextRow = readonly (string | null)[];
/** A row of `Update.new_row`: non-key columns may be {@link UNCHANGED}. */
export type UpdateRow = readonly (string | null | typeof UNCHANGED)[];

/** One change, decoded to text values and bound to the descriptor in force when it arrived. */
export type TextChange =
  | { readonly op: 'insert'; readonly relation: Relation; readonly row: TextRow }
  | {
      readonly op: 'update';
      readonly relation: Relation;
      readonly row: UpdateRow;
      /** The key before the update, only when the update changed the key (§8.4). */
      readonly oldKey?: TextRow;
    }
  | { readonly op: 'delete'; readonly relation: Relation; readonly key: TextRow }
  | { readonly op: 'truncate'; readonly relations: readonly Relation[] };

/** One complete server transaction (all its frames). */
export interface TextTransaction {
  readonly commitLsn: Lsn;
  readonly changes: readonly TextChange[];
}

/** Rows of one table for the staged snapshot. */
export interface StagedChunk {
  readonly relation: Relation;
  /**
   * The rows as received, already checked against the relation (`checkFullRow`: lengths, no NULL key, every
   * value of its column's type), so that the store can write them in binary or as text (`textOfRow`) and
   * neither fails.
   */
  readonly rows: readonly Row[];
}

/**
 * A unit of local work; the shell runs each in ONE local transaction that also writes the resume state, and
 * answers `apply-done` only after the commit.
 */
export type ApplyWork =
  | {
      /** Apply transactions to the synced state and set the applied LSN to `lsn` (§8.3, §8.8). */
      readonly kind: 'transactions';
      readonly transactions: readonly TextTransaction[];
      /** The new applied LSN: the last commit LSN, or a larger `Progress.lsn`. */
      readonly lsn: Lsn;
    }
  | {
      /** A new snapshot starts (§6.5): discard the staging area and any snapshot position. */
      readonly kind: 'snapshot-begin';
      readonly snapshotId: string;
    }
  | {
      /** Stage rows and record `{snapshotId, cursor}` (§6.5). */
      readonly kind: 'snapshot-chunks';
      readonly snapshotId: string;
      readonly chunks: readonly StagedChunk[];
      /** The cursor of the last chunk in `chunks`. */
      readonly cursor: Uint8Array;
    }
  | {
      /** Apply handoff transactions to the staged snapshot (§6.3). */
      readonly kind: 'snapshot-handoff';
      readonly transactions: readonly TextTransaction[];
    }
  | {
      /** Replace the synced state with the staged snapshot, set the applied LSN, drop staging (§6.4). */
      readonly kind: 'snapshot-commit';
      readonly snapshotId: string;
      readonly lsn: Lsn;
      /** The snapshot's tables, in `SnapshotBegin` order (descriptors in force at SnapshotEnd). */
      readonly tables: readonly Relation[];
      /** `SnapshotEnd.row_counts`, parallel to `tables`. */
      readonly rowCounts: readonly bigint[];
    };

/** Where an interrupted initial sync stopped (`Hello.snapshot_resume`). */
export interface SnapshotPosition {
  readonly snapshotId: string;
  readonly cursor: Uint8Array;
  /**
   * Rows committed to the staging area of this snapshot so far (progress only, not sent): a resumed snapshot
   * counts on from here. Absent = 0.
   */
  readonly stagedRows?: number;
}

/** What the client persisted last time (loaded by the shell before `start`). */
export interface ResumeState {
  /** The applied LSN (0 = no synced state). */
  readonly appliedLsn: Lsn;
  /** The last committed snapshot position, if an initial sync was interrupted. */
  readonly snapshot?: SnapshotPosition;
  /** Highest mutation id ever sent (informational, §14). */
  readonly lastSentMutationId?: bigint;
}

/** What the application is told. */
export interface ClientStatus {
  readonly state: ClientState;
  readonly appliedLsn: Lsn;
  /**
   * The server's head LSN when it last reported the client caught up (`Progress{caught_up}`), 0 before. `LIVE`
   * starts when that report arrives; the transactions before it are committed once `appliedLsn` reaches it.
   */
  readonly caughtUpLsn: Lsn;
  /** During an initial sync, from the server's `SnapshotBegin` until the snapshot is committed. */
  readonly snapshot?: {
    /**
     * Rows of this snapshot committed to the local staging area. A resumed snapshot counts on from the rows
     * staged before the interruption, so the number never goes backwards within one snapshot.
     */
    readonly stagedRows: number;
    /**
     * The server's estimate of the snapshot's total rows (from table statistics; may be wrong either way).
     * Absent when the server does not know (it sends 0, docs/protocol.md §6.2).
     */
    readonly estimatedRows?: bigint;
    /** Bytes of the frames received on this connection. */
    readonly receivedBytes: number;
    /** The server resumed an interrupted initial sync (§6.5) instead of starting a new one. */
    readonly resumed: boolean;
  };
  /** The error that caused the last BACKOFF or FAILED. */
  readonly error?: SyncError;
}

/** Events the shell feeds in; `now` (ms) comes with every `handle` call. */
export type ClientEvent =
  | { readonly type: 'start' }
  | { readonly type: 'stop' }
  /** The answer to `get-token`: the token for this attempt's Hello. */
  | { readonly type: 'token'; readonly token: string }
  /** The answer to `get-token` when the token source failed (offline, auth server down): backoff. */
  | { readonly type: 'token-failed'; readonly reason: string }
  /** The answer to `connect`: the WebSocket is open, with the subprotocol the server selected. */
  | { readonly type: 'socket-open'; readonly subprotocol: string }
  | {
      readonly type: 'connect-failed';
      readonly httpStatus?: number;
      readonly error?: SyncError;
      /** The URL the upgrade went to (for the error message; without credentials). */
      readonly url?: string;
      /** Why the connection failed, when the WebSocket says (e.g. `connect ECONNREFUSED 127.0.0.1:8787`). */
      readonly reason?: string;
    }
  | { readonly type: 'socket-closed'; readonly code: number; readonly reason: string }
  | { readonly type: 'frame'; readonly data: FrameData }
  | { readonly type: 'tick' }
  | { readonly type: 'apply-done'; readonly id: number }
  | { readonly type: 'apply-failed'; readonly id: number; readonly error: SyncError }
  | { readonly type: 'network-online' };

/** Effects the shell carries out, in order. */
export type ClientEffect =
  /**
   * Obtain the token for the next connection attempt (a new one when `fresh`: the server refused the last);
   * answer `token` or `token-failed`. A token the server refused is never used again (§4.3): the session waits
   * and asks again.
   */
  | { readonly type: 'get-token'; readonly fresh: boolean }
  /** Open the WebSocket; answer `socket-open` or `connect-failed`. */
  | { readonly type: 'connect' }
  | { readonly type: 'send'; readonly bytes: Uint8Array; readonly message: ClientMessage }
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  | { readonly type: 'set-timer'; readonly at: number | undefined }
  | { readonly type: 'apply'; readonly id: number; readonly work: ApplyWork }
  | { readonly type: 'status'; readonly status: ClientStatus }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string };

/** Client session settings. Only `clientId` is required. */
export interface ClientConfig {
  /** The client id stored in the local database (§4.4). */
  readonly clientId: string;
  /** What was committed locally before (default: nothing). */
  readonly resume?: ResumeState;
  /** `Hello.schema_version`; default `''` (adopt the server's). */
  readonly schemaVersion?: string;
  /** `Hello.initial_credit`; default 64, 1–65 535. */
  readonly initialCredit?: number;
  /** `Hello.max_frame_bytes`; default 0 (= 4 MiB). */
  readonly maxFrameBytes?: number;
  /** Most changes or rows per grouped local transaction; default 10 000. */
  readonly maxGroupChanges?: number;
  /**
   * Snapshot chunks wait until this many rows (or half the credit window in frames) are pending, or something
   * else is queued behind them, and are then staged in one local transaction; default 0 (stage at once).
   * `createSyncClient` uses {@link DEFAULT_SNAPSHOT_GROUP_ROWS}.
   */
  readonly snapshotGroupRows?: number;
  /**
   * The token cannot be renewed (the application gave a fixed string): when the server refuses it
   * (UNAUTHENTICATED) the session stops (FAILED) at once, since §4.3 forbids sending it again. Default false:
   * back off and reconnect with a fresh token (a token source that returns the refused token again is asked
   * again at the next backoff delay, and the refused token is not sent).
   */
  readonly fixedToken?: boolean;
  /**
   * Cap of the reconnect delays the client chooses itself, in ms: the §9.4 backoff window and the jitter added
   * to an OVERLOADED `retry_after_ms`. It never shortens a server's `retry_after_ms` (the wait is at least that
   * long). Default (and most useful maximum) 30 000; e.g. tests and the conformance adapter use a few ms.
   */
  readonly maxBackoffMs?: number;
  /** Uniform random number in [0, 1) for backoff jitter; default `Math.random`. */
  readonly random?: () => number;
  /** Protocol versions offered; default the ones `@vibestack/proto` speaks. */
  readonly protocolVersions?: readonly number[];
  readonly clientAgent?: string;
}
