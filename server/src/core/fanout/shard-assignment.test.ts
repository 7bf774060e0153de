import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashClientId, jumpHash, MAX_SHARDS, shardOf } from './shard-assignment.ts';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `client-${i}`);

describe('shardOf', () => {
  it('is a stable function of the id (pinned: changing the hash reshards every client)', () => {
    const pinned = ['5b2f1f0e-8a43-4f1e-9d55-2a6b1c7d9e10', 'client-0', 'client-1', 'ü✓'].map((id) => [
      hashClientId(id),
      shardOf(id, 64),
      shardOf(id, 1_000),
    ]);
    expect(pinned).toEqual([
      [4_177_240_839, 51, 177],
      [4_168_333_135, 63, 652],
      [1_163_684_601, 4, 96],
      [1_883_372_845, 37, 904],
    ]);
  });

  it('stays in range and puts every id in shard 0 of 1', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: MAX_SHARDS }), (id, n) => {
        const s = shardOf(id, n);
        expect(Number.isInteger(s) && s >= 0 && s < n).toBe(true);
        expect(shardOf(id, 1)).toBe(0);
      }),
    );
  });

  it('spreads ids evenly (every shard within 5 standard deviations of the mean)', () => {
    for (const shards of [7, 64, 256]) {
      const counts = new Array<number>(shards).fill(0);
      for (const id of ids(64_000)) counts[shardOf(id, shards)]!++;
      const mean = 64_000 / shards;
      const bound = 5 * Math.sqrt(mean);
      expect(Math.min(...counts)).toBeGreaterThan(mean - bound);
      expect(Math.max(...counts)).toBeLessThan(mean + bound);
    }
  });

  it('moves a client only to a new shard when shards are added (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 5_000 }),
        (id, f, k) => {
          const before = shardOf(id, f);
          const after = shardOf(id, f + k);
          expect(after === before || after >= f).toBe(true);
        },
      ),
    );
  });

  it('moves about (F′ − F) / F′ of the clients when F grows to F′, unlike hash mod F', () => {
    const all = ids(50_000);
    for (const [from, to] of [
      [64, 65],
      [64, 96],
      [8, 12],
    ] as const) {
      const moved = all.filter((id) => shardOf(id, from) !== shardOf(id, to)).length / all.length;
      expect(moved).toBeCloseTo((to - from) / to, 1);
      const movedByMod =
        all.filter((id) => hashClientId(id) % from !== hashClientId(id) % to).length / all.length;
      expect(movedByMod).toBeGreaterThan(0.5);
    }
  });

  it('rejects a shard count out of range', () => {
    for (const n of [0, -1, 1.5, Number.NaN, MAX_SHARDS + 1])
      expect(() => jumpHash(1, n)).toThrow(RangeError);
  });
});
