/**
 * A deterministic, seeded simulation of the sharded fan-out: a change log that grows every poll, a root that
 * publishes each new batch once, a tree of {@link FanoutNode} shards that crash and restart empty, thousands of
 * {@link SimSubscriber}s that join, leave, drain their outbox fast or slowly and renew their leases, and a
 * network that drops, delays, duplicates and reorders. After the last poll the network heals and crashed shards
 * come back; the run ends when every connected subscriber has reached the log's head (or a deadline passes).
 * Test-only.
 */

import type { Lsn } from '@vibestack/proto';
import { createFanoutMeter, type FanoutMeter } from '../fanout-cost.ts';
import { FanoutNode } from '../fanout-node.ts';
import {
  createTopology,
  depthOf,
  type FanoutTopology,
  leafOf,
  type NodeAddress,
  nodeName,
  nodesAt,
  ROOT,
} from '../fanout-tree.ts';
import type { FanoutEffect } from '../fanout-types.ts';
import type { SubscriberLimits } from '../subscriber-cursor.ts';
import { EventQueue } from './event-queue.ts';
import { seededRandom } from './seeded-random.ts';
import { type SimBatch, SimLog } from './sim-log.ts';
import { type NetworkFaults, type NetworkStats, SimNetwork } from './sim-network.ts';
import { type CursorFactory, SimSubscriber, type SubscriberHost } from './sim-subscriber.ts';

/** A shard crash at a chosen time. */
export interface PlannedCrash {
  readonly node: NodeAddress;
  /** Crashes at the start of this poll. */
  readonly atPoll: number;
  readonly downMs: number;
}

/** What to simulate. */
export interface SimOptions {
  readonly seed: number;
  /** The tree (see `createTopology`). */
  readonly degrees: readonly number[];
  /** Re-plans the tree at the start of a poll (a shard-count change). */
  readonly reshard?: { readonly atPoll: number; readonly degrees: readonly number[] };
  /** Subscribers connected from the start. */
  readonly subscribers: number;
  /** Subscribers that connect, and that disconnect, during the polls. */
  readonly joins: number;
  readonly leaves: number;
  /** Fraction of subscribers that start behind the head (catching up from an older acknowledged LSN). */
  readonly behindFraction: number;
  /** Fraction of subscribers whose client drains slowly. */
  readonly slowFraction: number;
  /** Polls with writes and faults, and the time between polls, ms. */
  readonly polls: number;
  readonly pollMs: number;
  /** Most transactions committed per poll (0 to this many). */
  readonly maxTxPerPoll: number;
  /** Most transactions the root reads into one published batch (FANOUT_MAX_TRANSACTIONS). */
  readonly rootMaxTx: number;
  readonly faults: NetworkFaults;
  /** Per poll, the probability that one random shard crashes; it is unreachable for `downMs`. */
  readonly crashChance: number;
  readonly downMs: number;
  readonly crashes?: readonly PlannedCrash[];
  readonly leaseMs: number;
  readonly beaconIntervalMs: number;
  readonly settleMs: number;
  readonly limits: SubscriberLimits;
  /** How long after healing the run may take to converge, ms. */
  readonly maxHealMs: number;
  /** Builds every subscriber's cursor; default the real {@link SubscriberCursor}. */
  readonly cursor?: CursorFactory;
}

/** Sensible defaults: a two-level tree, 2,000 subscribers, a rough network. */
export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  degrees: [4, 8],
  subscribers: 2_000,
  joins: 100,
  leaves: 100,
  behindFraction: 0.1,
  slowFraction: 0.05,
  polls: 40,
  pollMs: 20,
  maxTxPerPoll: 4,
  rootMaxTx: 8,
  faults: { drop: 0.05, duplicate: 0.05, minDelayMs: 1, maxDelayMs: 30 },
  crashChance: 0.1,
  downMs: 60,
  leaseMs: 300,
  beaconIntervalMs: 50,
  settleMs: 100,
  limits: { maxQueued: 16, lowWater: 8, readLimit: 8 },
  maxHealMs: 20_000,
};

/** What happened. */
export interface SimResult {
  readonly log: SimLog;
  readonly subscribers: readonly SimSubscriber[];
  /** The first violations found (at most 20), and how many there were. */
  readonly violations: readonly string[];
  readonly violationCount: number;
  /** Per published batch, the messages the root sent. */
  readonly rootPushesPerPublish: readonly number[];
  readonly meter: FanoutMeter;
  readonly network: NetworkStats;
  readonly crashes: number;
  readonly healedAt: number;
  /** When every connected subscriber had reached the head; undefined if it never did. */
  readonly convergedAt: number | undefined;
  readonly topology: FanoutTopology;
}

interface Slot {
  node: FanoutNode<SimBatch> | undefined;
  downUntil: number;
}

/** Runs one simulation. */
export function simulate(options: Partial<SimOptions> = {}): SimResult {
  const o: SimOptions = { ...DEFAULT_SIM, ...options };
  const random = seededRandom(o.seed);
  const queue = new EventQueue();
  const network = new SimNetwork(queue, random, o.faults);
  const log = new SimLog(1_000n);
  const meter = createFanoutMeter();
  const nodeOptions = { leaseMs: o.leaseMs, beaconIntervalMs: o.beaconIntervalMs, settleMs: o.settleMs };
  let topology = createTopology(o.degrees);
  const root = new FanoutNode<SimBatch>(ROOT, topology, nodeOptions);
  const slots = new Map<string, Slot>();
  const byId = new Map<string, SimSubscriber>();
  const all: SimSubscriber[] = [];
  const violations: string[] = [];
  let violationCount = 0;
  const rootPushesPerPublish: number[] = [];
  let crashes = 0;

  const slotOf = (at: NodeAddress): Slot => {
    const key = nodeName(at);
    const found = slots.get(key);
    if (found !== undefined) return found;
    const slot: Slot = { node: undefined, downUntil: 0 };
    slots.set(key, slot);
    return slot;
  };
  /** The live node at an address (created empty on first use, like a Durable Object); undefined while down. */
  const nodeAt = (at: NodeAddress): FanoutNode<SimBatch> | undefined => {
    if (at.level === 0) return root;
    const slot = slotOf(at);
    if (slot.downUntil > queue.now) return undefined;
    slot.node ??= new FanoutNode(at, topology, nodeOptions);
    return slot.node;
  };
  const crash = (at: NodeAddress, downMs: number): void => {
    const slot = slotOf(at);
    slot.node = undefined;
    slot.downUntil = queue.now + downMs;
    crashes++;
  };
  const toNode = (at: NodeAddress, handle: (node: FanoutNode<SimBatch>) => FanoutEffect<SimBatch>[]) => {
    network.send(() => {
      const node = nodeAt(at);
      if (node !== undefined) dispatch(at, handle(node));
    });
  };
  // Arrivals at subscribers take the effect itself as their message (no closure per message).
  const deliver = (e: Extract<FanoutEffect<SimBatch>, { type: 'deliver' }>): void => {
    byId.get(e.clientId)?.onPush(e.batch);
  };
  const lease = (e: Extract<FanoutEffect<SimBatch>, { type: 'lease' }>): void => {
    byId.get(e.clientId)?.onLease(e.head);
  };
  const dispatch = (from: NodeAddress, effects: readonly FanoutEffect<SimBatch>[]): void => {
    meter.record(from.level, effects);
    for (const e of effects) {
      if (e.type === 'push') toNode(e.to, (n) => n.onPush(e.batch, queue.now));
      else if (e.type === 'beacon') toNode(e.to, (n) => n.onBeacon(e.head, queue.now));
      else if (e.type === 'deliver') network.send(deliver, e);
      else network.send(lease, e);
    }
  };

  const renewEvery = Math.max(1, Math.floor(o.leaseMs / 3));
  const host: SubscriberHost = {
    log,
    network,
    queue,
    renew: (s) => toNode(leafOf(topology, s.clientId), (n) => n.onRenew(s.clientId, queue.now)),
    leave: (s) =>
      toNode(leafOf(topology, s.clientId), (n) => {
        n.onLeave(s.clientId);
        return [];
      }),
    renewDelay: () => random.int(Math.ceil(renewEvery * 0.8), Math.floor(renewEvery * 1.2)),
    violation: (message) => {
      violationCount++;
      if (violations.length < 20) violations.push(message);
    },
  };
  const join = (): void => {
    const clientId = `client-${all.length}`;
    let cursor: Lsn = log.head;
    if (random.chance(o.behindFraction)) {
      const txs = log.transactions;
      cursor = txs.length === 0 || random.chance(0.2) ? 0n : random.pick(txs).commitLsn;
    }
    const drainPerMs = random.chance(o.slowFraction) ? 0.2 : 2;
    const profile = { drainPerMs, limits: o.limits, ...(o.cursor === undefined ? {} : { cursor: o.cursor }) };
    const s = new SimSubscriber(host, clientId, { cursor, head: log.head }, profile);
    byId.set(clientId, s);
    all.push(s);
    s.start();
  };
  const leaveOne = (): void => {
    for (let tries = 0; tries < 10; tries++) {
      const s = random.pick(all);
      if (s.active) {
        s.leave();
        return;
      }
    }
  };

  // A log with history, so that subscribers can start behind the head.
  for (let i = 0; i < 20; i++) log.append(random.int(1, 50));
  for (let i = 0; i < o.subscribers; i++) join();
  const joinAt = Array.from({ length: o.joins }, () => random.int(0, o.polls - 1));
  const leaveAt = Array.from({ length: o.leaves }, () => random.int(0, o.polls - 1));

  // Give the first renewals time to land before the first write.
  const firstPollAt = 2 * o.faults.maxDelayMs + 5;
  const healedAt = firstPollAt + o.polls * o.pollMs;
  let notifiedHead = log.head;
  let convergedAt: number | undefined;

  const poll = (p: number): void => {
    if (o.reshard?.atPoll === p) {
      topology = createTopology(o.reshard.degrees);
      root.onTopology(topology);
      for (const slot of slots.values()) slot.node?.onTopology(topology);
    }
    for (const c of o.crashes ?? []) if (c.atPoll === p) crash(c.node, c.downMs);
    if (depthOf(topology) > 0 && random.chance(o.crashChance)) {
      const level = random.int(1, depthOf(topology));
      crash({ level, index: random.int(0, nodesAt(topology, level) - 1) }, o.downMs);
    }
    for (const at of joinAt) if (at === p) join();
    for (const at of leaveAt) if (at === p) leaveOne();
    const n = random.int(0, o.maxTxPerPoll);
    for (let i = 0; i < n; i++) log.append(random.int(1, 50));
    if (n === 0 && random.chance(0.3)) log.advance(random.int(1, 20));
  };
  const step = (p: number): void => {
    if (p < o.polls) poll(p);
    else if (p === o.polls) network.heal();
    if (log.head > notifiedHead) {
      // Like the ReplicationDO: read the new transactions once, publish them with the head.
      const batch = log.read(notifiedHead, o.rootMaxTx);
      notifiedHead = log.head;
      const effects = root.onPush(batch, queue.now);
      rootPushesPerPublish.push(effects.length);
      dispatch(ROOT, effects);
    }
    dispatch(ROOT, root.tick(queue.now));
    if (p >= o.polls && all.every((s) => !s.active || s.cursor >= log.head)) convergedAt = queue.now;
    else queue.after(o.pollMs, () => step(p + 1));
  };
  queue.after(firstPollAt, () => step(0));
  queue.runUntil(healedAt + o.maxHealMs, () => convergedAt !== undefined);

  const report = host.violation;
  if (convergedAt === undefined) {
    const behind = all.filter((s) => s.active && s.cursor < log.head).length;
    report(`${behind} subscribers did not reach the head ${log.head} within ${o.maxHealMs} ms of healing`);
  }
  const last = log.transactions[log.transactions.length - 1]!;
  for (const s of all) {
    if (!s.active) continue;
    const expected = log.transactions.length - log.indexAfter(s.startCursor);
    const got = s.pushedTx + s.readTx;
    const lastExpected = expected > 0 ? last.commitLsn : s.startCursor;
    if (got !== expected || s.lastQueuedLsn !== lastExpected) {
      report(
        `${s.clientId} queued ${got} of ${expected} transactions, last ${s.lastQueuedLsn} (want ${lastExpected})`,
      );
    }
  }
  return {
    log,
    subscribers: all,
    violations,
    violationCount,
    rootPushesPerPublish,
    meter,
    network: network.stats,
    crashes,
    healedAt,
    convergedAt,
    topology,
  };
}
