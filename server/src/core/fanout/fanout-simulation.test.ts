/**
 * Simulated test of the sharded fan-out (testing/fanout-simulator.ts): a growing change log, a root publishing
 * each batch once, a tree of shards that crash and restart empty, thousands of subscribers that join, leave and
 * drain at different speeds, and a network that drops, delays, duplicates and reorders. Checked on every run:
 * - every subscriber queues exactly the log's transactions after its start, in commit order, each once — checked
 *   on every transaction it queues (pushed or read) and, at the end, that every connected one reached the head;
 * - the root sends `degrees[0]` messages per batch, however many subscribers there are;
 * - with nothing going wrong, every transaction reaches every subscriber by push (so the tree really routes);
 * - a crashed shard only delays its own subscribers, who fall back to reading the log.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FanoutTopology, leafOf, type NodeAddress, parentOf } from './fanout-tree.ts';
import { SubscriberCursor } from './subscriber-cursor.ts';
import { type SimOptions, type SimResult, simulate } from './testing/fanout-simulator.ts';
import type { SimBatch, SimTx } from './testing/sim-log.ts';
import type { SimSubscriber } from './testing/sim-subscriber.ts';

const QUIET: Partial<SimOptions> = {
  faults: { drop: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 3 },
  crashChance: 0,
  joins: 0,
  leaves: 0,
  behindFraction: 0,
  slowFraction: 0,
};

const expectConsistent = (r: SimResult): void => {
  expect(r.violations).toEqual([]);
  expect(r.violationCount).toBe(0);
  expect(r.convergedAt).toBeDefined();
};
const sum = (subs: readonly SimSubscriber[], f: (s: SimSubscriber) => number): number =>
  subs.reduce((a, s) => a + f(s), 0);
const under = (t: FanoutTopology, s: SimSubscriber, node: NodeAddress): boolean => {
  for (let n: NodeAddress | undefined = leafOf(t, s.clientId); n; n = parentOf(t, n)) {
    if (n.level === node.level && n.index === node.index) return true;
  }
  return false;
};

describe('sharded fan-out (simulated)', () => {
  it('reaches 30,000 subscribers through a 16×16 tree with 16 root messages per batch, losing nothing', () => {
    const big = simulate({
      seed: 7,
      degrees: [16, 16],
      subscribers: 30_000,
      joins: 200,
      leaves: 200,
      polls: 8,
      leaseMs: 3_000,
      faults: { drop: 0.01, duplicate: 0.01, minDelayMs: 1, maxDelayMs: 12 },
      crashChance: 0.3,
    });
    expectConsistent(big);
    expect(big.rootPushesPerPublish.length).toBeGreaterThanOrEqual(4);
    expect(new Set(big.rootPushesPerPublish)).toEqual(new Set([16]));
    const [root, shards, leaves] = big.meter.byLevel();
    expect(root!.push).toBe(16 * big.rootPushesPerPublish.length);
    // Hop 2 is at most 256 pushes per batch, hop 3 at most one per subscriber (duplicates aside).
    expect(shards!.push).toBeLessThanOrEqual(256 * big.rootPushesPerPublish.length * 1.05);
    expect(leaves!.deliver).toBeLessThanOrEqual(30_200 * big.rootPushesPerPublish.length * 1.05);
    // Most transactions travelled by push; the rest were read from the log.
    expect(sum(big.subscribers, (s) => s.pushedTx)).toBeGreaterThan(sum(big.subscribers, (s) => s.readTx));

    // The root's share does not grow with the number of subscribers.
    const small = simulate({ seed: 7, degrees: [16, 16], subscribers: 1_000, polls: 8 });
    expectConsistent(small);
    expect(new Set(small.rootPushesPerPublish)).toEqual(new Set([16]));
  });

  it('with nothing going wrong, every transaction reaches every subscriber by push, none by a log read', () => {
    const r = simulate({ ...QUIET, seed: 3, degrees: [4, 4, 4], subscribers: 5_000, polls: 15 });
    expectConsistent(r);
    const live = r.log.transactions.length - 20; // 20 transactions are history from before the start
    expect(live).toBeGreaterThan(20);
    for (const s of r.subscribers) {
      expect([s.clientId, s.pushedTx, s.readTx, s.reads]).toEqual([s.clientId, live, 0, 0]);
    }
  });

  it('a batch cut short by the root (more than rootMaxTx transactions) is completed from the log', () => {
    const r = simulate({ ...QUIET, seed: 4, subscribers: 500, maxTxPerPoll: 6, rootMaxTx: 2 });
    expectConsistent(r);
    expect(sum(r.subscribers, (s) => s.readTx)).toBeGreaterThan(0);
  });

  for (const crashed of [
    { node: { level: 2, index: 5 }, what: 'leaf' },
    { node: { level: 1, index: 1 }, what: 'interior shard' },
  ]) {
    it(`a crashed ${crashed.what} only delays its own subscribers, who read the log meanwhile`, () => {
      const downMs = 200;
      const r = simulate({
        ...QUIET,
        seed: 5,
        degrees: [4, 4],
        subscribers: 2_000,
        polls: 30,
        leaseMs: 300,
        crashes: [{ node: crashed.node, atPoll: 5, downMs }],
      });
      expectConsistent(r);
      const [hit, spared] = [
        r.subscribers.filter((s) => under(r.topology, s, crashed.node)),
        r.subscribers.filter((s) => !under(r.topology, s, crashed.node)),
      ];
      expect(hit.length).toBeGreaterThan(0);
      for (const s of hit) expect(s.readTx).toBeGreaterThan(0);
      for (const s of spared) expect([s.clientId, s.readTx]).toEqual([s.clientId, 0]);
    });
  }

  it('duplicated and reordered messages are harmless', () => {
    const r = simulate({
      ...QUIET,
      seed: 6,
      subscribers: 1_500,
      faults: { drop: 0, duplicate: 0.5, minDelayMs: 1, maxDelayMs: 60 },
    });
    expectConsistent(r);
    expect(r.network.duplicated).toBeGreaterThan(10_000);
  });

  it('changing the number of leaves mid-run loses nothing', () => {
    const r = simulate({ seed: 8, degrees: [8], reshard: { atPoll: 15, degrees: [12] }, subscribers: 2_000 });
    expectConsistent(r);
    const counts = [...new Set(r.rootPushesPerPublish)];
    expect(counts).toEqual([8, 12]);
  });

  it('holds for any seed, fault rate, tree and subscriber count (property)', () => {
    const scenario = fc.record({
      seed: fc.integer(),
      drop: fc.double({ min: 0, max: 0.3, noNaN: true }),
      duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
      maxDelayMs: fc.integer({ min: 1, max: 50 }),
      crashChance: fc.double({ min: 0, max: 0.4, noNaN: true }),
      degrees: fc.constantFrom([6], [3, 4], [2, 3, 3]),
      reshardTo: fc.option(fc.constantFrom([5], [3, 5], [2, 2, 4]), { nil: undefined }),
      subscribers: fc.integer({ min: 50, max: 1_200 }),
      rootMaxTx: fc.integer({ min: 1, max: 8 }),
      slowFraction: fc.double({ min: 0, max: 0.3, noNaN: true }),
    });
    fc.assert(
      fc.property(scenario, (p) => {
        const r = simulate({
          seed: p.seed,
          degrees: p.degrees,
          ...(p.reshardTo === undefined ? {} : { reshard: { atPoll: 12, degrees: p.reshardTo } }),
          subscribers: p.subscribers,
          rootMaxTx: p.rootMaxTx,
          slowFraction: p.slowFraction,
          polls: 25,
          faults: { drop: p.drop, duplicate: p.duplicate, minDelayMs: 1, maxDelayMs: p.maxDelayMs },
          crashChance: p.crashChance,
        });
        expectConsistent(r);
        const firstDegree = (p.reshardTo ?? p.degrees)[0]!;
        for (const n of r.rootPushesPerPublish) expect([p.degrees[0], firstDegree]).toContain(n);
      }),
      { numRuns: 20 },
    );
  });

  it('catches a subscriber that takes a push which does not continue its cursor (the checks can fail)', () => {
    // Treats every push as continuing its cursor: a transaction lost on the way is then skipped for good.
    class Greedy extends SubscriberCursor<SimTx> {
      override onBatch(batch: SimBatch, outboxLength: number): readonly SimTx[] {
        return super.onBatch({ ...batch, afterLsn: 0n }, outboxLength);
      }
    }
    const r = simulate({
      seed: 9,
      subscribers: 500,
      cursor: (start, limits) => new Greedy((tx) => tx.commitLsn, start, limits),
    });
    expect(r.violationCount).toBeGreaterThan(0);
    expect(r.violations[0]).toMatch(/queued \d+ \(push\) after \d+; the log's next is \d+/);
  });
});
