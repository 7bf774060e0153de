/**
 * When `vibestack-client sync` is done: caught up, failed, or stopped by a signal. Pure: fed the client's
 * statuses and the Welcomes the socket tap reports.
 */

import { ErrorCode, isSyncError, type Lsn } from '@vibestack/proto';
import type { ClientStatus } from '../core/client-types.ts';
import type { SyncCommand } from './args.ts';
import { MAX_FRESH_TOKEN_REJECTIONS, TOKEN_ENV } from './constants.ts';
import { type ReportedError, reportedError } from './status-lines.ts';

/** Why a run ends. */
export type Outcome =
  | { readonly kind: 'caught-up' }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'failed'; readonly error: ReportedError };

/** Watches one run; see {@link createOutcomeJudge}. */
export interface OutcomeJudge {
  /** A connection got its Welcome with this `server_lsn` (the head of the server's change log). */
  welcome(serverLsn: Lsn): void;
  /** The client's status changed. */
  status(status: ClientStatus): void;
}

/**
 * Decides when a `sync` run ends from the client's statuses and Welcomes, and calls `settle` (maybe more than
 * once; the first call counts):
 *
 * - FAILED → failed, with the error's code name;
 * - BACKOFF after UNAUTHENTICATED → failed at once with a fixed token, after
 *   {@link MAX_FRESH_TOKEN_REJECTIONS} rejections in a row with a token command;
 * - with `untilCaughtUp`: LIVE with the applied LSN at or past the last Welcome's `server_lsn` → caught up.
 *   LIVE alone is not enough: after `Progress{caught_up}` transactions may still wait to be applied.
 */
export function createOutcomeJudge(
  command: Pick<SyncCommand, 'token' | 'untilCaughtUp'>,
  settle: (o: Outcome) => void,
): OutcomeJudge {
  let serverLsn: Lsn | undefined;
  let rejections = 0;
  let lastRejection: unknown;
  return {
    welcome(lsn) {
      serverLsn = lsn;
    },
    status(s) {
      if (s.state === 'FAILED') {
        settle({ kind: 'failed', error: reportedError(s.error ?? 'the client failed') });
        return;
      }
      if (s.state === 'SNAPSHOT' || s.state === 'CATCHING_UP' || s.state === 'LIVE') rejections = 0;
      // The session retries UNAUTHENTICATED with a fresh token (§9.2); a fixed one cannot be renewed.
      if (
        s.state === 'BACKOFF' &&
        isSyncError(s.error) &&
        s.error.code === ErrorCode.UNAUTHENTICATED &&
        s.error !== lastRejection
      ) {
        lastRejection = s.error;
        rejections++;
        const fixed = command.token.kind === 'fixed';
        if (fixed || rejections >= MAX_FRESH_TOKEN_REJECTIONS) {
          const { code, message } = reportedError(s.error);
          const why = fixed
            ? `the server rejected the token; a fixed token (--token, ${TOKEN_ENV}) cannot be renewed`
            : `the server rejected ${rejections} fresh tokens from --token-command in a row`;
          settle({ kind: 'failed', error: { code, message: `${message} (${why})` } });
          return;
        }
      }
      if (
        command.untilCaughtUp &&
        s.state === 'LIVE' &&
        serverLsn !== undefined &&
        s.appliedLsn >= serverLsn
      ) {
        settle({ kind: 'caught-up' });
      }
    },
  };
}
