import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHandoffTransaction, isVisibleInSnapshot, xidPrecedes } from './snapshot-visibility.ts';

describe('snapshot visibility', () => {
  it('sees xids below xmin, and below xmax unless in progress', () => {
    const snap = { xmin: 100, xmax: 110, xip: [100, 105] };
    expect([99, 100, 101, 105, 109, 110, 111].map((x) => isVisibleInSnapshot(x, snap))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
  });

  it('compares modulo 2^32 across wraparound', () => {
    // Postgres skips the special xids 0-2 when it wraps around: after 0xffffffff comes 3.
    const snap = { xmin: 0xffff_fff0, xmax: 6, xip: [0xffff_fff8, 3] };
    expect(isVisibleInSnapshot(0xffff_ffe0, snap)).toBe(true);
    expect(isVisibleInSnapshot(0xffff_fff8, snap)).toBe(false);
    expect(isVisibleInSnapshot(0xffff_fffa, snap)).toBe(true);
    expect(isVisibleInSnapshot(3, snap)).toBe(false);
    expect(isVisibleInSnapshot(4, snap)).toBe(true);
    expect(isVisibleInSnapshot(6, snap)).toBe(false);
  });

  it('treats the special xids 0 (invalid), 1 (bootstrap) and 2 (frozen) as visible, as Postgres does', () => {
    const snap = { xmin: 100, xmax: 110, xip: [105] };
    for (const xid of [0, 1, 2]) expect(isVisibleInSnapshot(xid, snap)).toBe(true);
  });

  it('agrees with plain comparison within a 2^31 window, shifted anywhere', () => {
    fc.assert(
      fc.property(
        fc.nat(1000),
        fc.nat(1000),
        fc.nat(1000),
        fc.nat({ max: 0xffff_ffff }),
        (a, b, x, shift) => {
          const [xmin, xmax] = a <= b ? [a, b] : [b, a];
          const plain = x < xmin || (x < xmax && x % 7 !== 0);
          const xip = Array.from({ length: xmax - xmin }, (_, i) => xmin + i).filter((v) => v % 7 === 0);
          const s = (v: number) => (v + shift) >>> 0;
          // 0–2 are the special xids, always visible (tested above); a shift can land `x` on one of them.
          fc.pre(s(x) > 2);
          expect(isVisibleInSnapshot(s(x), { xmin: s(xmin), xmax: s(xmax), xip: xip.map(s) })).toBe(plain);
        },
      ),
    );
    expect(xidPrecedes(0xffff_ffff, 0)).toBe(true);
  });

  it('picks handoff transactions: at or below the snapshot LSN and unseen', () => {
    const snap = { xmin: 10, xmax: 20, xip: [15] };
    const h = (lsn: bigint, xid: number) => ({ commitLsn: lsn, endLsn: lsn + 1n, xid, commitTimeUs: 0n });
    expect(isHandoffTransaction(h(100n, 15), 100n, snap)).toBe(true);
    expect(isHandoffTransaction(h(100n, 12), 100n, snap)).toBe(false);
    expect(isHandoffTransaction(h(101n, 15), 100n, snap)).toBe(false);
  });
});
