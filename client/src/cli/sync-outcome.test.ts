import { ErrorCode, SyncError } from '@vibestack/proto';
import { expect, it } from 'vitest';
import type { ClientStatus } from '../core/client-types.ts';
import type { TokenSource } from './args.ts';
import { createErrorWording } from './error-wording.ts';
import { createOutcomeJudge, type Outcome } from './sync-outcome.ts';

const FIXED: TokenSource = { kind: 'fixed', token: 't' };
const COMMAND: TokenSource = { kind: 'command', command: 'get-token' };

function judge(token: TokenSource, untilCaughtUp = true) {
  const outcomes: Outcome[] = [];
  return {
    outcomes,
    judge: createOutcomeJudge({ untilCaughtUp }, (o) => outcomes.push(o), createErrorWording(token)),
  };
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

it('reports a refused fixed token for a CLI user: which flags give another', () => {
  const { outcomes, judge: j } = judge(FIXED, false);
  j(status('FAILED', 0n, rejected()));
  expect(outcomes).toEqual([
    {
      kind: 'failed',
      error: {
        code: 'UNAUTHENTICATED',
        message:
          'the server refused the token (UNAUTHENTICATED: expired); pass a fresh one with --token/VIBESTACK_TOKEN ' +
          'or use --token-command',
      },
    },
  ]);
});

it('says that a refused upgrade (404) means no sync endpoint under --url', () => {
  const { outcomes, judge: j } = judge(COMMAND, false);
  const url = 'ws://127.0.0.1:8787/app/v1/sync?client_id=c1';
  const error = new SyncError(ErrorCode.UNAVAILABLE, `the WebSocket upgrade at ${url} failed (HTTP 404)`, {
    details: { url, httpStatus: 404 },
  });
  j(status('FAILED', 0n, error));
  expect(outcomes).toEqual([
    {
      kind: 'failed',
      error: {
        code: 'UNAVAILABLE',
        message: expect.stringMatching(
          /^the WebSocket upgrade at ws:\/\/127\.0\.0\.1:8787\/app\/v1\/sync\?client_id=c1 failed \(HTTP 404\): no VibeStack sync endpoint there; check --url/,
        ),
      },
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
