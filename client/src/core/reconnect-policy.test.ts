import { ErrorCode } from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionForClose,
  actionForError,
  actionForUpgradeFailure,
  reconnectDelay,
} from './reconnect-policy.ts';

describe('reconnect policy (§9.2–§9.4)', () => {
  it('maps codes to actions', () => {
    for (const code of [ErrorCode.PERMISSION_DENIED, ErrorCode.REPLACED, ErrorCode.SCHEMA_MISMATCH]) {
      expect(actionForError(code).kind).toBe('stop');
    }
    expect(actionForError(ErrorCode.MUST_REFETCH)).toMatchObject({ delay: 'at-once', refetch: true });
    expect(actionForError(ErrorCode.UNAUTHENTICATED)).toMatchObject({ freshToken: true });
    expect(actionForError(999 as ErrorCode)).toMatchObject({ kind: 'retry', delay: 'backoff' });
    expect(actionForClose(4018).kind).toBe('stop');
    expect(actionForClose(4099)).toMatchObject({ delay: 'backoff' });
    expect(actionForClose(1006)).toMatchObject({ delay: 'backoff' });
    expect(actionForUpgradeFailure(404).kind).toBe('stop');
    expect(actionForUpgradeFailure(429).kind).toBe('retry');
    expect(actionForUpgradeFailure(undefined).kind).toBe('retry');
  });

  it('waits within the full-jitter window, honouring retry_after_ms', () => {
    fc.assert(
      fc.property(fc.nat({ max: 40 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (n, r) => {
        const d = reconnectDelay({ kind: 'retry', delay: 'backoff' }, n, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.min(30_000, 250 * 2 ** n));
        const overloaded = actionForError(ErrorCode.OVERLOADED, 1000);
        if (overloaded.kind !== 'retry') throw new Error('retry expected');
        const o = reconnectDelay(overloaded, n, () => r);
        expect(o).toBeGreaterThanOrEqual(1000);
        expect(o).toBeLessThanOrEqual(2000 + Math.min(30_000, 250 * 2 ** n));
      }),
    );
    const atOnce = actionForError(ErrorCode.UNAVAILABLE);
    if (atOnce.kind !== 'retry') throw new Error('retry expected');
    expect(reconnectDelay(atOnce, 0, () => 0.9)).toBe(0);
    expect(reconnectDelay(atOnce, 3, () => 0.5)).toBe(1000);
  });

  it('"at once" is delay 0 for attempt 0 only, then the backoff window of attempt n (§9.2)', () => {
    const atOnce = actionForClose(4017);
    const backoff = actionForClose(1006);
    if (atOnce.kind !== 'retry' || backoff.kind !== 'retry') throw new Error('retry expected');
    expect(atOnce.delay).toBe('at-once');
    // Two UNAVAILABLE closes in a row: attempts 0 and 1.
    expect([0, 1].map((n) => reconnectDelay(atOnce, n, () => 0.5))).toEqual([0, 250]);
    for (let n = 1; n < 12; n++) {
      expect(reconnectDelay(atOnce, n, () => 0.7)).toBe(reconnectDelay(backoff, n, () => 0.7));
    }
  });

  it('caps its own delays at maxBackoffMs, never a retry_after_ms', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 40 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.nat({ max: 60_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (n, r, cap, retryAfter) => {
          const own = Math.min(cap, 30_000);
          const backoff = reconnectDelay({ kind: 'retry', delay: 'backoff' }, n, () => r, cap);
          expect(backoff).toBeLessThanOrEqual(Math.min(own, 250 * 2 ** n));
          for (const code of [ErrorCode.UNAVAILABLE, ErrorCode.OVERLOADED]) {
            const action = actionForError(code, retryAfter);
            if (action.kind !== 'retry') throw new Error('retry expected');
            const d = reconnectDelay(action, n, () => r, cap);
            expect(d).toBeGreaterThanOrEqual(retryAfter);
            // OVERLOADED: retry_after_ms plus jitter over min(retry_after_ms, cap).
            expect(d).toBeLessThanOrEqual(Math.max(own, retryAfter + Math.min(retryAfter, own)));
          }
        },
      ),
    );
    const overloaded = actionForError(ErrorCode.OVERLOADED, 5_000);
    if (overloaded.kind !== 'retry') throw new Error('retry expected');
    expect(reconnectDelay(overloaded, 9, () => 0.5, 100)).toBe(5_050);
    expect(reconnectDelay({ kind: 'retry', delay: 'backoff' }, 9, () => 0.5, 100)).toBe(50);
    expect(reconnectDelay({ kind: 'retry', delay: 'backoff' }, 9, () => 0.5, 0)).toBe(0);
    // Above 30 s it changes nothing.
    expect(reconnectDelay({ kind: 'retry', delay: 'backoff' }, 20, () => 0.5, 90_000)).toBe(15_000);
  });
});
