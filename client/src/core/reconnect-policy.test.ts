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
});
