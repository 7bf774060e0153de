/**
 * The one error type of the `SqlClient` port: a driver failure with the Postgres SQLSTATE kept, so that callers
 * can branch on `code` whatever the driver.
 */

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The fields of a Postgres ErrorResponse that drivers expose. */
interface DriverErrorFields {
  code?: unknown;
  detail?: unknown;
  hint?: unknown;
  severity?: unknown;
}

/** A failed query or connection. `code` is the Postgres SQLSTATE when the server reported the error. */
export class SqlError extends Error {
  override readonly name = 'SqlError';
  /** Postgres SQLSTATE (e.g. `42P01`), or `undefined` for client-side failures (connection, timeout). */
  readonly code: string | undefined;
  /** Postgres's DETAIL, when sent. */
  readonly detail: string | undefined;
  /** Postgres's HINT, when sent. */
  readonly hint: string | undefined;

  constructor(
    message: string,
    fields: { code?: string; detail?: string; hint?: string; cause?: unknown } = {},
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
  }

  /** Wraps any thrown value; a `SqlError` is returned as is. */
  static from(error: unknown): SqlError {
    if (error instanceof SqlError) return error;
    if (error instanceof Error) {
      const fields = error as Error & DriverErrorFields;
      const code = typeof fields.code === 'string' && SQLSTATE.test(fields.code) ? fields.code : undefined;
      const out: { code?: string; detail?: string; hint?: string; cause: unknown } = { cause: error };
      if (code !== undefined) out.code = code;
      if (typeof fields.detail === 'string') out.detail = fields.detail;
      if (typeof fields.hint === 'string') out.hint = fields.hint;
      return new SqlError(error.message, out);
    }
    return new SqlError(String(error), { cause: error });
  }
}

/** True for a {@link SqlError}, optionally with the given SQLSTATE. */
export function isSqlError(error: unknown, code?: string): error is SqlError {
  return error instanceof SqlError && (code === undefined || error.code === code);
}

/** SQLSTATEs the `db` shell branches on (Postgres errcodes.txt). */
export const SQLSTATE_CODES = {
  /** 42710: CREATE of a publication or slot that another session created first. */
  duplicateObject: '42710',
  /** 42704: the named publication or slot does not exist. */
  undefinedObject: '42704',
  /** 55000: e.g. advancing a slot below its confirmed position. */
  objectNotInPrerequisiteState: '55000',
  /** 55006: the slot is active in another session. */
  objectInUse: '55006',
} as const;
