/**
 * What the client does after a connection ends (docs/protocol.md §9.2, §9.3) and how long it waits (§9.4: full
 * jitter, 250 ms × 2ⁿ capped at 30 s or the configured `maxBackoffMs`, `retry_after_ms` as a minimum). Pure:
 * randomness is passed in.
 */

import { CLOSE_NORMAL, ERROR_CLOSE_CODE_BASE, ERROR_CLOSE_CODE_MAX, ErrorCode } from '@vibestack/proto';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, HTTP_TOO_MANY_REQUESTS } from './constants.ts';

/** The reaction to the end of a connection. */
export type ReconnectAction =
  | { readonly kind: 'stop' }
  | {
      readonly kind: 'retry';
      /** `backoff`: §9.4 delay; `at-once`: no delay for the first attempt, then backoff. */
      readonly delay: 'backoff' | 'at-once';
      /** Wait at least this long, plus uniform jitter over `jitterMs` (OVERLOADED). */
      readonly minMs?: number;
      readonly jitterMs?: number;
      /** Obtain a fresh token first (UNAUTHENTICATED). */
      readonly freshToken?: boolean;
      /** Forget the applied LSN and snapshot position (MUST_REFETCH). */
      readonly refetch?: boolean;
    };

const BACKOFF: ReconnectAction = { kind: 'retry', delay: 'backoff' };
const STOP: ReconnectAction = { kind: 'stop' };

const STOP_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.PERMISSION_DENIED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.SCHEMA_MISMATCH,
  ErrorCode.REPLACED,
  ErrorCode.ROW_TOO_LARGE,
]);

/** The action for a fatal error received from the server (or its close code, §9.2). */
export function actionForError(code: ErrorCode, retryAfterMs = 0): ReconnectAction {
  if (STOP_CODES.has(code)) return STOP;
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return { kind: 'retry', delay: 'backoff', freshToken: true };
    case ErrorCode.MUST_REFETCH:
      return { kind: 'retry', delay: 'at-once', refetch: true };
    case ErrorCode.OVERLOADED:
      return retryAfterMs > 0
        ? { kind: 'retry', delay: 'at-once', minMs: retryAfterMs, jitterMs: retryAfterMs }
        : BACKOFF;
    case ErrorCode.UNAVAILABLE:
      return retryAfterMs > 0
        ? { kind: 'retry', delay: 'at-once', minMs: retryAfterMs }
        : { kind: 'retry', delay: 'at-once' };
    default:
      // Every other code, including codes this client does not know (handled as INTERNAL, §9.1).
      return BACKOFF;
  }
}

/** The action for a WebSocket close without an Error frame (§9.3). */
export function actionForClose(closeCode: number): ReconnectAction {
  if (closeCode === CLOSE_NORMAL) return BACKOFF;
  if (closeCode > ERROR_CLOSE_CODE_BASE && closeCode <= ERROR_CLOSE_CODE_MAX) {
    return actionForError(closeCode - ERROR_CLOSE_CODE_BASE);
  }
  return BACKOFF;
}

/** The action for a failed WebSocket upgrade (§9.3): another HTTP 4xx than 429 is a configuration error. */
export function actionForUpgradeFailure(httpStatus: number | undefined): ReconnectAction {
  if (
    httpStatus !== undefined &&
    httpStatus >= 400 &&
    httpStatus < 500 &&
    httpStatus !== HTTP_TOO_MANY_REQUESTS
  ) {
    return STOP;
  }
  return BACKOFF;
}

/**
 * The delay before reconnect attempt `attempt`, in ms. `attempt` (n) counts the attempts since the last
 * connection that stayed open 30 s (`BACKOFF_RESET_AFTER_MS`) after its Welcome, whether each was made at once or
 * after a backoff; 0 = the first reconnect. §9.2 "at once" is delay 0 for n = 0 and the §9.4 backoff delay for
 * every later n.
 *
 * `maxBackoffMs` caps the delays the client chooses itself — the full-jitter window and the OVERLOADED jitter —
 * but never shortens the server's `retry_after_ms` (`minMs`): the wait is at least that long.
 * @param random uniform in [0, 1).
 * @param maxBackoffMs cap of the client's own delays, ms; default {@link BACKOFF_MAX_MS} (larger values change
 *   nothing).
 */
export function reconnectDelay(
  action: Extract<ReconnectAction, { kind: 'retry' }>,
  attempt: number,
  random: () => number,
  maxBackoffMs: number = BACKOFF_MAX_MS,
): number {
  const cap = Math.max(0, Math.min(BACKOFF_MAX_MS, maxBackoffMs));
  const window = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  const base = action.delay === 'at-once' && attempt === 0 ? 0 : random() * window;
  const jitter = action.jitterMs === undefined ? 0 : random() * Math.min(cap, action.jitterMs);
  return Math.max(base, (action.minMs ?? 0) + jitter);
}
