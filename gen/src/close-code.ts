import { CLOSE_NORMAL, ERROR_CLOSE_CODE_BASE, ERROR_CLOSE_CODE_MAX } from './constants.ts';
import { ErrorCode } from './gen/vibestack/sync/v1/error_pb.ts';

/**
 * The WebSocket close code for a fatal error: `4000 + code` (docs/protocol.md §9).
 * @throws RangeError for ERROR_CODE_UNSPECIFIED, which is never sent.
 */
export function closeCodeForError(code: ErrorCode): number {
  if (code === ErrorCode.UNSPECIFIED || code < 0 || code > ERROR_CLOSE_CODE_MAX - ERROR_CLOSE_CODE_BASE) {
    throw new RangeError(`no close code for error code ${code}`);
  }
  return ERROR_CLOSE_CODE_BASE + code;
}

/**
 * The error code behind a WebSocket close code: the ErrorCode for 4001–4099 (an unknown number maps to
 * INTERNAL, so a newer server's code is still handled as a retryable failure), `undefined` for a normal
 * close (1000) and ERROR_CODE_UNAVAILABLE for every other code (going away, abnormal closure, …).
 */
export function errorForCloseCode(closeCode: number): ErrorCode | undefined {
  if (closeCode === CLOSE_NORMAL) return undefined;
  if (closeCode > ERROR_CLOSE_CODE_BASE && closeCode <= ERROR_CLOSE_CODE_MAX) {
    const code = closeCode - ERROR_CLOSE_CODE_BASE;
    return code in ErrorCode ? (code as ErrorCode) : ErrorCode.INTERNAL;
  }
  return ErrorCode.UNAVAILABLE;
}
