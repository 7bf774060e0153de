import { ErrorCode } from './gen/vibestack/sync/v1/error_pb.ts';

/** Options of a {@link SyncError}. */
export interface SyncErrorOptions {
  /** The underlying failure. */
  cause?: unknown;
  /** Retry hint in milliseconds (for OVERLOADED and UNAVAILABLE). */
  retryAfterMs?: number;
  /** Whether the connection ends with this error; defaults to the code's {@link isFatalByDefault}. */
  fatal?: boolean;
  /** Structured details for logs (never sent as such). */
  details?: Readonly<Record<string, unknown>>;
}

/** Codes that only ever describe one mutation and never end a connection on their own. */
const PER_MUTATION_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.UNKNOWN_COLUMN,
  ErrorCode.INVALID_VALUE,
  ErrorCode.CONSTRAINT_VIOLATION,
]);

/** Codes after which a client reconnects (with backoff) instead of giving up. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.MUST_REFETCH,
  ErrorCode.OVERLOADED,
  ErrorCode.INTERNAL,
  ErrorCode.HEARTBEAT_TIMEOUT,
  ErrorCode.MUTATION_OUT_OF_ORDER,
  ErrorCode.UNAVAILABLE,
  ErrorCode.MALFORMED_FRAME,
  ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.PROTOCOL_VIOLATION,
]);

/** Whether an error with this code ends the connection when raised at connection level. */
export function isFatalByDefault(code: ErrorCode): boolean {
  return !PER_MUTATION_CODES.has(code);
}

/**
 * Whether a client should reconnect after a fatal error with this code. UNAUTHENTICATED is retryable with a
 * fresh token; PERMISSION_DENIED, UNSUPPORTED_VERSION and SCHEMA_MISMATCH need a change by a person first.
 */
export function isRetryable(code: ErrorCode): boolean {
  return RETRYABLE_CODES.has(code);
}

/** The enum name of a code without its prefix, e.g. `MUST_REFETCH`. */
export function errorCodeName(code: ErrorCode): string {
  return ErrorCode[code] ?? `UNKNOWN_${code}`;
}

/**
 * The one error type of VibeStack: a protocol {@link ErrorCode}, a message, and whether it ends the connection.
 *
 * @example
 * throw new SyncError(ErrorCode.UNKNOWN_RELATION, 'relation 7 was never described');
 */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  readonly code: ErrorCode;
  readonly fatal: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(`[${errorCodeName(code)}] ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.fatal = options.fatal ?? isFatalByDefault(code);
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  /** The message without the `[CODE]` prefix. */
  get rawMessage(): string {
    return this.message.slice(errorCodeName(this.code).length + 3);
  }

  /**
   * Turns anything thrown into a SyncError: a SyncError is returned as is; anything else becomes
   * `fallbackCode` (INTERNAL by default) with the original as `cause`.
   */
  static from(reason: unknown, fallbackCode: ErrorCode = ErrorCode.INTERNAL): SyncError {
    if (reason instanceof SyncError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new SyncError(fallbackCode, message, { cause: reason });
  }
}

/** Type guard for {@link SyncError}, also across package copies (checks the shape, not the prototype). */
export function isSyncError(value: unknown): value is SyncError {
  return (
    value instanceof SyncError ||
    (value instanceof Error &&
      value.name === 'SyncError' &&
      typeof (value as { code?: unknown }).code === 'number')
  );
}
