import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVisibleInSnapshot, parsePgSnapshot } from './snapshot-reader.ts';

describe('parsePgSnapshot', () => {
  it('parses pg_snapshot text with and without running transactions', () => {
    expect(parsePgSnapshot('10:20:')).toEqual({ xmin: 10n, xmax: 20n, xip: [] });
    expect(parsePgSnapshot('4294967300:4294967310:4294967301,4294967305')).toEqual({
      xmin: 4294967300n,
      xmax: 4294967310n,
      xip: [4294967301n, 4294967305n],
    });
    expect(() => parsePgSnapshot('10:20')).toThrow(RangeError);
  });
});

describe('isVisibleInSnapshot', () => {
  const snapshot = { xmin: 100n, xmax: 110n, xip: [100n, 105n] };

  it('sees finished transactions below xmax that are not in xip', () => {
    expect(isVisibleInSnapshot(snapshot, 99)).toBe(true);
    expect(isVisibleInSnapshot(snapshot, 100)).toBe(false);
    expect(isVisibleInSnapshot(snapshot, 101)).toBe(true);
    expect(isVisibleInSnapshot(snapshot, 105)).toBe(false);
    expect(isVisibleInSnapshot(snapshot, 109)).toBe(true);
    expect(isVisibleInSnapshot(snapshot, 110)).toBe(false);
    expect(isVisibleInSnapshot(snapshot, 2)).toBe(true); // frozen
  });

  it('compares modulo 2^32 across the 32-bit wraparound of the low half', () => {
    // Epoch 1, low 32 bits 5..20: xid32 0xFFFFFFF0 is 21 before xmin, in epoch 0.
    const wrapped = { xmin: (1n << 32n) + 5n, xmax: (1n << 32n) + 20n, xip: [(1n << 32n) + 7n] };
    expect(isVisibleInSnapshot(wrapped, 0xffff_fff0)).toBe(true);
    expect(isVisibleInSnapshot(wrapped, 7)).toBe(false);
    expect(isVisibleInSnapshot(wrapped, 8)).toBe(true);
    expect(isVisibleInSnapshot(wrapped, 20)).toBe(false);
  });

  it('agrees with full 64-bit comparison while xids are within 2^31 of the snapshot (property)', () => {
    const arb = fc
      .record({
        xmin: fc.bigInt({ min: 3n, max: 1n << 40n }),
        width: fc.bigInt({ min: 0n, max: 1000n }),
        offsets: fc.array(fc.bigInt({ min: 0n, max: 1000n }), { maxLength: 5 }),
        delta: fc.bigInt({ min: -(1n << 31n) + 1001n, max: (1n << 31n) - 1001n }),
      })
      // Postgres never assigns an xid whose low 32 bits are 0, 1 or 2 (special ids it skips on wraparound).
      .filter(
        (r) =>
          r.xmin + r.delta >= 3n &&
          ((r.xmin + r.delta) & 0xffff_ffffn) >= 3n &&
          (r.xmin & 0xffff_ffffn) >= 3n,
      );
    fc.assert(
      fc.property(arb, ({ xmin, width, offsets, delta }) => {
        const xmax = xmin + width;
        const xip = [...new Set(offsets.filter((o) => o < width).map((o) => xmin + o))].sort();
        const xid = xmin + delta;
        const expected = xid < xmin || (xid < xmax && !xip.includes(xid));
        expect(isVisibleInSnapshot({ xmin, xmax, xip }, Number(xid & 0xffff_ffffn))).toBe(expected);
      }),
    );
  });
});
