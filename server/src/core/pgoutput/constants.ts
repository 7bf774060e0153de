/**
 * Wire constants of the pgoutput logical replication protocol (PostgreSQL docs, "Logical Replication Message
 * Formats"), protocol versions 1 and 2. Nothing here imports a runtime module.
 */

/** The first byte of every pgoutput message. */
export const MESSAGE_TAG = {
  begin: 0x42, // 'B'
  commit: 0x43, // 'C'
  origin: 0x4f, // 'O'
  relation: 0x52, // 'R'
  type: 0x59, // 'Y'
  insert: 0x49, // 'I'
  update: 0x55, // 'U'
  delete: 0x44, // 'D'
  truncate: 0x54, // 'T'
  message: 0x4d, // 'M'
  streamStart: 0x53, // 'S'
  streamStop: 0x45, // 'E'
  streamCommit: 0x63, // 'c'
  streamAbort: 0x41, // 'A'
} as const;

/** Bytes that introduce a tuple inside Insert/Update/Delete. */
export const TUPLE_TAG = {
  /** New row. */
  new: 0x4e, // 'N'
  /** Old replica-identity key (key columns set, others null). */
  key: 0x4b, // 'K'
  /** Old full row (REPLICA IDENTITY FULL). */
  old: 0x4f, // 'O'
} as const;

/** Per-column kinds inside TupleData. */
export const DATUM_KIND = {
  null: 0x6e, // 'n'
  unchangedToast: 0x75, // 'u'
  text: 0x74, // 't'
  binary: 0x62, // 'b'
} as const;

/** Relation column flag: the column is part of the replica identity. */
export const COLUMN_FLAG_KEY = 1;

/** Truncate option bits. */
export const TRUNCATE_OPTION = { cascade: 1, restartIdentity: 2 } as const;

/** Logical decoding message flag: the message is transactional. */
export const MESSAGE_FLAG_TRANSACTIONAL = 1;

/** Microseconds between 1970-01-01 and 2000-01-01 (Postgres timestamps count from 2000-01-01 UTC). */
export const POSTGRES_EPOCH_OFFSET_US = 946_684_800_000_000n;

/** Environment variable that makes the pgoutput `.pg.test.ts` files rewrite `fixtures/*.json`. */
export const RECORD_FIXTURES_ENV = 'VIBESTACK_RECORD_PGOUTPUT_FIXTURES';
