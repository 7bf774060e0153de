/**
 * The two failures of the pgoutput layer: bytes that are not a valid message ({@link PgoutputDecodeError}) and
 * valid messages in an order the protocol does not allow ({@link PgoutputProtocolError}). Both mean the reader
 * must stop and re-read from the slot; neither is ever sent to a client.
 */

/** Why a message could not be decoded. */
export type PgoutputDecodeErrorCode =
  /** The buffer ended inside a field. */
  | 'truncated'
  /** Bytes were left after a complete message. */
  | 'trailing-bytes'
  /** A field held a value the protocol does not define (unknown tag, tuple kind, replica identity…). */
  | 'invalid-value'
  /** A string was not valid UTF-8. */
  | 'invalid-utf8';

/**
 * A pgoutput message is malformed: truncated, with trailing bytes, or with a value the protocol does not define.
 *
 * @example
 * try { decodePgoutputMessage(bytes); } catch (e) { if (isPgoutputDecodeError(e)) log(e.offset, e.code); }
 */
export class PgoutputDecodeError extends Error {
  override readonly name = 'PgoutputDecodeError';
  readonly code: PgoutputDecodeErrorCode;
  /** Byte offset in the message where decoding failed. */
  readonly offset: number;
  /** The message tag (first byte), or -1 for an empty buffer. */
  readonly tag: number;

  constructor(code: PgoutputDecodeErrorCode, message: string, offset: number, tag: number, cause?: unknown) {
    super(
      `pgoutput ${code} at offset ${offset}${tag >= 0 ? ` of a '${String.fromCharCode(tag)}' message` : ''}: ${message}`,
      cause === undefined ? {} : { cause },
    );
    this.code = code;
    this.offset = offset;
    this.tag = tag;
  }
}

/** Type guard for {@link PgoutputDecodeError}. */
export function isPgoutputDecodeError(value: unknown): value is PgoutputDecodeError {
  return value instanceof PgoutputDecodeError;
}

/** Which ordering rule a message sequence broke. */
export type PgoutputProtocolErrorCode =
  /** Begin or Stream Start while a transaction or stream block is open; Commit/Stop without one; etc. */
  | 'unexpected-message'
  /** Commit's commit LSN differs from Begin's final LSN. */
  | 'commit-lsn-mismatch'
  /** A change names a relation OID no Relation message described. */
  | 'unknown-relation'
  /** A tuple's column count differs from its Relation's. */
  | 'column-count-mismatch'
  /** A tuple holds binary data (the assembler needs `binary` off: values stay Postgres text). */
  | 'binary-value'
  /** A stream block's first-segment flag or xid does not match what came before. */
  | 'stream-mismatch';

/** Decoded messages arrived in an order the pgoutput protocol does not allow. */
export class PgoutputProtocolError extends Error {
  override readonly name = 'PgoutputProtocolError';
  readonly code: PgoutputProtocolErrorCode;

  constructor(code: PgoutputProtocolErrorCode, message: string) {
    super(`pgoutput protocol violation (${code}): ${message}`);
    this.code = code;
  }
}

/** Type guard for {@link PgoutputProtocolError}. */
export function isPgoutputProtocolError(value: unknown): value is PgoutputProtocolError {
  return value instanceof PgoutputProtocolError;
}
