/**
 * The server's internal form of committed changes, between the pgoutput decoder, the change log and the sync
 * sessions. Values stay in Postgres text form (what pgoutput sends with `binary` off) until a session encodes
 * them for one client with its column list and scope; that keeps the log independent of any client.
 */

/** Marks a column an UPDATE did not change and pgoutput did not resend (unchanged TOAST value, `'u'`). */
export const UNCHANGED_DATUM: unique symbol = Symbol('unchanged datum');

/** One column value: Postgres text, SQL NULL, or the unchanged marker. */
export type Datum = string | null | typeof UNCHANGED_DATUM;

/** A row image in the column order of its {@link TableShape}. */
export type Tuple = readonly Datum[];

/** A column as pgoutput's Relation message describes it. */
export interface ShapeColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeModifier: number;
  /** Part of the replica identity (the primary key under REPLICA IDENTITY DEFAULT). */
  readonly isKey: boolean;
}

/**
 * The shape of a table at some point of the WAL (pgoutput Relation message). A new shape id is assigned
 * whenever the shape changes (DDL), so logged changes refer to the exact columns they were written with.
 */
export interface TableShape {
  /** Log-wide id of this shape version (assigned by the change log, starting at 1). */
  readonly shapeId: number;
  /** Postgres relation OID. */
  readonly relationOid: number;
  readonly schema: string;
  readonly name: string;
  /** pgoutput replica identity: `d` default, `n` nothing, `f` full, `i` index. */
  readonly replicaIdentity: 'd' | 'n' | 'f' | 'i';
  readonly columns: readonly ShapeColumn[];
}

/** One committed change, in commit order. */
export type LoggedChange =
  | { readonly kind: 'insert'; readonly shapeId: number; readonly row: Tuple }
  | {
      readonly kind: 'update';
      readonly shapeId: number;
      readonly row: Tuple;
      /** pgoutput's old tuple: the old key ('K', when the key changed) or the full old row ('O', REPLICA IDENTITY FULL). */
      readonly old?: { readonly kind: 'key' | 'full'; readonly row: Tuple };
    }
  | {
      readonly kind: 'delete';
      readonly shapeId: number;
      readonly old: { readonly kind: 'key' | 'full'; readonly row: Tuple };
    }
  | {
      readonly kind: 'truncate';
      readonly shapeIds: readonly number[];
      readonly cascade: boolean;
      readonly restartIdentity: boolean;
    };

/** A committed transaction's header. Its changes may be stored and read in several chunks (large transactions). */
export interface TransactionHeader {
  /** LSN of the commit record (pgoutput Begin.final_lsn / Commit.commit_lsn). The log key. */
  readonly commitLsn: bigint;
  /** LSN just past the commit record (Commit.end_lsn): where the slot may be advanced to once logged. */
  readonly endLsn: bigint;
  readonly xid: number;
  /** Commit time, microseconds since 1970-01-01 UTC. */
  readonly commitTimeUs: bigint;
}
