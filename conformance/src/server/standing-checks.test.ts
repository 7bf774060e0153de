import { create } from '@bufbuild/protobuf';
import { ErrorCode, HelloSchema } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { type ConnectionRecord, newConnectionRecord } from './connection-record.ts';
import { checkRefusedToken, checkResumePoint, checkRetryAfter, refusedToken } from './standing-checks.ts';

/** Connection `index`, opened at `openedAt`, whose Hello carried `token` (and `resumeLsn`). */
function connection(index: number, token: string, openedAt = 0, resumeLsn = 0n): ConnectionRecord {
  const record = newConnectionRecord(index, 'c', openedAt);
  record.hello = create(HelloSchema, { authToken: token, clientId: 'c', resumeLsn });
  return record;
}

/** The server closed `record` at `at`, with `error` (and its retry_after_ms) or a bare `code`. */
function closedByServer(record: ConnectionRecord, at: number, error?: ErrorCode, retryAfterMs = 0, code = 0) {
  record.closedByServer = true;
  record.serverClosedAt = at;
  record.serverCloseCode = error === undefined ? code : 4000 + error;
  record.serverError = error;
  record.serverRetryAfterMs = retryAfterMs;
  return record;
}

describe('standing check: a refused token is never sent again (§4.3)', () => {
  it('fails a Hello with the token an earlier connection was refused with UNAUTHENTICATED', () => {
    const first = closedByServer(connection(1, 'T1'), 10, ErrorCode.UNAUTHENTICATED);
    expect(checkRefusedToken(connection(2, 'T1'), [first])).toBe(
      'connection 2: the Hello resent the token refused with UNAUTHENTICATED on connection 1 (§4.3)',
    );
    expect(checkRefusedToken(connection(2, 'T2'), [first])).toBeUndefined();
  });

  it('counts a bare close 4001 as a refusal, and no other close', () => {
    expect(refusedToken(closedByServer(connection(1, 'T'), 0, undefined, 0, 4001))).toBe(true);
    expect(refusedToken(closedByServer(connection(1, 'T'), 0, ErrorCode.UNAVAILABLE))).toBe(false);
    expect(refusedToken(closedByServer(connection(1, 'T'), 0, undefined, 0, 1000))).toBe(false);
    const refused = closedByServer(connection(1, 'T'), 0, undefined, 0, 4001);
    const unavailable = closedByServer(connection(2, 'T'), 0, ErrorCode.UNAVAILABLE);
    expect(checkRefusedToken(connection(3, 'T'), [unavailable])).toBeUndefined();
    expect(checkRefusedToken(connection(3, 'T'), [refused, unavailable])).toMatch(/on connection 1 /);
  });

  it('checks only the connections it is given (those of the same client process)', () => {
    const first = closedByServer(connection(1, 'T1'), 10, ErrorCode.UNAUTHENTICATED);
    expect(checkRefusedToken(connection(2, 'T1'), [])).toBeUndefined();
    expect(checkRefusedToken(newConnectionRecord(2, 'c', 0), [first])).toBeUndefined();
  });
});

describe('standing check: retry_after_ms is a minimum (§9.4)', () => {
  it('fails a connection opened sooner than retry_after_ms after the close, with both connections and the gap', () => {
    const first = closedByServer(connection(1, 'T'), 1_000, ErrorCode.OVERLOADED, 300);
    expect(checkRetryAfter(connection(2, 'T', 1_299), first)).toBe(
      'connection 2: the client opened it 299 ms after the server closed connection 1 with OVERLOADED retry_after_ms 300 (§9.4: wait at least that long)',
    );
    expect(checkRetryAfter(connection(2, 'T', 1_300), first)).toBeUndefined();
    expect(checkRetryAfter(connection(2, 'T', 5_000), first)).toBeUndefined();
  });

  it('needs a server close with retry_after_ms: none, a client close or no previous connection pass', () => {
    const noHint = closedByServer(connection(1, 'T'), 1_000, ErrorCode.UNAVAILABLE);
    expect(checkRetryAfter(connection(2, 'T', 1_001), noHint)).toBeUndefined();
    const byClient = connection(1, 'T');
    byClient.serverRetryAfterMs = 300;
    expect(checkRetryAfter(connection(2, 'T', 1), byClient)).toBeUndefined();
    expect(checkRetryAfter(connection(1, 'T', 1), undefined)).toBeUndefined();
  });
});

describe('standing check: resume points', () => {
  it('fails a resume point never delivered, and one below an acknowledgement', () => {
    const first = connection(1, 'T');
    first.delivered.add(100n);
    first.delivered.add(200n);
    first.maxAck = 200n;
    expect(checkResumePoint(connection(2, 'T', 0, 200n), [first], [first])).toEqual([]);
    expect(checkResumePoint(connection(2, 'T', 0, 150n), [first], [first])).toEqual([
      'connection 2: resume_lsn 150 is no commit, SnapshotEnd or Progress LSN the server sent',
      'connection 2: resume_lsn 150 is below the LSN 200 the client acknowledged (ack before apply?)',
    ]);
    expect(checkResumePoint(connection(2, 'T', 0, 100n), [first], [])).toEqual([]);
    expect(checkResumePoint(connection(2, 'T'), [first], [first])).toEqual([]);
  });
});
