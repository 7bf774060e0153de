/**
 * Typed pgoutput messages (protocol versions 1 and 2), as produced by {@link decodePgoutputMessage}.
 * Field names follow the PostgreSQL documentation ("Logical Replication Message Formats"); LSNs are unsigned
 * 64-bit `bigint`s, timestamps are microseconds since 1970-01-01 UTC as `bigint`, xids and OIDs are `number`s
 * (unsigned 32-bit).
 *
 * Data messages (Relation, Type, Insert, Update, Delete, Truncate, Message) carry an `xid` only inside a
 * protocol-v2 stream block (between Stream Start and Stream Stop): the xid of the (sub)transaction that made
 * the change (for Message: the top-level xid). Outside a stream block `xid` is absent.
 */

import type { UNCHANGED_DATUM } from '../change.ts';

/** One TupleData column: text (`'t'`), SQL NULL (`'n'`), unchanged TOAST (`'u'`) or binary bytes (`'b'`). */
export type TupleValue = string | null | typeof UNCHANGED_DATUM | Uint8Array;

/** A TupleData: one value per column of the relation, in the Relation message's column order. */
export type TupleData = readonly TupleValue[];

/** `'B'`: a transaction starts. */
export interface BeginMessage {
  readonly type: 'begin';
  /** LSN of the commit record (the transaction's final LSN). */
  readonly finalLsn: bigint;
  /** Commit time, microseconds since 1970-01-01 UTC. */
  readonly commitTimeUs: bigint;
  readonly xid: number;
}

/** `'C'`: the transaction started by the last Begin commits. */
export interface CommitMessage {
  readonly type: 'commit';
  /** Currently always 0. */
  readonly flags: number;
  /** LSN of the commit record; equals the Begin's `finalLsn`. */
  readonly commitLsn: bigint;
  /** LSN just past the commit record. */
  readonly endLsn: bigint;
  /** Commit time, microseconds since 1970-01-01 UTC. */
  readonly commitTimeUs: bigint;
}

/** `'O'`: the transaction was replicated from another node (origin). */
export interface OriginMessage {
  readonly type: 'origin';
  /** Commit LSN on the origin server. */
  readonly originLsn: bigint;
  readonly name: string;
}

/** A column of a {@link RelationMessage}. */
export interface RelationColumn {
  /** Raw flags; bit 1 = part of the replica identity (see `isKey`). */
  readonly flags: number;
  readonly isKey: boolean;
  readonly name: string;
  readonly typeOid: number;
  /** `atttypmod`, -1 when the type has none. */
  readonly typeModifier: number;
}

/** `'R'`: the shape of a published table. Sent before the first change of the table in a session and after DDL. */
export interface RelationMessage {
  readonly type: 'relation';
  readonly xid?: number;
  readonly relationOid: number;
  /** Schema name; the protocol sends an empty string for `pg_catalog`, decoded as `'pg_catalog'`. */
  readonly namespace: string;
  readonly name: string;
  /** `d` default, `n` nothing, `f` full, `i` index. */
  readonly replicaIdentity: 'd' | 'n' | 'f' | 'i';
  /** The published columns, in tuple order (dropped and unpublished columns are absent). */
  readonly columns: readonly RelationColumn[];
}

/** `'Y'`: a non-builtin data type used by a following Relation (e.g. an enum). */
export interface TypeMessage {
  readonly type: 'type';
  readonly xid?: number;
  readonly typeOid: number;
  /** Schema name; `'pg_catalog'` when the protocol sent an empty string. */
  readonly namespace: string;
  readonly name: string;
}

/** `'I'`: a row was inserted. */
export interface InsertMessage {
  readonly type: 'insert';
  readonly xid?: number;
  readonly relationOid: number;
  readonly newTuple: TupleData;
}

/** `'U'`: a row was updated. */
export interface UpdateMessage {
  readonly type: 'update';
  readonly xid?: number;
  readonly relationOid: number;
  /**
   * The old row image, when sent: `'key'` (`'K'`, the old replica-identity key, other columns NULL; sent when
   * the key changed) or `'full'` (`'O'`, REPLICA IDENTITY FULL).
   */
  readonly old?: { readonly kind: 'key' | 'full'; readonly tuple: TupleData };
  readonly newTuple: TupleData;
}

/** `'D'`: a row was deleted. */
export interface DeleteMessage {
  readonly type: 'delete';
  readonly xid?: number;
  readonly relationOid: number;
  readonly old: { readonly kind: 'key' | 'full'; readonly tuple: TupleData };
}

/** `'T'`: one TRUNCATE statement over one or more published tables. */
export interface TruncateMessage {
  readonly type: 'truncate';
  readonly xid?: number;
  /** Raw option bits (1 cascade, 2 restart identity). */
  readonly options: number;
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
  readonly relationOids: readonly number[];
}

/** `'M'`: a logical decoding message (`pg_logical_emit_message`); sent only with the `messages` option. */
export interface LogicalMessage {
  readonly type: 'message';
  /** Top-level xid, inside a stream block only. */
  readonly xid?: number;
  /** Raw flags; bit 1 = transactional (see `transactional`). */
  readonly flags: number;
  readonly transactional: boolean;
  readonly lsn: bigint;
  readonly prefix: string;
  /** The message body; a copy, not a view of the input. */
  readonly content: Uint8Array;
}

/** `'S'` (v2): a block of changes of one in-progress transaction starts. */
export interface StreamStartMessage {
  readonly type: 'stream-start';
  /** Top-level xid of the streamed transaction. */
  readonly xid: number;
  /** True for the transaction's first stream block. */
  readonly firstSegment: boolean;
}

/** `'E'` (v2): the current stream block ends. */
export interface StreamStopMessage {
  readonly type: 'stream-stop';
}

/** `'c'` (v2): a streamed transaction commits. */
export interface StreamCommitMessage {
  readonly type: 'stream-commit';
  readonly xid: number;
  /** Currently always 0. */
  readonly flags: number;
  readonly commitLsn: bigint;
  readonly endLsn: bigint;
  /** Commit time, microseconds since 1970-01-01 UTC. */
  readonly commitTimeUs: bigint;
}

/** `'A'` (v2): a streamed transaction (`subxid === xid`) or one of its subtransactions aborts. */
export interface StreamAbortMessage {
  readonly type: 'stream-abort';
  /** Top-level xid. */
  readonly xid: number;
  /** The aborted (sub)transaction; equals `xid` for a top-level abort. */
  readonly subxid: number;
  /** Abort LSN; sent only with protocol v4 and `streaming = parallel`. */
  readonly abortLsn?: bigint;
  /** Abort time (µs since 1970); sent only with protocol v4 and `streaming = parallel`. */
  readonly abortTimeUs?: bigint;
}

/** Any decoded pgoutput message, discriminated by `type`. */
export type PgoutputMessage =
  | BeginMessage
  | CommitMessage
  | OriginMessage
  | RelationMessage
  | TypeMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | TruncateMessage
  | LogicalMessage
  | StreamStartMessage
  | StreamStopMessage
  | StreamCommitMessage
  | StreamAbortMessage;

/** The data messages, which carry an xid inside a stream block. */
export type PgoutputDataMessage =
  | RelationMessage
  | TypeMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | TruncateMessage
  | LogicalMessage;
