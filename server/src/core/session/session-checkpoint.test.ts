/**
 * Checkpoints: a quiescent LIVE session continues, after a restore through JSON, exactly as the original would
 * (the same effects, byte for byte, on the same following events); a session with anything outstanding has no
 * checkpoint; a Relation that changed while the session was checkpointed is sent again under the same id.
 */

import { describe, expect, it } from 'vitest';
import type { RelationDescriptor } from './relation-descriptor.ts';
import { parseSessionCheckpoint, type SessionCheckpoint } from './session-checkpoint.ts';
import type { SessionEvent } from './session-types.ts';
import { restoreSyncSession } from './sync-session.ts';
import { CLIENT_ID, Driver, emptyWorld, hello, T0 } from './testing/fake-shell.ts';
import {
  CATALOG,
  insertProject,
  insertTask,
  PROJECTS,
  project,
  SHAPES,
  TASKS,
  task,
  txn,
} from './testing/fixtures.ts';

const CONFIG = { heartbeatIntervalMs: 15_000, progressIntervalMs: 3_000 };
/** Token expiry (s) an hour after T0. */
const EXP = Math.floor(T0 / 1000) + 3_600;

function world() {
  const w = emptyWorld();
  w.floor = 10n;
  w.head = 200n;
  w.log = [txn(110n, [insertProject(project(1))]), txn(130n, [insertTask(task(2, 'user_42'))])];
  return w;
}

/**
 * A LIVE session that caught up from 110 (so the tasks Relation was sent, the projects one not), sent a Ping and
 * a rate-limited Progress.
 */
function live(): Driver {
  const d = new Driver(world(), CONFIG);
  d.handle({ type: 'open' });
  d.send(hello({ resumeLsn: 110n, initialCredit: 20, authToken: `ok:user_42:${EXP}` }));
  d.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn: 130n } });
  d.advance(15_000);
  d.send({ case: 'pong', value: { $typeName: 'vibestack.sync.v1.Pong', nonce: 1n } });
  d.handle(batch(205n, [insertTask(task(9, 'bob'))]));
  expect(d.trace()).toEqual(['welcome', 'relation', 'transaction@130#0', 'progress', 'ping', 'progress']);
  expect(d.session.state).toBe('LIVE');
  return d;
}

/** A second driver whose session is restored from `d`'s checkpoint, passed through JSON. */
function restored(d: Driver, catalog: readonly RelationDescriptor[] = CATALOG): Driver {
  const cp = d.session.checkpoint();
  expect(cp).toBeDefined();
  const twin = new Driver(world(), CONFIG);
  twin.world.catalog = catalog;
  twin.now = d.now;
  twin.timerAt = d.timerAt;
  const stored = parseSessionCheckpoint(JSON.parse(JSON.stringify(cp)));
  twin.session = restoreSyncSession(twin.config, stored!, catalog);
  return twin;
}

function batch(lsn: bigint, changes: Parameters<typeof txn>[1]): SessionEvent {
  return {
    type: 'log-batch',
    batch: {
      afterLsn: 200n,
      throughLsn: lsn,
      transactions: [txn(lsn, changes)],
      shapes: SHAPES,
      head: lsn,
      floor: 10n,
    },
  };
}

/** The log grows to 300 (a transaction of the user's at 230) and the session hears of it. */
function grow(d: Driver): void {
  d.world.log.push(txn(230n, [insertTask(task(5, 'user_42'))]));
  d.world.head = 300n;
  d.handle({ type: 'log-head', head: 300n, floor: 10n });
}

/** The same events, in order, to a driver. */
function play(d: Driver): void {
  d.handle({ type: 'catalog-changed', catalog: d.world.catalog }); // changes nothing, not even the timer
  d.handle(batch(207n, [insertTask(task(8, 'bob'))])); // Progress waits for the rate limit
  d.advance(16_000); // a Ping is due
  d.send({ case: 'pong', value: { $typeName: 'vibestack.sync.v1.Pong', nonce: 1n } });
  d.handle(batch(210n, [insertTask(task(3, 'user_42')), insertProject(project(2))]));
  d.handle(batch(220n, [insertTask(task(4, 'bob'))])); // not the user's: Progress covers it
  d.advance(3_500); // the rate-limited Progress
  d.send({ case: 'ping', value: { $typeName: 'vibestack.sync.v1.Ping', nonce: 9n } });
  d.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn: 210n } });
  d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: 3 } });
  grow(d); // a read of the log
  d.advance(50_000); // three silent intervals: HEARTBEAT_TIMEOUT
}

describe('session checkpoints', () => {
  it('a restored session sends exactly what the original sends on the same events', () => {
    const original = live();
    const twin = restored(original);
    const mark = original.effects.length;
    play(original);
    play(twin);
    expect(twin.effects).toEqual(original.effects.slice(mark));
    // The events reached the interesting parts: a new Relation, a transaction, Progress, a read, the timeout.
    expect(twin.trace()).toEqual([
      'ping',
      'progress',
      'relation',
      'transaction@210#0',
      'progress',
      'pong',
      'transaction@230#0',
      'error:HEARTBEAT_TIMEOUT',
    ]);
  });

  it('is plain JSON with the relation ids and positions of the session', () => {
    const cp = live().session.checkpoint()!;
    expect(JSON.parse(JSON.stringify(cp))).toEqual(cp);
    expect(cp).toMatchObject({
      claims: { sub: 'user_42', exp: EXP },
      expiresAt: EXP * 1000 + 30_000,
      pingNonce: '1',
      acks: { maxAckable: '205', last: '130' },
      log: { cursor: '205', head: '205', floor: '10', lastProgressAt: T0 + 15_000 },
      credit: 20 - 4,
    });
    if (cp.state !== 'LIVE') throw new Error('not LIVE');
    expect(cp.relations.tables).toEqual([
      { relationOid: TASKS.relationOid, relationId: 1, sent: expect.any(String) },
    ]);
  });

  it('sends a Relation again, under the same relation id, only when it changed meanwhile', () => {
    const changedTasks = { ...TASKS, columns: TASKS.columns.map((c) => ({ ...c, nullable: false })) };
    const same = restored(live());
    const changed = restored(live(), [changedTasks, PROJECTS]);
    for (const d of [same, changed]) d.handle(batch(210n, [insertTask(task(3, 'user_42'))]));
    expect(same.trace()).toEqual(['transaction@210#0']);
    expect(changed.trace()).toEqual(['relation', 'transaction@210#0']);
    expect(changed.framesOf('relation')[0]!.relationId).toBe(1);
    // A table first used after the restore gets the next id, as in the original.
    changed.handle(batch(220n, [insertProject(project(2))]));
    expect(changed.framesOf('relation').map((r) => r.relationId)).toEqual([1, 2]);
  });

  it('restores a session that waits for the Hello: the Hello timeout, or the Hello, as in the original', () => {
    const waiting = () => {
      const d = new Driver(world(), CONFIG);
      d.handle({ type: 'open' });
      d.advance(4_000);
      return d;
    };
    for (const next of [
      (d: Driver) => d.advance(6_000),
      (d: Driver) => d.send(hello({ resumeLsn: 110n, initialCredit: 20 })),
    ]) {
      const original = waiting();
      const twin = restored(original);
      const mark = original.effects.length;
      next(original);
      next(twin);
      expect(twin.effects).toEqual(original.effects.slice(mark));
      expect(twin.sent.length).toBeGreaterThan(0);
    }
    expect(waiting().session.checkpoint()).toEqual({
      version: 1,
      state: 'AWAIT_HELLO',
      clientId: CLIENT_ID,
      openedAt: T0,
      timerAt: T0 + 10_000,
    });
  });

  it('has no checkpoint while anything is outstanding', () => {
    const credit = (d: Driver, frames: number) =>
      d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames } });
    // Between the Hello and LIVE.
    const handshake = new Driver(world(), CONFIG);
    handshake.hold.add('verify-token');
    handshake.handle({ type: 'open' });
    handshake.send(hello());
    expect(handshake.session.state).toBe('HANDSHAKE');
    expect(handshake.session.checkpoint()).toBeUndefined();
    const catchingUp = new Driver(world(), CONFIG);
    catchingUp.handle({ type: 'open' });
    catchingUp.send(hello({ resumeLsn: 110n, initialCredit: 1 }));
    expect(catchingUp.session.state).toBe('CATCHING_UP');
    expect(catchingUp.session.checkpoint()).toBeUndefined();
    // Frames queued for want of credit.
    const queued = new Driver(world(), CONFIG);
    queued.handle({ type: 'open' });
    queued.send(hello({ resumeLsn: 110n, initialCredit: 3 }));
    expect(queued.session.state).toBe('LIVE');
    queued.handle(batch(210n, [insertTask(task(3, 'user_42'))]));
    expect(queued.session.checkpoint()).toBeUndefined();
    credit(queued, 1);
    expect(queued.session.checkpoint()).toBeDefined();
    // A log read outstanding.
    const reading = live();
    reading.hold.add('read-log');
    grow(reading);
    expect(reading.session.checkpoint()).toBeUndefined();
    reading.release(reading.held[0]!);
    expect(reading.session.checkpoint()).toBeDefined();
    // An Ack persist in flight.
    const acking = live();
    acking.hold.add('persist-ack');
    acking.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn: 200n } });
    expect(acking.session.checkpoint()).toBeUndefined();
    acking.release(acking.held[0]!);
    expect(acking.session.checkpoint()).toBeDefined();
    // Closed.
    const closed = live();
    closed.handle({ type: 'closed' });
    expect(closed.session.checkpoint()).toBeUndefined();
  });

  it('refuses a checkpoint of another client, or of another version', () => {
    const cp = live().session.checkpoint()!;
    expect(() => restoreSyncSession({ ...live().config, clientId: 'other' }, cp, CATALOG)).toThrow(
      RangeError,
    );
    expect(parseSessionCheckpoint({ ...cp, version: 2 })).toBeUndefined();
    expect(parseSessionCheckpoint(cp satisfies SessionCheckpoint)).toBe(cp);
  });
});
