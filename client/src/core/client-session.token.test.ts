/**
 * A token the server refused (UNAUTHENTICATED, docs/protocol.md §4.3) is never sent again: when the token source
 * returns it once more, the session opens no connection, stays in BACKOFF with the refusal as its error and asks
 * again at the next backoff delay, logging that once per refusal. A fixed token fails at once
 * (client-session.progress.test.ts).
 */

import { ErrorCode, type Hello, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { ClientStatus } from './client-types.ts';
import { Driver, serverError, traceOf, welcome } from './testing/server-frames.ts';

const REFUSED_AGAIN = 'the token source returned the token the server refused; waiting for a fresh one';

const last = (d: Driver): ClientStatus =>
  d.effects.flatMap((e) => (e.type === 'status' ? [e.status] : [])).at(-1)!;
const timerAt = (d: Driver): number | undefined =>
  d.effects.flatMap((e) => (e.type === 'set-timer' ? [e.at] : [])).at(-1);
const warnings = (d: Driver): string[] =>
  d.effects.flatMap((e) => (e.type === 'log' && e.message === REFUSED_AGAIN ? [e.message] : []));
const helloTokens = (d: Driver): string[] =>
  d.sent.flatMap((m) => (m.message.case === 'hello' ? [(m.message.value as Hello).authToken] : []));

/** Waits out the backoff and answers the `get-token` that follows with `token`; returns the trace. */
function retryWith(d: Driver, token: string): string[] {
  d.now = timerAt(d)!;
  const before = d.effects.length;
  d.handle({ type: 'tick' });
  d.handle({ type: 'token', token });
  return traceOf(d.effects.slice(before));
}

describe('a refused token (§4.3)', () => {
  it('is not sent again: the session waits and asks at each backoff delay until the source returns another', () => {
    const d = new Driver();
    d.connect('old');
    d.server(serverError(ErrorCode.UNAUTHENTICATED, true));
    const refusal = last(d).error;
    expect(last(d)).toMatchObject({ state: 'BACKOFF', error: { code: ErrorCode.UNAUTHENTICATED } });

    const delays: number[] = [timerAt(d)! - d.now];
    for (let i = 0; i < 3; i++) {
      // Asked for a fresh token, given the refused one: no connect, back to BACKOFF with the refusal.
      expect(retryWith(d, 'old')).toEqual(['get-token:fresh']);
      expect(last(d).state).toBe('BACKOFF');
      expect(last(d).error).toBe(refusal);
      delays.push(timerAt(d)! - d.now);
    }
    // The attempt counter grows as for failed connects: windows of 250, 500, 1000, 2000 ms (random 0.999).
    expect(delays).toEqual([249.75, 499.5, 999, 1998]);
    expect(warnings(d)).toHaveLength(1);

    expect(retryWith(d, 'new')).toEqual(['get-token:fresh', 'connect']);
    d.handle({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
    expect(last(d).state).toBe('AWAIT_WELCOME');
    expect(helloTokens(d)).toEqual(['old', 'new']);
  });

  it('is the token of the refused connection, also for a close 4001, and warns once per refusal', () => {
    const d = new Driver();
    d.connect('a');
    d.handle({ type: 'socket-closed', code: 4001, reason: 'ERROR_CODE_UNAUTHENTICATED' });
    expect(retryWith(d, 'a')).toEqual(['get-token:fresh']);
    expect(retryWith(d, 'b')).toEqual(['get-token:fresh', 'connect']);
    d.handle({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
    d.server(welcome(SyncMode.INITIAL));
    // `b` is refused later (it expired): a new refusal, a new warning.
    d.server(serverError(ErrorCode.UNAUTHENTICATED, true));
    expect(retryWith(d, 'b')).toEqual(['get-token:fresh']);
    expect(retryWith(d, 'b')).toEqual(['get-token:fresh']);
    expect(warnings(d)).toHaveLength(2);
    expect(retryWith(d, 'c')).toEqual(['get-token:fresh', 'connect']);
    d.handle({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
    expect(helloTokens(d)).toEqual(['a', 'b', 'c']);
  });

  it('is not sent even when the source returns it unasked, after another token got through', () => {
    const d = new Driver();
    d.connect('a');
    d.server(serverError(ErrorCode.UNAUTHENTICATED, true));
    expect(retryWith(d, 'b')).toEqual(['get-token:fresh', 'connect']);
    d.handle({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    // Not a refusal: no fresh token asked for, but the source's answer is still checked.
    expect(retryWith(d, 'a')).toEqual(['get-token']);
    expect(last(d).state).toBe('BACKOFF');
    expect(helloTokens(d)).toEqual(['a', 'b']);
  });

  it('keeps the refusal as the error while the source fails, and backs off', () => {
    const d = new Driver();
    d.connect('a');
    d.server(serverError(ErrorCode.UNAUTHENTICATED, true));
    const refusal = last(d).error;
    d.now = timerAt(d)!;
    d.handle({ type: 'tick' });
    const before = d.effects.length;
    d.handle({ type: 'token-failed', reason: 'the auth server is down' });
    expect(traceOf(d.effects.slice(before))).toEqual([]);
    expect(last(d).state).toBe('BACKOFF');
    expect(last(d).error).toBe(refusal);
    expect(d.effects.slice(before)).toContainEqual({
      type: 'log',
      level: 'warn',
      message: 'getting a token failed: the auth server is down',
    });

    // Without a refusal, a failed source is the error itself.
    const fresh = new Driver();
    fresh.handle({ type: 'start' });
    fresh.handle({ type: 'token-failed', reason: 'offline' });
    expect(last(fresh)).toMatchObject({ state: 'BACKOFF', error: { code: ErrorCode.UNAVAILABLE } });
    expect(last(fresh).error?.rawMessage).toBe('getting a token failed: offline');
  });
});
