import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareLsn, formatLsn, isLsn, LSN_MAX, maxLsn, parseLsn } from './lsn.ts';

const lsn = fc.bigInt({ min: 0n, max: LSN_MAX });

describe('lsn', () => {
  it('formats like Postgres and parses back', () => {
    expect(formatLsn(0n)).toBe('0/0');
    expect(formatLsn(0x16_b374_d848n)).toBe('16/B374D848');
    expect(parseLsn('16/B374D848')).toBe(0x16_b374_d848n);
    expect(formatLsn(LSN_MAX)).toBe('FFFFFFFF/FFFFFFFF');
    fc.assert(fc.property(lsn, (l) => parseLsn(formatLsn(l)) === l));
  });

  it('orders text forms the way it orders numbers', () => {
    fc.assert(
      fc.property(lsn, lsn, (a, b) => {
        expect(Math.sign(compareLsn(parseLsn(formatLsn(a)), parseLsn(formatLsn(b))))).toBe(
          a < b ? -1 : a > b ? 1 : 0,
        );
        // biome-ignore lint/complexity/useMathMinMax: Math.max does not take bigints.
        expect(maxLsn(a, b)).toBe(a > b ? a : b);
      }),
    );
  });

  it('rejects what is not an LSN', () => {
    for (const bad of ['', '0', '1/', '/1', 'G/0', '123456789/0', '1/2/3', ' 1/2']) {
      expect(() => parseLsn(bad), bad).toThrow(RangeError);
    }
    expect(isLsn(-1n)).toBe(false);
    expect(isLsn(LSN_MAX + 1n)).toBe(false);
    expect(isLsn(5)).toBe(false);
    expect(() => formatLsn(-1n)).toThrow(RangeError);
  });
});
