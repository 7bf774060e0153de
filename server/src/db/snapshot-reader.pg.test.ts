import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { estimateTable, isVisibleInSnapshot, openSnapshot, type SnapshotTable } from './snapshot-reader.ts';
import type { SqlClient, SqlText } from './sql-client.ts';
import { createDriverHarness, SQL_DRIVERS } from './testing/sql-drivers.ts';

const ROWS = 1_500;
const BENCH_ROWS = 20_000;
// Composite key of mixed types; text keys with spaces, quotes, case and non-ASCII exercise the text round trip.
const WORDS = ['', ' ', 'a', 'A', 'a b', "it's", '"q"', 'zz', 'é', '日本', 'NULL', '\\'];
const items: SnapshotTable = { schema: 'snap', name: 'Items', primaryKey: ['grp', 'word', 'n'] };
const columns = ['payload', 'n', 'word', 'grp', 'at'];

let db: TestDatabase;
let admin: SqlClient;
let other: SqlClient;
const adminHarness = createDriverHarness('pg');
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await adminHarness.open(db.url);
  other = await adminHarness.open(db.url);
  await admin.query(`
    CREATE SCHEMA snap;
    CREATE TABLE snap."Items" (grp int, word text, n numeric, payload text, at timestamptz,
                               PRIMARY KEY (grp, word, n));
    CREATE TABLE snap.later (id int PRIMARY KEY);
    CREATE TABLE snap.bench (id bigint PRIMARY KEY, title text, body text, score float8, at timestamptz);`);
  await admin.query(
    `INSERT INTO snap."Items"
     SELECT i % 7, ($1::text[])[1 + i % $2], i / 3.0, repeat('x', i % 50), now() - i * interval '1 min'
       FROM generate_series(1, $3) i`,
    [
      `{${WORDS.map((w) => `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`,
      WORDS.length,
      ROWS,
    ],
  );
  await admin.query(
    `INSERT INTO snap.bench SELECT i, 'title ' || i, repeat('body ', 20), i * 1.5, now() FROM generate_series(1, $1) i`,
    [BENCH_ROWS],
  );
});
afterAll(async () => {
  await adminHarness.close();
  await db?.drop();
});

const xactId = async (client: SqlClient): Promise<bigint> =>
  BigInt((await client.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);

describe.each(SQL_DRIVERS)('snapshot reader over %s', (driver) => {
  const drivers = createDriverHarness(driver);
  let client: SqlClient;
  beforeAll(async () => {
    client = await drivers.open(db.url);
  });
  afterAll(() => drivers.close());

  it.each([1, 7, 1000])('returns every row exactly once in key order with chunks of %i', async (limit) => {
    const reader = await openSnapshot(client);
    const seen: SqlText[][] = [];
    let after: string[] | null = null;
    let chunks = 0;
    do {
      const chunk = await reader.readChunk(items, columns, after, limit);
      expect(chunk.rows.length).toBeLessThanOrEqual(limit);
      seen.push(...chunk.rows);
      after = chunk.nextKey;
      chunks++;
    } while (after);
    await reader.close();
    expect(chunks).toBe(Math.floor(ROWS / limit) + 1);
    const expected = await admin.queryArrays(
      'SELECT payload, n, word, grp, at FROM snap."Items" ORDER BY grp, word, n',
    );
    expect(seen).toEqual(expected.rows);
    expect(new Set(seen.map((r) => JSON.stringify([r[3], r[2], r[1]]))).size).toBe(ROWS);
  });

  it('answers a request that does not follow the previous page (the read-ahead is not used for it)', async () => {
    const reader = await openSnapshot(client);
    const first = await reader.readChunk(items, columns, null, 5);
    // Not the page after `first` (that one was read ahead): the first page again, then a different limit.
    const again = await reader.readChunk(items, columns, null, 5);
    const other = await reader.readChunk(items, columns, first.nextKey, 2);
    const next = await reader.readChunk(items, columns, other.nextKey, 3);
    await reader.close();
    const expected = await admin.queryArrays(
      'SELECT payload, n, word, grp, at FROM snap."Items" ORDER BY grp, word, n LIMIT 10',
    );
    expect(again.rows).toEqual(first.rows);
    expect([...first.rows, ...other.rows, ...next.rows]).toEqual(expected.rows);
  });

  it('reads key columns that were not requested without returning them', async () => {
    const reader = await openSnapshot(client);
    const chunk = await reader.readChunk(items, ['payload'], null, 3);
    await reader.close();
    expect(chunk.rows.every((r) => r.length === 1)).toBe(true);
    expect(chunk.nextKey).toHaveLength(3);
  });

  it('does not see rows committed after the snapshot was taken', async () => {
    await admin.query('INSERT INTO snap.later VALUES (1)');
    const reader = await openSnapshot(client);
    await admin.query('INSERT INTO snap.later VALUES (2)');
    const table = { schema: 'snap', name: 'later', primaryKey: ['id'] };
    const { rows, nextKey } = await reader.readChunk(table, ['id'], null, 100);
    await reader.close();
    expect(rows).toEqual([['1']]);
    expect(nextKey).toBeNull();
    await admin.query('DELETE FROM snap.later');
  });

  it('lists a running transaction in xip; isVisibleInSnapshot tells committed from running', async () => {
    await other.query('BEGIN');
    await other.query('INSERT INTO snap.later VALUES (10)');
    const committedBefore = await (async () => {
      await admin.query('BEGIN');
      await admin.query('INSERT INTO snap.later VALUES (11)');
      const xid = await xactId(admin);
      await admin.query('COMMIT');
      return xid;
    })();
    const running = await xactId(other);
    const reader = await openSnapshot(client);
    const { snapshot } = reader;
    await other.query('COMMIT');
    await admin.query('INSERT INTO snap.later VALUES (12)');
    const after = BigInt(
      (await admin.query<{ x: string }>('SELECT xmin::text AS x FROM snap.later WHERE id = 12')).rows[0]!.x,
    );
    await reader.close();

    expect(snapshot.xip).toContain(running);
    expect(snapshot.xmin <= running && running < snapshot.xmax).toBe(true);
    expect(snapshot.walLsn > 0n).toBe(true);
    const low = (x: bigint): number => Number(x & 0xffff_ffffn);
    expect(isVisibleInSnapshot(snapshot, low(running))).toBe(false);
    expect(isVisibleInSnapshot(snapshot, low(committedBefore))).toBe(true);
    expect(isVisibleInSnapshot(snapshot, Number(after))).toBe(false);
    await admin.query('DELETE FROM snap.later');
  });

  it('estimates a table from planner statistics (0 rows before ANALYZE)', async () => {
    await admin.query('CREATE TABLE IF NOT EXISTS snap.fresh (id int PRIMARY KEY)');
    expect((await estimateTable(client, { schema: 'snap', name: 'fresh' })).rows).toBe(0);
    await admin.query('ANALYZE snap."Items"');
    const estimate = await estimateTable(client, { schema: 'snap', name: 'Items' });
    expect(estimate.rows).toBe(ROWS);
    expect(estimate.bytes).toBeGreaterThan(8192);
    await expect(estimateTable(client, { schema: 'snap', name: 'nope' })).rejects.toThrow(/not found/);
  });

  it('measures chunked reads (prints rows/s; no time assertion)', async () => {
    const table = { schema: 'snap', name: 'bench', primaryKey: ['id'] };
    const started = performance.now();
    const reader = await openSnapshot(client);
    let after: string[] | null = null;
    let rows = 0;
    do {
      const chunk = await reader.readChunk(table, ['id', 'title', 'body', 'score', 'at'], after, 1000);
      rows += chunk.rows.length;
      after = chunk.nextKey;
    } while (after);
    await reader.close();
    const seconds = (performance.now() - started) / 1000;
    expect(rows).toBe(BENCH_ROWS);
    console.log(`[measure] snapshot readChunk(1000) over ${driver}: ${Math.round(rows / seconds)} rows/s`);
  });
});
