/**
 * What a client is told when the server's own work fails (docs/protocol.md §9): a database that has no
 * connection to spare is `OVERLOADED` and an unreachable one `UNAVAILABLE`, both with `retry_after_ms`, so that
 * clients back off instead of hammering it; anything else is `INTERNAL`. The client never sees driver or
 * Postgres text (it can name tables, users, hosts): the server logs the original with a reference the client's
 * message repeats.
 */

import { ErrorCode, isSyncError, SyncError } from '@vibestack/proto';
import { SqlError } from './sql-error.ts';

/** `retry_after_ms` for an overloaded or unreachable database (clients add full jitter over it, §9.2). */
export const DATABASE_RETRY_AFTER_MS = 2_000;

/** SQLSTATEs of a server that refuses more work now: class 53 (insufficient resources), cannot connect now. */
function isOverloaded(code: string): boolean {
  return code.startsWith('53') || code === '57P03';
}

/** SQLSTATEs of a lost or refused connection: class 08, an administrator or crash shutdown. */
function isUnreachable(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02';
}

/** A Durable Object RPC that failed because the object was overloaded or reset (workerd sets these flags). */
function rpcFlags(error: unknown): { overloaded: boolean; retryable: boolean } {
  const e = error as { overloaded?: unknown; retryable?: unknown } | null;
  return { overloaded: e?.overloaded === true, retryable: e?.retryable === true };
}

/** The classified error, and whether the original must be logged (everything not already a `SyncError`). */
export interface ClientFacingError {
  readonly error: SyncError;
  readonly log: boolean;
}

/**
 * The error to send a client for a failure of the server's own work. A `SyncError` passes through (its message
 * is the server's own); anything else is classified, with a generic message that carries `ref` so that an
 * operator can find the logged original.
 */
export function clientFacingError(error: unknown, ref: string): ClientFacingError {
  if (isSyncError(error)) return { error, log: false };
  const retryAfterMs = DATABASE_RETRY_AFTER_MS;
  const sql = error instanceof SqlError ? error : undefined;
  const flags = rpcFlags(error);
  if ((sql?.code !== undefined && isOverloaded(sql.code)) || flags.overloaded) {
    return {
      error: new SyncError(ErrorCode.OVERLOADED, `the server is at capacity; retry later (ref ${ref})`, {
        retryAfterMs,
      }),
      log: true,
    };
  }
  if ((sql !== undefined && (sql.code === undefined || isUnreachable(sql.code))) || flags.retryable) {
    return {
      error: new SyncError(ErrorCode.UNAVAILABLE, `the database is unreachable; retry later (ref ${ref})`, {
        retryAfterMs,
      }),
      log: true,
    };
  }
  return { error: new SyncError(ErrorCode.INTERNAL, `internal server error (ref ${ref})`), log: true };
}
