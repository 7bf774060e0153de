import { ErrorCode, SyncError } from '@vibestack/proto';
import { expect, it } from 'vitest';
import type { ClientStatus } from '../core/client-types.ts';
import type { TokenSource } from './args.ts';
import { createOutcomeJudge, type Outcome } from './sync-outcome.ts';

const FIXED: TokenSource = { kind: 'fixed', token: 't' };
const COMMAND: TokenSource = { kind: 'command', command: 'get-token' };

function judge(token: TokenSource, untilCaughtUp = true) {
  const outcomes: Outcome[] = [];
  return { outcomes, judge: createOutcomeJudge({ token, untilCaughtUp }, (o) => outcomes.push(o)) };
}
const status = (
  state: ClientStatus['state'],
  appliedLsn: bigint,
  error?: SyncError,
  caughtUpLsn = 0n,
): ClientStatus => ({ state, appliedLsn, caughtUpLsn, ...(error === undefined ? {} : { error }) });
const rejected = () => new SyncError(ErrorCode.UNAUTHENTICATED, 'expired');

it('is caught up once LIVE with everything up to the caught-up LSN applied, not at LIVE alone', () => {
  const { outcomes, judge: j } = judge(FIXED);
  j(status('CONNECTING', 100n));
  j(status('CATCHING_UP', 100n));
  j(status('LIVE', 300n, undefined, 500n)); // Progress{caught_up} arrived; transactions up to 500 still queued
  expect(outcomes).toEqual([]);
  j(status('LIVE', 500n, undefined, 500n));
  expect(outcomes).toEqual([{ kind: 'caught-up' }]);
});

it('is never caught up without --until-caught-up', () => {
  const { outcomes, judge: j } = judge(FIXED, false);
  j(status('LIVE', 5n, undefined, 5n));
  expect(outcomes).toEqual([]);
});

it('fails on FAILED with the code name', () => {
  const { outcomes, judge: j } = judge(COMMAND);
  j(status('FAILED', 0n, new SyncError(ErrorCode.PERMISSION_DENIED, 'client id of another user')));
  expect(outcomes).toEqual([
    { kind: 'failed', error: { code: 'PERMISSION_DENIED', message: 'client id of another user' } },
  ]);
});

it("reports a fixed token's failure with the server's reason for refusing it", () => {
  const { outcomes, judge: j } = judge(FIXED, false);
  j(status('BACKOFF', 0n, new SyncError(ErrorCode.UNAVAILABLE, 'going away')));
  j(status('BACKOFF', 0n, rejected())); // the client waits, then fails instead of sending the token again
  expect(outcomes).toEqual([]);
  j(status('FAILED', 0n, new SyncError(ErrorCode.UNAUTHENTICATED, 'options.token is a fixed string')));
  expect(outcomes).toEqual([
    {
      kind: 'failed',
      error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/^expired \(.*cannot be renewed\)$/) },
    },
  ]);
});

it('gives a token command three tries in a row; a connection that gets through resets the count', () => {
  const { outcomes, judge: j } = judge(COMMAND, false);
  const first = rejected();
  j(status('BACKOFF', 0n, first));
  j(status('CONNECTING', 0n, first)); // the last error stays in the status
  j(status('BACKOFF', 0n, rejected()));
  j(status('LIVE', 0n, first));
  j(status('BACKOFF', 0n, rejected()));
  j(status('BACKOFF', 0n, rejected()));
  expect(outcomes).toEqual([]);
  j(status('BACKOFF', 0n, rejected()));
  expect(outcomes).toEqual([
    {
      kind: 'failed',
      error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('3 fresh tokens') },
    },
  ]);
});
