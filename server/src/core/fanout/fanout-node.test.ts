import { describe, expect, it } from 'vitest';
import { FanoutNode } from './fanout-node.ts';
import { createTopology, leafOf, ROOT } from './fanout-tree.ts';
import type { FanoutEffect, PositionedBatch } from './fanout-types.ts';

const batch = (head: bigint): PositionedBatch => ({ afterLsn: head - 1n, throughLsn: head, head });
const tree = createTopology([4, 3]);
const options = { leaseMs: 100, beaconIntervalMs: 50 };
const ofType = <T extends FanoutEffect<PositionedBatch>['type']>(
  effects: FanoutEffect<PositionedBatch>[],
  type: T,
) => effects.filter((e): e is Extract<FanoutEffect<PositionedBatch>, { type: T }> => e.type === type);
/** Client ids that hash to leaf `index` of `tree`. */
const clientsOfLeaf = (index: number, n: number): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (leafOf(tree, `c${i}`).index === index) out.push(`c${i}`);
  return out;
};

describe('FanoutNode', () => {
  it('the root pushes each batch once per child shard; an interior shard once per child', () => {
    const root = new FanoutNode(ROOT, tree, options);
    const pushes = ofType(root.onPush(batch(10n), 0), 'push');
    expect(pushes.map((p) => p.to)).toEqual([0, 1, 2, 3].map((index) => ({ level: 1, index })));
    const shard = new FanoutNode({ level: 1, index: 2 }, tree, options);
    expect(ofType(shard.onPush(batch(10n), 0), 'push').map((p) => p.to.index)).toEqual([6, 7, 8]);
  });

  it('a leaf pushes to the subscribers holding a lease, and answers renewals with its head', () => {
    const [a, b] = clientsOfLeaf(5, 2) as [string, string];
    const leaf = new FanoutNode({ level: 2, index: 5 }, tree, options);
    expect(leaf.onRenew(a, 0)).toEqual([{ type: 'lease', clientId: a, head: 0n, expiresAt: 100 }]);
    leaf.onRenew(b, 60);
    expect(ofType(leaf.onPush(batch(7n), 90), 'deliver').map((d) => d.clientId)).toEqual([a, b]);
    // a's lease lapsed at 100; b's runs to 160.
    expect(ofType(leaf.onPush(batch(8n), 120), 'deliver').map((d) => d.clientId)).toEqual([b]);
    expect(leaf.onRenew(a, 130)).toEqual([{ type: 'lease', clientId: a, head: 8n, expiresAt: 230 }]);
    leaf.onLeave(b);
    expect(leaf.subscriberCount(140)).toBe(1);
  });

  it('a leaf tells a subscriber it pushes to only heads pushed settleMs ago (a newer push may be in flight)', () => {
    const [a, b] = clientsOfLeaf(1, 2) as [string, string];
    const leaf = new FanoutNode({ level: 2, index: 1 }, tree, { leaseMs: 100, settleMs: 100 });
    leaf.onRenew(a, 60);
    leaf.onPush(batch(7n), 90);
    leaf.onBeacon(8n, 120);
    const headFor = (id: string, now: number) => ofType(leaf.onRenew(id, now), 'lease')[0]!.head;
    expect(headFor(b, 125)).toBe(8n); // b was not pushed to: it needs the newest head
    expect(headFor(a, 150)).toBe(0n);
    expect(headFor(a, 190)).toBe(7n);
    expect(headFor(a, 219)).toBe(7n);
    expect(headFor(a, 220)).toBe(8n);
  });

  it('a leaf refuses a client that hashes elsewhere, and drops those that move on a re-plan', () => {
    const [mine] = clientsOfLeaf(5, 1) as [string];
    const [other] = clientsOfLeaf(6, 1) as [string];
    const leaf = new FanoutNode({ level: 2, index: 5 }, tree, options);
    expect(ofType(leaf.onRenew(other, 0), 'lease')[0]!.expiresAt).toBe(0);
    leaf.onRenew(mine, 0);
    const grown = createTopology([4, 4]);
    leaf.onTopology(grown);
    const stays = leafOf(grown, mine).index === 5;
    expect(leaf.subscriberCount(1)).toBe(stays ? 1 : 0);
    // A node outside the new tree goes quiet.
    const gone = new FanoutNode({ level: 2, index: 11 }, tree, options);
    gone.onTopology(createTopology([4, 2]));
    expect(gone.onPush(batch(9n), 1)).toEqual([]);
  });

  it('the root sends a beacon with the head after a quiet beacon interval; shards pass it down to leaves', () => {
    const root = new FanoutNode(ROOT, tree, options);
    expect(root.tick(1_000)).toEqual([]); // nothing published yet
    root.onPush(batch(10n), 1_000);
    expect(root.nextTickAt()).toBe(1_050);
    expect(root.tick(1_049)).toEqual([]);
    expect(ofType(root.tick(1_050), 'beacon')).toHaveLength(4);
    expect(root.tick(1_060)).toEqual([]);
    const shard = new FanoutNode({ level: 1, index: 0 }, tree, options);
    expect(ofType(shard.onBeacon(10n, 0), 'beacon').map((e) => [e.to.index, e.head])).toEqual([
      [0, 10n],
      [1, 10n],
      [2, 10n],
    ]);
    const leaf = new FanoutNode({ level: 2, index: 0 }, tree, options);
    expect(leaf.onBeacon(10n, 0)).toEqual([]);
    expect(leaf.head).toBe(10n);
  });

  it('with no shard levels the root is the leaf (the single-DO design)', () => {
    const flat = createTopology([]);
    const root = new FanoutNode(ROOT, flat, options);
    root.onRenew('x', 0);
    expect(root.onPush(batch(3n), 1)).toEqual([{ type: 'deliver', clientId: 'x', batch: batch(3n) }]);
    expect(root.tick(1_000)).toEqual([]);
  });
});
