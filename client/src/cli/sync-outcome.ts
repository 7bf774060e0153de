/**
 * When `vibestack-client sync` is done: caught up, failed, or stopped by a signal. Pure: fed the client's
 * statuses.
 */

import { ErrorCode, isSyncError } from '@vibestack/proto';
import type { ClientStatus } from '../core/client-types.ts';
import type { SyncCommand } from './args.ts';
import { MAX_FRESH_TOKEN_REJECTIONS } from './constants.ts';
import type { ErrorWording } from './error-wording.ts';
import { type ReportedError, reportedError } from './status-lines.ts';

/** Why a run ends. */
export type Outcome =
  | { readonly kind: 'caught-up' }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'failed'; readonly error: ReportedError };

/**
 * Returns the function to feed every client status to; it decides when a `sync` run ends and calls `settle`
 * (maybe more than once; the first call counts):
 *
 * - FAILED → failed, with the error's code name and `word`'s message (a refused fixed token fails the client
 *   at once: it is never sent again, §4.3);
 * - BACKOFF after UNAUTHENTICATED {@link MAX_FRESH_TOKEN_REJECTIONS} times in a row → failed: the client asks
 *   `--token-command` for fresh tokens for ever;
 * - with `untilCaughtUp`: LIVE with the applied LSN at or past `caughtUpLsn` → caught up (what
 *   `client.whenLive()` waits for). LIVE alone is not enough: the transactions before `Progress{caught_up}` may
 *   still wait to be applied.
 */
export function createOutcomeJudge(
  command: Pick<SyncCommand, 'untilCaughtUp'>,
  settle: (o: Outcome) => void,
  word: ErrorWording = reportedError,
): (status: ClientStatus) => void {
  let rejections = 0;
  let lastRejection: unknown;
  return (s) => {
    if (s.state === 'FAILED') {
      settle({ kind: 'failed', error: word(s.error ?? 'the client failed') });
      return;
    }
    if (s.state === 'SNAPSHOT' || s.state === 'CATCHING_UP' || s.state === 'LIVE') rejections = 0;
    if (
      s.state === 'BACKOFF' &&
      isSyncError(s.error) &&
      s.error.code === ErrorCode.UNAUTHENTICATED &&
      s.error !== lastRejection
    ) {
      lastRejection = s.error;
      if (++rejections >= MAX_FRESH_TOKEN_REJECTIONS) {
        const { code, message } = word(s.error);
        const why = `the server rejected ${rejections} fresh tokens from --token-command in a row`;
        settle({ kind: 'failed', error: { code, message: `${message} (${why})` } });
        return;
      }
    }
    if (command.untilCaughtUp && s.state === 'LIVE' && s.appliedLsn >= s.caughtUpLsn) {
      settle({ kind: 'caught-up' });
    }
  };
}
