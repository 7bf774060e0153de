/**
 * When the session reconnects (docs/protocol.md §9.2–§9.4): the attempt counter behind "at once" and backoff,
 * `maxBackoffMs`, and a socket on which the server did not select the subprotocol (§2.1), which is a failed
 * upgrade, not a reason to stop.
 */

import { ErrorCode, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { ClientStatus } from './client-types.ts';
import { Driver, serverError, traceOf, welcome } from './testing/server-frames.ts';

const last = (d: Driver): ClientStatus =>
  d.effects.flatMap((e) => (e.type === 'status' ? [e.status] : [])).at(-1)!;
/** The delay of the reconnect the session just scheduled, ms. */
const delay = (d: Driver): number =>
  d.effects.flatMap((e) => (e.type === 'set-timer' ? [e.at] : [])).at(-1)! - d.now;
/** Waits out the backoff, and opens the next connection. */
function reconnect(d: Driver): void {
  d.now += delay(d);
  d.handle({ type: 'tick' });
  d.open();
}
const unavailable = (d: Driver) => d.handle({ type: 'socket-closed', code: 4017, reason: '' });

describe('the attempt counter (§9.2, §9.4)', () => {
  it('"at once" is no delay for the first attempt, then the backoff window: two UNAVAILABLE closes in a row', () => {
    const d = new Driver({ random: () => 0.5 });
    d.connect();
    unavailable(d);
    expect(delay(d)).toBe(0); // n = 0
    reconnect(d);
    unavailable(d);
    expect(delay(d)).toBe(0.5 * 500); // n = 1: uniform over [0, 500]
    reconnect(d);
    unavailable(d);
    expect(delay(d)).toBe(0.5 * 1000); // n = 2
  });

  it('counts every attempt, at once or not, and resets once a connection stayed open 30 s after Welcome', () => {
    const d = new Driver({ random: () => 0.5 });
    d.connect();
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    expect(delay(d)).toBe(0.5 * 250); // backoff, n = 0
    reconnect(d);
    unavailable(d);
    expect(delay(d)).toBe(0.5 * 500); // at once, but n = 1
    reconnect(d);
    d.server(welcome(SyncMode.LIVE));
    d.now += 29_999;
    unavailable(d);
    expect(delay(d)).toBe(0.5 * 1000); // n = 2: open for less than 30 s
    reconnect(d);
    d.server(welcome(SyncMode.LIVE));
    d.now += 30_000;
    unavailable(d);
    expect(delay(d)).toBe(0); // n reset to 0
    reconnect(d);
    unavailable(d);
    expect(delay(d)).toBe(0.5 * 500);
  });
});

describe('maxBackoffMs', () => {
  it('caps the delays the client chooses, never a retry_after_ms', () => {
    const d = new Driver({ maxBackoffMs: 40, random: () => 0.5 });
    d.connect();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      d.handle({ type: 'socket-closed', code: 1006, reason: '' });
      delays.push(delay(d));
      reconnect(d);
    }
    expect(delays).toEqual([20, 20, 20, 20]); // not 125, 250, 500, 1000
    d.server(serverError(ErrorCode.UNAVAILABLE, true, 5_000));
    expect(delay(d)).toBe(5_000);
    reconnect(d);
    d.server(serverError(ErrorCode.OVERLOADED, true, 5_000));
    expect(delay(d)).toBe(5_020); // retry_after_ms + the jitter, over 40 ms instead of 5 000
  });
});

describe('network-online (§9.4)', () => {
  it("skips the client's own backoff, not the server's retry_after_ms", () => {
    const d = new Driver();
    d.connect();
    d.handle({ type: 'socket-closed', code: 1006, reason: '' });
    expect(traceOf(d.handle({ type: 'network-online' }))).toEqual(['get-token']);

    const waiting = new Driver();
    waiting.connect();
    waiting.server(serverError(ErrorCode.OVERLOADED, true, 5_000));
    expect(delay(waiting)).toBe(5_000 + 0.999 * 5_000);
    waiting.now += 1_000;
    expect(traceOf(waiting.handle({ type: 'network-online' }))).toEqual([]);
    expect(waiting.session.state).toBe('BACKOFF');
    expect(delay(waiting)).toBe(4_000); // the jitter skipped, the rest of retry_after_ms not
    waiting.now += 4_000;
    expect(traceOf(waiting.handle({ type: 'tick' }))).toEqual(['get-token']);
  });
});

describe('a subprotocol the server did not select (§2.1, §9.3)', () => {
  it.each([
    ['', 'the server selected no subprotocol, not "vibestack.sync.v1"'],
    ['chat', 'the server selected subprotocol "chat", not "vibestack.sync.v1"'],
  ])(
    '"%s": closes 1002 without sending anything, and backs off like a failed upgrade',
    (subprotocol, message) => {
      const d = new Driver();
      d.handle({ type: 'start' });
      d.handle({ type: 'token', token: 't' });
      const before = d.effects.length;
      d.handle({ type: 'socket-open', subprotocol });
      expect(traceOf(d.effects.slice(before))).toEqual(['close:1002']);
      expect(last(d).state).toBe('BACKOFF');
      expect(last(d).error).toMatchObject({ code: ErrorCode.PROTOCOL_VIOLATION, rawMessage: message });
      expect(delay(d)).toBe(0.999 * 250);
      d.now += delay(d);
      expect(traceOf(d.handle({ type: 'tick' }))).toEqual(['get-token']);
    },
  );
});
