import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogRateLimiter, MAX_LOGGED_TEXT_BYTES, safeLogText } from './log-line.ts';

const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe('safeLogText', () => {
  it('escapes newlines, ANSI escapes, other controls, separators, bidi overrides and backslashes', () => {
    expect(safeLogText('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(safeLogText('\u001b[2J\u001b[31mred')).toBe('\\u001b[2J\\u001b[31mred');
    expect(safeLogText('x\u0000y\u007fz\u0085')).toBe('x\\u0000y\\u007fz\\u0085');
    expect(safeLogText('p\u2028q\u2029r')).toBe('p\\u2028q\\u2029r');
    expect(safeLogText('evil\u202egnp.exe')).toBe('evil\\u202egnp.exe');
    expect(safeLogText('a\\nb')).toBe('a\\\\nb');
    expect(safeLogText('grüße, 日本 😀')).toBe('grüße, 日本 😀');
  });

  it('cuts to 1 KiB of UTF-8 without splitting a character, and marks the cut', () => {
    const long = 'é'.repeat(3_000);
    const out = safeLogText(long);
    expect(out.endsWith('…')).toBe(true);
    expect(utf8(out.slice(0, -1))).toBeLessThanOrEqual(MAX_LOGGED_TEXT_BYTES);
    expect(out.slice(0, -1)).toBe('é'.repeat(MAX_LOGGED_TEXT_BYTES / 2));
  });

  it('cuts a 3 MB message of line breaks to one bounded line', () => {
    const huge = `${'\n'.repeat(10)}${'x'.repeat(3 * 1024 * 1024)}`;
    const out = safeLogText(huge);
    expect(out).toBe(`${'\\n'.repeat(10)}${'x'.repeat(MAX_LOGGED_TEXT_BYTES - 10)}…`);
  });

  it('never leaves a line break or control character, and stays within the bound plus escapes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3_000 }), (text) => {
        const out = safeLogText(text);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
        expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        // Each kept byte becomes at most 6 characters of escape.
        expect(utf8(out)).toBeLessThanOrEqual(MAX_LOGGED_TEXT_BYTES * 6 + 3);
      }),
    );
  });
});

describe('LogRateLimiter', () => {
  it('allows a burst, then one line per refill period, and reports what it held back', () => {
    const limiter = new LogRateLimiter({ burst: 3, refillMs: 1_000 });
    const taken = Array.from({ length: 10 }, () => limiter.take(0));
    expect(taken).toEqual([
      0,
      0,
      0,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(limiter.take(999)).toBeUndefined();
    expect(limiter.take(1_000)).toBe(8);
    expect(limiter.take(1_000)).toBeUndefined();
    // A long quiet refills the burst, no more.
    expect(Array.from({ length: 5 }, () => limiter.take(60_000))).toEqual([1, 0, 0, undefined, undefined]);
  });
});
