import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchCost } from './fanout-cost.ts';
import {
  childrenOf,
  contains,
  createTopology,
  depthOf,
  leafOf,
  nodeName,
  nodesAt,
  parentOf,
  pathOf,
  planTopology,
  ROOT,
} from './fanout-tree.ts';

const degrees = fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 4 });

describe('fan-out tree', () => {
  it('numbers every level densely and links children and parents both ways (property)', () => {
    fc.assert(
      fc.property(degrees, (ds) => {
        const t = createTopology(ds);
        for (let level = 0; level < depthOf(t); level++) {
          const seen: number[] = [];
          for (let index = 0; index < nodesAt(t, level); index++) {
            for (const child of childrenOf(t, { level, index })) {
              expect(parentOf(t, child)).toEqual({ level, index });
              seen.push(child.index);
            }
          }
          expect(seen).toEqual([...Array(nodesAt(t, level + 1)).keys()]);
        }
        expect(childrenOf(t, { level: depthOf(t), index: 0 })).toEqual([]);
        expect(parentOf(t, ROOT)).toBeUndefined();
      }),
    );
  });

  it('routes a client from the root to its leaf along parent links', () => {
    fc.assert(
      fc.property(degrees, fc.string(), (ds, id) => {
        const t = createTopology(ds);
        const path = pathOf(t, id);
        expect(path).toHaveLength(depthOf(t) + 1);
        expect(path[0]).toEqual(ROOT);
        expect(path[path.length - 1]).toEqual(leafOf(t, id));
        for (let i = 1; i < path.length; i++) expect(parentOf(t, path[i]!)).toEqual(path[i - 1]);
        expect(path.every((n) => contains(t, n))).toBe(true);
      }),
    );
  });

  it('plans log_D(N) levels so that no node sends more than D pushes per batch', () => {
    expect(planTopology(0, 100).degrees).toEqual([]);
    expect(planTopology(100, 100).degrees).toEqual([]);
    expect(planTopology(101, 100).degrees).toEqual([2]);
    expect(planTopology(1_000_000, 100).degrees).toEqual([100, 100]);
    expect(planTopology(1_000_000, 64).degrees).toEqual([64, 64, 4]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000_000 }), fc.integer({ min: 2, max: 1_000 }), (n, d) => {
        const t = planTopology(n, d);
        const cost = batchCost(t, n);
        expect(Math.max(...cost.perNode)).toBeLessThanOrEqual(d);
        expect(cost.hops).toBe(depthOf(t) + 1);
        // Minimal: one level less would overload the leaves.
        if (depthOf(t) > 0) expect(d ** depthOf(t)).toBeLessThan(n);
      }),
    );
  });

  it('costs the root D pushes per batch toward a million clients, whatever N', () => {
    expect(batchCost(planTopology(1_000_000, 100), 1_000_000)).toEqual({
      hops: 3,
      perHop: [100, 10_000, 1_000_000],
      perNode: [100, 100, 100],
      total: 1_010_100,
    });
    expect(batchCost(createTopology([64, 64, 4]), 1_000_000)).toEqual({
      hops: 4,
      perHop: [64, 4_096, 16_384, 1_000_000],
      perNode: [64, 64, 4, 62],
      total: 1_020_544,
    });
    // Today's design, for comparison: the root is the leaf.
    expect(batchCost(createTopology([]), 1_000_000).perHop).toEqual([1_000_000]);
  });

  it('names nodes stably and rejects bad degrees', () => {
    expect(nodeName({ level: 2, index: 417 })).toBe('fanout/2/417');
    for (const bad of [[0], [2, -1], [1.5], [4_096, 4_097]])
      expect(() => createTopology(bad)).toThrow(RangeError);
    expect(() => planTopology(10, 1)).toThrow(RangeError);
    expect(contains(createTopology([4]), { level: 1, index: 4 })).toBe(false);
  });
});
