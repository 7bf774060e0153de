/**
 * One live query's lifecycle over a real PGlite with the `live` extension: results and changes, a stop before
 * the query has started (no results, nothing left behind), a start that fails (reported once), and the
 * keyed (incremental) mode, which must equal a fresh SELECT after any batch of writes.
 */

import type { Results } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { subscribeLiveQuery } from './live-subscription.ts';
import { type CountingDb, createCountingDb } from './testing/live-pglite.ts';

let t: CountingDb;
beforeAll(async () => {
  t = await createCountingDb();
  await t.db.exec(`CREATE TABLE notes (id int PRIMARY KEY, body text);
    INSERT INTO notes VALUES (1, 'one'), (2, 'two');`);
}, 60_000);
afterAll(() => t.db.close());

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Note = { id: number; body: string };
const bodies = (r: Results<Note> | undefined) => r?.rows.map((n) => n.body);

it.each([
  ['plain', undefined],
  ['keyed', 'id'],
])('delivers the results and every committed change (%s)', async (_, key) => {
  let latest: Results<Note> | undefined;
  const errors: Error[] = [];
  const stop = subscribeLiveQuery<Note>(
    t.db,
    { sql: 'SELECT * FROM notes WHERE id < $1 ORDER BY id', params: [100], key },
    { onResults: (r) => (latest = r), onError: (e) => errors.push(e) },
  );
  await eventually(() => bodies(latest)?.join() === 'one,two');
  expect(latest!.fields.map((f) => f.name)).toEqual(['id', 'body']);
  await t.db.query("INSERT INTO notes VALUES (3, 'three'), (100, 'filtered out')");
  await eventually(() => bodies(latest)?.join() === 'one,two,three');
  await t.db.query("UPDATE notes SET body = 'TWO' WHERE id = 2");
  await t.db.query('DELETE FROM notes WHERE id = 1');
  await eventually(() => bodies(latest)?.join() === 'TWO,three');
  stop();
  await eventually(async () => (await t.views()) === 0);
  await t.db.exec("DELETE FROM notes; INSERT INTO notes VALUES (1, 'one'), (2, 'two')");
  expect(errors).toEqual([]);
});

it('stopped before it has started: delivers nothing and leaves nothing behind', async () => {
  const before = t.deliveries();
  const startsBefore = t.starts();
  const stop = subscribeLiveQuery(
    t.db,
    { sql: 'SELECT * FROM notes' },
    {
      onResults: () => expect.fail('results after stop'),
      onError: (e) => expect.fail(e.message),
    },
  );
  stop();
  stop(); // idempotent
  expect(t.starts()).toBe(startsBefore + 1);
  // The start runs to its end (PGlite cannot cancel it), then the query is released.
  await eventually(async () => (await t.views()) === 0 && t.deliveries() > before);
  await t.db.query("INSERT INTO notes VALUES (50, 'after stop')");
  await new Promise((r) => setTimeout(r, 100));
  await t.db.query('DELETE FROM notes WHERE id = 50');
  expect(await t.views()).toBe(0);
});

it('reports a start that fails, once, and not after a stop', async () => {
  const errors: Error[] = [];
  const stop = subscribeLiveQuery(
    t.db,
    { sql: 'SELECT * FROM no_such_table' },
    { onResults: () => expect.fail('results of a failed query'), onError: (e) => errors.push(e) },
  );
  await eventually(() => errors.length > 0);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(/no_such_table/);
  stop();

  const late: Error[] = [];
  subscribeLiveQuery(
    t.db,
    { sql: 'SELEC nonsense' },
    { onResults: () => undefined, onError: (e) => late.push(e) },
  )();
  await t.db.query('SELECT 1'); // queued after the failed start
  await new Promise((r) => setTimeout(r, 50));
  expect(late).toEqual([]);
  expect(await t.views()).toBe(0);
});

type Op = { kind: 'insert' | 'update'; id: number; body: string } | { kind: 'delete'; id: number };
const opSql = (op: Op): string =>
  op.kind === 'insert'
    ? `INSERT INTO prop VALUES (${op.id}, '${op.body}') ON CONFLICT (id) DO NOTHING`
    : op.kind === 'update'
      ? `UPDATE prop SET body = '${op.body}' WHERE id = ${op.id}`
      : `DELETE FROM prop WHERE id = ${op.id}`;

it('keyed mode: the rows equal the query after every batch of writes (property)', async () => {
  await t.db.exec('CREATE TABLE prop (id int PRIMARY KEY, body text NOT NULL)');
  const id = fc.integer({ min: 1, max: 12 });
  const body = fc.constantFrom('a', 'b', 'c', 'd');
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), id, body }),
    fc.record({ kind: fc.constant('update' as const), id, body }),
    fc.record({ kind: fc.constant('delete' as const), id }),
  );
  // Ordered by a column the writes change, so rows also move.
  const sql = 'SELECT id, body FROM prop ORDER BY body, id';
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { maxLength: 5 }),
      async (batches) => {
        await t.db.exec("DELETE FROM prop; INSERT INTO prop SELECT g, 'b' FROM generate_series(1, 12, 3) g");
        let latest: Results<{ id: number; body: string }> | undefined;
        const stop = subscribeLiveQuery<{ id: number; body: string }>(
          t.db,
          { sql, key: 'id' },
          { onResults: (r) => (latest = r), onError: (e) => expect.fail(e.message) },
        );
        const matches = async () => {
          const expected = (await t.db.query(sql)).rows;
          return JSON.stringify(latest?.rows) === JSON.stringify(expected);
        };
        try {
          await eventually(matches, 5_000);
          for (const batch of batches) {
            // One transaction: the live query sees the batch as one change set.
            await t.db.exec(`BEGIN; ${batch.map(opSql).join('; ')}; COMMIT;`);
            await eventually(matches, 5_000);
          }
        } finally {
          stop();
        }
        await eventually(async () => (await t.views()) === 0);
      },
    ),
    { numRuns: 30 },
  );
}, 120_000);
