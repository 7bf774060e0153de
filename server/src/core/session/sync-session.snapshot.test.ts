import { describe, expect, it } from 'vitest';
import { Driver, emptyWorld, hello } from './testing/fake-shell.ts';
import { insertTask, PROJECTS_OID, project, TASKS_OID, task, txn } from './testing/fixtures.ts';

function started(world = emptyWorld(), config = {}) {
  const d = new Driver(world, config);
  d.handle({ type: 'open' });
  return d;
}

describe('sync session: initial sync', () => {
  it('streams relations, the snapshot in FK order and chunks, then SnapshotEnd (protocol.md §15 shape)', () => {
    const world = emptyWorld();
    world.snapshotRows.set(PROJECTS_OID, [project(1), project(2)]);
    world.snapshotRows.set(TASKS_OID, [
      task(1, 'user_42'),
      task(2, 'bob'),
      task(3, 'user_42'),
      task(4, 'user_42'),
    ]);
    const d = started(world, { maxRowsPerChunk: 2 });
    d.send(hello({ initialCredit: 64 }));
    expect(d.trace()).toEqual([
      'welcome',
      'relation',
      'relation',
      'snapshotBegin',
      'snapshotChunk',
      'snapshotChunk',
      'snapshotChunk',
      'snapshotEnd',
    ]);
    const [projects, tasks] = d.framesOf('relation');
    expect(projects).toMatchObject({ relationId: 1, name: 'projects' });
    expect(tasks!.columns.map((c) => c.name)).toEqual(['id', 'project_id', 'owner_id', 'title']);
    expect(tasks!.foreignKeys).toMatchObject([{ columns: [1], referencedTable: 'projects' }]);
    const chunks = d.framesOf('snapshotChunk');
    expect(chunks.map((c) => [c.relationId, c.rows.length, c.lastInTable])).toEqual([
      [1, 2, true],
      [2, 2, false],
      [2, 1, true],
    ]);
    expect(d.framesOf('snapshotEnd')[0]).toMatchObject({ lsn: 100n, rowCounts: [2n, 3n] });
    expect(d.session.state).toBe('LIVE');
    expect(d.effects.some((e) => e.type === 'end-snapshot')).toBe(true);
  });

  it('sends handoff transactions the snapshot did not see, then SnapshotEnd, then live transactions', () => {
    const world = emptyWorld();
    world.head = 200n;
    world.snapshot = { lsn: 150n, xids: { xmin: 20, xmax: 40, xip: [30] }, handoffAfterLsn: 100n };
    world.log = [
      txn(110n, [insertTask(task(1, 'user_42'))], 10), // seen by the snapshot
      txn(120n, [insertTask(task(2, 'user_42'))], 30), // in progress at the snapshot: handoff
      txn(130n, [insertTask(task(3, 'bob'))], 35), // seen, and not visible anyway
      txn(160n, [insertTask(task(4, 'user_42'))], 45), // after the snapshot: live
    ];
    world.snapshotRows.set(TASKS_OID, [task(1, 'user_42')]);
    const d = started(world);
    d.send(hello());
    expect(d.trace().slice(4)).toEqual([
      'snapshotChunk',
      'snapshotChunk',
      'transaction@120#0',
      'snapshotEnd',
      'transaction@160#0',
      'progress',
    ]);
    expect(d.framesOf('progress')[0]).toMatchObject({ lsn: 200n, caughtUp: true });
  });

  it('does not send rows of a claim-scoped table to a user without the claim', () => {
    const world = emptyWorld();
    world.snapshotRows.set(TASKS_OID, [task(1, 'user_42')]);
    const d = started(world);
    d.send(hello({ authToken: 'ok:nobody' }));
    const chunks = d.framesOf('snapshotChunk');
    expect(chunks.map((c) => c.rows.length)).toEqual([0, 0]);
  });

  it('rejects an Ack before SnapshotEnd was sent', () => {
    const d = started(emptyWorld());
    d.hold.add('start-snapshot');
    d.send(hello());
    d.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn: 0n } });
    expect(d.closes).toEqual([{ code: 4006, reason: 'ERROR_CODE_PROTOCOL_VIOLATION' }]);
  });
});

describe('sync session: resuming an initial sync', () => {
  function world() {
    const w = emptyWorld();
    w.snapshotRows.set(
      TASKS_OID,
      [1, 2, 3, 4, 5].map((i) => task(i, 'user_42')),
    );
    return w;
  }

  it('continues after the cursor with resumed: true and counts rows from before the resume', () => {
    const w = world();
    const first = started(w, { maxRowsPerChunk: 2 });
    first.send(hello({ initialCredit: 5 }));
    const chunks = first.framesOf('snapshotChunk');
    expect(chunks.map((c) => c.rows.length)).toEqual([0, 2]);
    first.handle({ type: 'closed' });
    expect(first.effects.filter((e) => e.type === 'end-snapshot')).toHaveLength(1);

    const second = started(w, { maxRowsPerChunk: 2 });
    second.send(hello({ snapshotResume: { snapshotId: 's-1', cursor: chunks[1]!.cursor } }));
    expect(second.effects.find((e) => e.type === 'start-snapshot')).toMatchObject({
      resume: { snapshotId: 's-1' },
    });
    expect(second.framesOf('snapshotBegin')[0]).toMatchObject({ snapshotId: 's-1', resumed: true });
    const rest = second.framesOf('snapshotChunk');
    expect(rest.map((c) => c.rows.map((r) => r.values[0]!.kind.value))).toEqual([[3n, 4n], [5n]]);
    expect(second.framesOf('snapshotEnd')[0]!.rowCounts).toEqual([0n, 5n]);
  });

  it('starts over when the cursor is not one of ours', () => {
    const d = started(world(), { maxRowsPerChunk: 2 });
    d.send(hello({ snapshotResume: { snapshotId: 's-1', cursor: new Uint8Array([9, 9]) } }));
    expect(d.effects.find((e) => e.type === 'start-snapshot')).not.toHaveProperty('resume');
    expect(d.framesOf('snapshotBegin')[0]!.resumed).toBe(false);
    expect(d.framesOf('snapshotEnd')[0]!.rowCounts).toEqual([0n, 5n]);
  });

  it('waits for the log to reach the snapshot LSN before SnapshotEnd', () => {
    const w = world();
    w.head = 90n;
    w.snapshot = { lsn: 120n, xids: { xmin: 50, xmax: 50, xip: [] }, handoffAfterLsn: 90n };
    const d = started(w);
    d.send(hello());
    expect(d.trace().at(-1)).toBe('snapshotChunk');
    expect(d.session.state).toBe('SNAPSHOT');
    w.log.push(txn(110n, [insertTask(task(9, 'user_42'))], 60));
    w.head = 130n;
    d.handle({ type: 'log-head', head: 130n, floor: 0n });
    expect(d.trace().slice(-3)).toEqual(['transaction@110#0', 'snapshotEnd', 'progress']);
    expect(d.session.state).toBe('LIVE');
  });

  it('names what the snapshot depends on, so a resume under another user or scope cannot continue it', () => {
    const fingerprint = (token: string) => {
      const d = started(emptyWorld());
      d.send(hello({ authToken: token }));
      const start = d.effects.find((e) => e.type === 'start-snapshot');
      return start?.type === 'start-snapshot' ? start.fingerprint : undefined;
    };
    const mine = fingerprint('ok:user_42');
    expect(mine).toBeDefined();
    expect(fingerprint('ok:user_42')).toBe(mine);
    // tasks are scoped by owner_id = sub: another user's snapshot differs.
    expect(fingerprint('ok:bob')).not.toBe(mine);
  });
});
