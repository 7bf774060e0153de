import { ErrorCode, SyncError } from '@vibestack/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientStatus } from '../core/client-types.ts';
import { createStatusReporter, formatBytes, reportedError, statusJson, statusText } from './status-lines.ts';

const unauthenticated = new SyncError(ErrorCode.UNAUTHENTICATED, 'bad signature');

describe('status lines', () => {
  it('formats a status as text and as JSON', () => {
    const snapshot: ClientStatus = {
      state: 'SNAPSHOT',
      appliedLsn: 0n,
      caughtUpLsn: 0n,
      snapshot: { stagedRows: 1200, estimatedRows: 2500n, receivedBytes: 3_250_000, resumed: false },
    };
    expect(statusText(snapshot)).toBe('vibestack-client: SNAPSHOT lsn=0/0 rows=1200/~2500 received=3.1 MiB');
    expect(JSON.parse(statusJson(snapshot))).toEqual({
      type: 'status',
      state: 'SNAPSHOT',
      appliedLsn: '0/0',
      stagedRows: 1200,
      estimatedRows: '2500',
      receivedBytes: 3_250_000,
      resumed: false,
    });
    const backoff: ClientStatus = {
      state: 'BACKOFF',
      appliedLsn: 0x1_0000_0010n,
      caughtUpLsn: 0n,
      error: unauthenticated,
    };
    expect(statusText(backoff)).toBe(
      'vibestack-client: BACKOFF lsn=1/10 error=UNAUTHENTICATED: bad signature',
    );
    expect(JSON.parse(statusJson(backoff))).toMatchObject({
      error: { code: 'UNAUTHENTICATED', message: 'bad signature' },
    });
    // The last error stays in the status after a recovery; it is not shown then.
    expect(statusText({ state: 'LIVE', appliedLsn: 16n, caughtUpLsn: 0n, error: unauthenticated })).toBe(
      'vibestack-client: LIVE lsn=0/10',
    );
  });

  it('shows no estimate before the server gave one, and says when a snapshot was resumed', () => {
    const connecting: ClientStatus = { state: 'SNAPSHOT', appliedLsn: 0n, caughtUpLsn: 0n };
    expect(statusText(connecting)).toBe('vibestack-client: SNAPSHOT lsn=0/0');
    expect(JSON.parse(statusJson(connecting))).toEqual({
      type: 'status',
      state: 'SNAPSHOT',
      appliedLsn: '0/0',
    });
    const unknown: ClientStatus = {
      ...connecting,
      snapshot: { stagedRows: 10, receivedBytes: 2048, resumed: false },
    };
    expect(statusText(unknown)).toBe('vibestack-client: SNAPSHOT lsn=0/0 rows=10 received=2.0 KiB');
    expect(JSON.parse(statusJson(unknown))).not.toHaveProperty('estimatedRows');
    const resumed: ClientStatus = {
      ...connecting,
      snapshot: { stagedRows: 5000, estimatedRows: 9000n, receivedBytes: 100, resumed: true },
    };
    expect(statusText(resumed)).toBe(
      'vibestack-client: SNAPSHOT lsn=0/0 rows=5000/~9000 received=100 B resumed',
    );
    expect(JSON.parse(statusJson(resumed))).toMatchObject({
      stagedRows: 5000,
      estimatedRows: '9000',
      resumed: true,
    });
  });

  it('words errors with the given wording', () => {
    const failed: ClientStatus = { state: 'FAILED', appliedLsn: 0n, caughtUpLsn: 0n, error: unauthenticated };
    const word = () => ({ code: 'UNAUTHENTICATED', message: 'worded' });
    expect(statusText(failed, word)).toBe('vibestack-client: FAILED lsn=0/0 error=UNAUTHENTICATED: worded');
    expect(JSON.parse(statusJson(failed, word)).error).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'worded',
    });
  });

  it('formats byte counts', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '5.0 GiB',
    ]);
  });

  it('names the protocol error code', () => {
    expect(reportedError(new SyncError(ErrorCode.PERMISSION_DENIED, 'other user'))).toEqual({
      code: 'PERMISSION_DENIED',
      message: 'other user',
    });
    expect(reportedError(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
  });
});

describe('createStatusReporter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('prints state changes at once and progress at most once per interval, the last one at the end', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const reporter = createStatusReporter({ json: false, write: (l) => lines.push(l), intervalMs: 1000 });
    const live = (lsn: bigint): ClientStatus => ({ state: 'LIVE', appliedLsn: lsn, caughtUpLsn: 0n });
    reporter.status({ state: 'CONNECTING', appliedLsn: 0n, caughtUpLsn: 0n });
    reporter.status(live(1n));
    reporter.status(live(2n));
    reporter.status(live(3n));
    expect(lines).toEqual(['vibestack-client: CONNECTING lsn=0/0', 'vibestack-client: LIVE lsn=0/1']);
    vi.advanceTimersByTime(1000);
    expect(lines.at(-1)).toBe('vibestack-client: LIVE lsn=0/3');
    reporter.status(live(4n));
    reporter.final({ type: 'stopped', appliedLsn: 4n, signal: 'SIGTERM' });
    expect(lines.slice(-2)).toEqual([
      'vibestack-client: LIVE lsn=0/4',
      'vibestack-client: stopped at 0/4 (SIGTERM)',
    ]);
    reporter.close();
  });

  it('writes JSON lines with --json', () => {
    const lines: string[] = [];
    const reporter = createStatusReporter({ json: true, write: (l) => lines.push(l) });
    reporter.status({ state: 'LIVE', appliedLsn: 255n, caughtUpLsn: 0n });
    reporter.log('warn', 'connecting failed');
    reporter.final({ type: 'error', appliedLsn: 255n, code: 'UNAUTHENTICATED', message: 'bad' });
    reporter.final({ type: 'stopped' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { type: 'status', state: 'LIVE', appliedLsn: '0/FF' },
      { type: 'log', level: 'warn', message: 'connecting failed' },
      { type: 'error', appliedLsn: '0/FF', code: 'UNAUTHENTICATED', message: 'bad' },
      { type: 'stopped' },
    ]);
    reporter.close();
  });
});
