import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVisibleInSnapshot } from '../../../server/src/core/session/index.ts';
import { fixturePointLsn } from '../fixture/fixture-feeder.ts';
import { readFixtureFile } from '../fixture/fixture-file.ts';
import { BUILTIN_FIXTURES } from '../runner/suite-loader.ts';
import { createCaseWorld, stateAt } from './case-world.ts';

const basic = readFixtureFile(join(BUILTIN_FIXTURES, 'basic.json'));

describe('case world', () => {
  it('logs the transactions through the head, and reports the floor it was given', () => {
    const world = createCaseWorld(basic, { snapshotAt: 2, head: 5, floor: 1 });
    expect(world.log.head()).toBe(fixturePointLsn(basic, 5));
    expect(world.log.transactionsAfter(0n, 100)).toHaveLength(5);
    expect(world.floor()).toBe(fixturePointLsn(basic, 1));
    world.close();
  });

  it('serves a snapshot that sees exactly the transactions up to its point, interleaved xids included', () => {
    for (const at of [0, 5, 10, 11, basic.commits.length]) {
      const world = createCaseWorld(basic, { snapshotAt: at, head: at, floor: 0 });
      expect(world.snapshot.lsn).toBe(fixturePointLsn(basic, at));
      const visible = basic.commits.map((c) => isVisibleInSnapshot(c.xid, world.snapshot.xids));
      expect(visible).toEqual(basic.commits.map((_, i) => i < at));
      world.close();
    }
  });

  it('pages snapshot rows in key order after a key, in the columns asked for', () => {
    const world = createCaseWorld(basic, { snapshotAt: 8, head: 8, floor: 0 });
    const tasks = basic.tables.find((t) => t.name === 'tasks')!;
    const expected = stateAt(basic, 8).tables.find((t) => t.name === 'tasks')!;
    const ids = expected.rows.map((r) => r.cells[0]!.kind.value as string);
    const first = world.snapshotRows(tasks.relationOid, ['title', 'id'], undefined, 2);
    expect(first.done).toBe(false);
    expect(first.rows.map((r) => r[1])).toEqual(ids.slice(0, 2));
    const rest = world.snapshotRows(tasks.relationOid, ['id'], [ids[1]!], 100);
    expect(rest).toEqual({ rows: ids.slice(2).map((id) => [id]), done: true });
    world.close();
  });
});
