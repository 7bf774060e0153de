/**
 * The client's errors worded for a CLI user. The library speaks of its options (`options.token`) and of
 * protocol mechanics; the CLI user needs to know which flag to change. Used for the status lines of
 * BACKOFF/FAILED and for the last line of a failed run.
 */

import { ErrorCode, isSyncError } from '@vibestack/proto';
import type { TokenSource } from './args.ts';
import { TOKEN_ENV } from './constants.ts';
import { type ReportedError, reportedError } from './status-lines.ts';

/** Words an error of the client (anything in `status.error`) for the CLI user. */
export type ErrorWording = (error: unknown) => ReportedError;

const HTTP_NOT_FOUND = 404;

/**
 * The wording for a `sync` run with this token source:
 * - UNAUTHENTICATED with a fixed token: the server refused it, and which flags give another;
 * - a refused upgrade (404): there is no sync endpoint under `--url`.
 * Anything else keeps the client's code and message.
 *
 * @example
 * const word = createErrorWording({ kind: 'fixed', token });
 * word(new SyncError(ErrorCode.UNAUTHENTICATED, 'token expired'));
 * // → { code: 'UNAUTHENTICATED', message: 'the server refused the token (UNAUTHENTICATED: token expired); …' }
 */
export function createErrorWording(token: TokenSource): ErrorWording {
  return (error) => {
    const reported = reportedError(error);
    if (!isSyncError(error)) return reported;
    if (error.code === ErrorCode.UNAUTHENTICATED && token.kind === 'fixed') {
      return {
        code: reported.code,
        message:
          `the server refused the token (${reported.code}: ${reported.message}); pass a fresh one with ` +
          `--token/${TOKEN_ENV} or use --token-command`,
      };
    }
    if (error.code === ErrorCode.UNAVAILABLE && error.details?.httpStatus === HTTP_NOT_FOUND) {
      return {
        code: reported.code,
        message:
          `${reported.message}: no VibeStack sync endpoint there; check --url (the server's base URL, ` +
          'e.g. http://127.0.0.1:8787)',
      };
    }
    return reported;
  };
}
