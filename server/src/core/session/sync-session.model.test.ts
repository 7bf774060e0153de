/**
 * Model-based test of the session: a random change log (appended while the session runs), a random start
 * (initial sync with handoff transactions, catch-up or live) and random client behaviour (credit, acks, pings,
 * mutations, garbage, silence). Checked on every run:
 * - no data frame without credit, frames in protocol order, nothing after a fatal Error (ModelClient);
 * - every fatal Error is followed by exactly one close, with code 4000 + code, and nothing else is sent;
 * - a well-behaved client is never closed with an error;
 * - after the stream start, transactions arrive in increasing LSN order, each at most once, above the resume
 *   point, as a prefix of the transactions that concern the user — all of them once the client catches up;
 * - a client that catches up holds exactly the server rows its user may see.
 * At random points (and, in some runs, between every step of the catch-up) the driver hibernates: the session is
 * replaced by one restored from its checkpoint through JSON, when it has one; every property above still holds.
 */

import { create } from '@bufbuild/protobuf';
import { ErrorCode, HelloSchema } from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LoggedChange } from '../change.ts';
import type { LogTransaction } from './session-types.ts';
import { ModelClient } from './testing/client-model.ts';
import { CLIENT_ID, Driver, emptyWorld, T0 } from './testing/fake-shell.ts';
import { PROJECTS_OID, SHAPES, TASKS_OID, txn } from './testing/fixtures.ts';
import { concerns, FLOOR, ops, Server, USER } from './testing/model-server.ts';

type Action =
  | { a: 'credit'; n: number }
  | { a: 'ack'; valid: boolean }
  | { a: 'ping' }
  | { a: 'pong' }
  | { a: 'mutation'; gap: boolean }
  | { a: 'garbage' }
  | { a: 'text' }
  | { a: 'empty' }
  | { a: 'wait'; ms: number }
  | { a: 'hibernate' }
  | { a: 'append'; n: number; push: boolean; overlap: number };

const actions: fc.Arbitrary<Action[]> = fc.array(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        a: fc.constant('credit' as const),
        n: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 40 }) }, fc.constantFrom(0, 65_535)),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        a: fc.constant('ack' as const),
        valid: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, fc.constant(false)),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ a: 'ping' as const }) },
    { weight: 1, arbitrary: fc.constant({ a: 'pong' as const }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant('mutation' as const), gap: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ a: 'garbage' as const }) },
    { weight: 1, arbitrary: fc.constant({ a: 'text' as const }) },
    { weight: 1, arbitrary: fc.constant({ a: 'empty' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({ a: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
    },
    { weight: 4, arbitrary: fc.constant({ a: 'hibernate' as const }) },
    {
      weight: 6,
      arbitrary: fc.record({
        a: fc.constant('append' as const),
        n: fc.integer({ min: 1, max: 4 }),
        push: fc.boolean(),
        overlap: fc.nat(3),
      }),
    },
  ),
  { maxLength: 60 },
);

const scenario = fc.record({
  txOps: fc.array(ops, { minLength: 0, maxLength: 25 }),
  gaps: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 25, maxLength: 25 }),
  initialFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  start: fc.oneof(fc.constant('initial' as const), fc.constant('resume' as const)),
  resumeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  visibleFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  invisibleFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  initialCredit: fc.integer({ min: 1, max: 8 }),
  /** Log reads split transactions into parts (the shell's chunk budget). */
  chunking: fc.option(
    fc.record({
      chunkChanges: fc.integer({ min: 1, max: 2 }),
      readMaxChunks: fc.integer({ min: 1, max: 3 }),
    }),
    { nil: undefined },
  ),
  actions,
  /** Hibernate (when possible) between every step of the final catch-up. */
  hibernateInCatchUp: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Outcomes over all runs, to show the test reaches the interesting states. */
const seen = {
  closedByError: 0,
  live: 0,
  transactions: 0,
  handoffRuns: 0,
  misbehaved: 0,
  partsSent: 0,
  /** Runs with at least one restore, and restores in all. */
  restoredRuns: 0,
  restores: 0,
  /** Runs in which a restored session went on to send a transaction. */
  sentAfterRestore: 0,
};

function run(s: Scenario): void {
  // Build the log and the server states along it.
  const server = new Server();
  const txns: LogTransaction[] = [];
  const states: Server[] = [];
  let lsn = 100n;
  s.txOps.forEach((group, i) => {
    const changes = group.map((op) => server.apply(op)).filter((c): c is LoggedChange => c !== undefined);
    lsn += BigInt(s.gaps[i]!);
    txns.push(txn(lsn, changes, 1000 + txns.length));
    const snap = new Server();
    snap.tasks = new Map(server.tasks);
    snap.projects = new Map(server.projects);
    states.push(snap);
  });
  const stateAt = (count: number) => (count === 0 ? new Server() : states[count - 1]!);
  let inLog = Math.floor(s.initialFraction * txns.length);
  const world = emptyWorld();
  world.floor = FLOOR;
  if (s.chunking !== undefined) world.chunking = s.chunking;
  world.log = txns.slice(0, inLog);
  world.head = inLog === 0 ? FLOOR : txns[inLog - 1]!.header.commitLsn;
  const commit = (count: number) => (count === 0 ? FLOOR : txns[count - 1]!.header.commitLsn);

  let resumeLsn = 0n;
  let clientState: Record<string, [string, (string | null)[]][]> = {};
  let resumeCount = 0;
  if (s.start === 'initial') {
    const visible = Math.floor(s.visibleFraction * 0.7 * txns.length);
    const invisible = Math.ceil(s.invisibleFraction * (txns.length - visible));
    const q = visible + invisible;
    world.snapshot = {
      lsn: commit(q),
      xids: {
        xmin: 1000 + visible,
        xmax: 1000 + q,
        xip: Array.from({ length: invisible }, (_, i) => 1000 + visible + i),
      },
      handoffAfterLsn: FLOOR,
    };
    const snap = stateAt(visible);
    world.snapshotRows.set(TASKS_OID, [...snap.tasks.values()]);
    world.snapshotRows.set(PROJECTS_OID, [...snap.projects.values()]);
    resumeCount = q;
  } else {
    resumeCount = Math.floor(s.resumeFraction * inLog);
    resumeLsn = commit(resumeCount);
    clientState = stateAt(resumeCount).visible();
  }

  const d = new Driver(world, {
    maxRowsPerChunk: 2,
    snapshotReadRows: 3,
    maxChangesPerFrame: 2,
    maxQueuedFrames: 4,
    logReadLimit: 3,
    heartbeatIntervalMs: 15_000,
    progressIntervalMs: 3_000,
  });
  const client = new ModelClient(s.initialCredit, resumeLsn, new Map());
  const seed = new Map<string, Map<string, (string | null)[]>>();
  for (const [t, rows] of Object.entries(clientState)) seed.set(t, new Map(rows));
  client.synced = seed;
  let sentSeen = 0;
  let misbehaved = false;
  let lastClientFrame = T0;
  let mutationId = 0n;
  let restores = 0;
  let sentAtFirstRestore: number | undefined;
  const hibernate = () => {
    if (!d.hibernate()) return;
    restores++;
    sentAtFirstRestore ??= d.sent.length;
  };
  const deliver = () => {
    for (; sentSeen < d.sent.length; sentSeen++) client.receive(d.sent[sentSeen]!);
  };
  const clientSend = (message: Parameters<Driver['send']>[0]) => {
    lastClientFrame = d.now;
    d.send(message);
    deliver();
  };
  // Appends n transactions; a push re-sends `overlap` earlier ones too (a fan-out may repeat itself).
  const append = (n: number, push: boolean, overlap = 0) => {
    const added = txns.slice(inLog, inLog + n);
    if (added.length === 0) return;
    const from = Math.max(0, inLog - overlap);
    inLog += added.length;
    world.log.push(...added);
    world.head = added[added.length - 1]!.header.commitLsn;
    const batch = {
      afterLsn: commit(from),
      throughLsn: world.head,
      transactions: txns.slice(from, inLog),
      shapes: SHAPES,
      head: world.head,
      floor: FLOOR,
    };
    d.handle(push ? { type: 'log-batch', batch } : { type: 'log-head', head: world.head, floor: FLOOR });
    deliver();
  };

  d.handle({ type: 'open' });
  const hello = create(HelloSchema, {
    protocolVersions: [1],
    authToken: `ok:${USER}`,
    clientId: CLIENT_ID,
    resumeLsn,
    initialCredit: s.initialCredit,
  });
  clientSend({ case: 'hello', value: hello });

  for (const act of s.actions) {
    if (d.session.state === 'CLOSED') break;
    switch (act.a) {
      case 'credit':
        if (act.n === 0 || client.credit + act.n > 65_535) misbehaved = true;
        client.credit += act.n;
        clientSend({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: act.n } });
        break;
      case 'ack':
        if (!act.valid || client.mode !== 'stream') misbehaved = true;
        clientSend({
          case: 'ack',
          value: {
            $typeName: 'vibestack.sync.v1.Ack',
            lsn: act.valid ? client.applied : client.applied + 1_000_000n,
          },
        });
        break;
      case 'ping':
        clientSend({ case: 'ping', value: { $typeName: 'vibestack.sync.v1.Ping', nonce: 1n } });
        break;
      case 'pong':
        clientSend({ case: 'pong', value: { $typeName: 'vibestack.sync.v1.Pong', nonce: 77n } });
        break;
      case 'mutation': {
        if (act.gap) misbehaved = true;
        mutationId += act.gap ? 2n : 1n;
        const m = {
          $typeName: 'vibestack.sync.v1.Mutation' as const,
          mutationId,
          schema: 'public',
          table: 'tasks',
          op: 1,
          primaryKey: [],
          values: [],
          hlc: { $typeName: 'vibestack.sync.v1.Hlc' as const, physicalMs: 1n, logical: 0 },
        };
        clientSend({
          case: 'mutations',
          value: { $typeName: 'vibestack.sync.v1.MutationBatch', mutations: [m] },
        });
        break;
      }
      case 'garbage':
        misbehaved = true;
        lastClientFrame = d.now;
        d.handle({ type: 'frame', data: new Uint8Array([0x0a, 0xff]) });
        deliver();
        break;
      case 'text':
        misbehaved = true;
        d.handle({ type: 'frame', data: 'hi' });
        deliver();
        break;
      case 'empty':
        clientSend({ case: undefined });
        break;
      case 'wait':
        if (d.now + act.ms >= lastClientFrame + 45_000) misbehaved = true;
        d.advance(act.ms);
        deliver();
        break;
      case 'append':
        append(act.n, act.push, act.overlap);
        break;
      case 'hibernate':
        hibernate();
        break;
    }
  }

  // Catch up: everything appended, credit granted until the session goes quiet.
  const open = () => d.session.state !== 'CLOSED';
  if (open()) {
    append(txns.length, false);
    for (let i = 0; i < 200 && open(); i++) {
      if (s.hibernateInCatchUp) hibernate();
      const before = d.sent.length;
      const grant = Math.min(64, 65_535 - client.credit);
      if (grant > 0) {
        client.credit += grant;
        clientSend({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: grant } });
      }
      if (d.sent.length === before) break;
    }
  }

  // Checks.
  expect(client.problems).toEqual([]);
  const effects = d.effects;
  const errorAt = effects.findIndex((e) => e.type === 'send' && e.message.message.case === 'error');
  const closes = effects.filter((e) => e.type === 'close');
  if (errorAt >= 0) {
    const err = effects[errorAt] as Extract<(typeof effects)[number], { type: 'send' }>;
    const code = (err.message.message.value as { code: ErrorCode }).code;
    const after = effects.slice(errorAt + 1).filter((e) => e.type === 'send' || e.type === 'close');
    expect(after).toEqual([{ type: 'close', code: 4000 + code, reason: `ERROR_CODE_${ErrorCode[code]}` }]);
    if (!misbehaved) expect.fail(`a well-behaved client got ${ErrorCode[code]}`);
  } else {
    expect(closes).toEqual([]);
  }
  seen.closedByError += errorAt >= 0 ? 1 : 0;
  seen.misbehaved += misbehaved ? 1 : 0;
  seen.transactions += client.received.length;
  seen.restores += restores;
  seen.restoredRuns += restores > 0 ? 1 : 0;
  seen.sentAfterRestore +=
    sentAtFirstRestore !== undefined &&
    d.sent.slice(sentAtFirstRestore).some((m) => m.message.case === 'transaction')
      ? 1
      : 0;
  // A transaction sent in parts: a frame with has_more that a log read's chunk budget ended.
  seen.partsSent +=
    s.chunking !== undefined &&
    d.sent.some((m) => m.message.case === 'transaction' && m.message.value.hasMore)
      ? 1
      : 0;
  seen.handoffRuns += d.sent.some(
    (m, i) =>
      m.message.case === 'transaction' && d.sent.slice(i).some((n) => n.message.case === 'snapshotEnd'),
  )
    ? 1
    : 0;
  const startLsn = s.start === 'initial' ? commit(resumeCount) : resumeLsn;
  const expected = txns
    .filter((t) => t.header.commitLsn > startLsn && concerns(t))
    .map((t) => t.header.commitLsn);
  expect(client.received).toEqual(expected.slice(0, client.received.length));
  if (d.session.state !== 'CLOSED') {
    expect(d.session.state).toBe('LIVE');
    expect(client.received).toEqual(expected);
    expect(client.state()).toEqual(stateAt(txns.length).visible());
    expect(client.applied >= (expected[expected.length - 1] ?? 0n)).toBe(true);
    seen.live++;
  }
}

describe('sync session (model-based)', () => {
  it('keeps the protocol and converges on the visible server state under random client behaviour', () => {
    fc.assert(
      fc.property(scenario, (s) => run(s)),
      { numRuns: 600 },
    );
    // The generators must reach every interesting outcome, or the properties above prove little.
    expect(seen.live).toBeGreaterThan(50);
    expect(seen.closedByError).toBeGreaterThan(50);
    expect(seen.handoffRuns).toBeGreaterThan(10);
    expect(seen.transactions).toBeGreaterThan(250);
    expect(seen.partsSent).toBeGreaterThan(10);
    expect(seen.restoredRuns).toBeGreaterThan(80);
    expect(seen.sentAfterRestore).toBeGreaterThan(25);
  });
});
