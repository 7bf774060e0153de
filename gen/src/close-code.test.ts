import { describe, expect, it } from 'vitest';
import { closeCodeForError, errorForCloseCode } from './close-code.ts';
import { ErrorCode } from './gen/vibestack/sync/v1/error_pb.ts';
import { isFatalByDefault, isRetryable, isSyncError, SyncError } from './sync-error.ts';

const codes = Object.values(ErrorCode).filter(
  (v): v is ErrorCode => typeof v === 'number' && v !== ErrorCode.UNSPECIFIED,
);

describe('close codes', () => {
  it('maps every error code to 4000 + code and back, one to one', () => {
    const seen = new Set<number>();
    for (const code of codes) {
      const close = closeCodeForError(code);
      expect(close).toBe(4000 + code);
      expect(close).toBeLessThanOrEqual(4099);
      expect(errorForCloseCode(close)).toBe(code);
      seen.add(close);
    }
    expect(seen.size).toBe(codes.length);
  });

  it('never maps UNSPECIFIED', () => {
    expect(() => closeCodeForError(ErrorCode.UNSPECIFIED)).toThrow(RangeError);
  });

  it('maps close codes that are not ours to UNAVAILABLE, unknown 40xx to INTERNAL, 1000 to none', () => {
    expect(errorForCloseCode(1000)).toBeUndefined();
    expect(errorForCloseCode(1006)).toBe(ErrorCode.UNAVAILABLE);
    expect(errorForCloseCode(1001)).toBe(ErrorCode.UNAVAILABLE);
    expect(errorForCloseCode(4099)).toBe(ErrorCode.INTERNAL);
    expect(errorForCloseCode(4000)).toBe(ErrorCode.UNAVAILABLE);
  });
});

describe('SyncError', () => {
  it('carries the code, fatality and retry hint', () => {
    const e = new SyncError(ErrorCode.OVERLOADED, 'busy', { retryAfterMs: 500 });
    expect(e.code).toBe(ErrorCode.OVERLOADED);
    expect(e.fatal).toBe(true);
    expect(e.retryAfterMs).toBe(500);
    expect(e.message).toBe('[OVERLOADED] busy');
    expect(e.rawMessage).toBe('busy');
    expect(isSyncError(e)).toBe(true);
    expect(new SyncError(ErrorCode.CONSTRAINT_VIOLATION, 'fk').fatal).toBe(false);
  });

  it('wraps anything thrown, keeping the cause', () => {
    const cause = new TypeError('boom');
    const e = SyncError.from(cause);
    expect(e.code).toBe(ErrorCode.INTERNAL);
    expect(e.cause).toBe(cause);
    expect(SyncError.from(e)).toBe(e);
    expect(SyncError.from('x', ErrorCode.MALFORMED_FRAME).code).toBe(ErrorCode.MALFORMED_FRAME);
    expect(isSyncError(new Error('plain'))).toBe(false);
  });

  it('classifies every code as fatal or per-mutation, and retryable or not', () => {
    for (const code of codes) {
      expect(typeof isFatalByDefault(code)).toBe('boolean');
    }
    expect(isRetryable(ErrorCode.MUST_REFETCH)).toBe(true);
    expect(isRetryable(ErrorCode.UNSUPPORTED_VERSION)).toBe(false);
    expect(isRetryable(ErrorCode.PERMISSION_DENIED)).toBe(false);
    expect(isRetryable(ErrorCode.SCHEMA_MISMATCH)).toBe(false);
  });
});
