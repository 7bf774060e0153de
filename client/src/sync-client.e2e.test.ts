/**
 * The client end to end: real Postgres, the real Worker in workerd, a real PGlite. The client syncs a table with
 * assorted types, follows live inserts, updates, deletes and a truncate, and after a restart resumes from its
 * applied LSN without downloading the snapshot again.
 */
import { PGlite } from '@electric-sql/pglite';
import {
  createTestDatabase,
  startWranglerDev,
  type TestDatabase,
  type WranglerDev,
} from '@vibestack/server/dev';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TablesChangedEvent } from './core/table-changes.ts';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';

const SECRET = 'client-e2e-secret';
const COLUMNS = 'id, title, done, score, at, tags, doc';
let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;
const clients: SyncClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query(`CREATE TABLE items (id int PRIMARY KEY, title text, done boolean NOT NULL DEFAULT false,
    score numeric, at timestamptz, tags text[], doc jsonb)`);
  await sql.query(`INSERT INTO items SELECT g, 'item ' || g, g % 2 = 0, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 hour',
    ARRAY['a', 'b' || g], jsonb_build_object('n', g) FROM generate_series(1, 2500) g`);
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
    },
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) await c.stop();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
});

async function token(): Promise<string> {
  const r = await fetch(`${worker.url}/dev/token?sub=u1`);
  return ((await r.json()) as { token: string }).token;
}

async function start(local: PGlite): Promise<SyncClient> {
  const client = await createSyncClient({
    url: worker.url,
    db: local,
    token: () => token(),
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  clients.push(client);
  return client;
}

/** Rows as Postgres text, in key order: the same query on either database. */
const ROWS_QUERY = `SELECT ${COLUMNS.split(', ')
  .map((c) => `${c}::text`)
  .join(', ')} FROM items ORDER BY items.id`;
async function serverRows(): Promise<string[]> {
  const { rows } = await sql.query(ROWS_QUERY);
  return rows.map((r) => JSON.stringify(Object.values(r)));
}
async function localRows(local: PGlite): Promise<string[]> {
  const { rows } = await local.query<Record<string, unknown>>(ROWS_QUERY);
  return rows.map((r) => JSON.stringify(Object.values(r)));
}

/** Waits until the local rows equal the server's (the client applies asynchronously). */
async function converges(local: PGlite, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [mine, theirs] = [await localRows(local), await serverRows()];
    if (JSON.stringify(mine) === JSON.stringify(theirs)) return;
    if (Date.now() > deadline) {
      expect(mine).toEqual(theirs);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('syncs a snapshot, follows live changes, and resumes after a restart without a new snapshot', async () => {
  await sql.query("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO'");
  const local = await PGlite.create();
  await local.exec("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO'");
  const client = await start(local);
  const events: TablesChangedEvent[] = [];
  client.onTablesChanged((e) => events.push(e), ['items']);
  client.onTablesChanged(() => events.push({ lsn: -1n, tables: [] }), ['public.other']);
  let progress = { rows: 0, bytes: 0 };
  client.subscribe((s) => {
    if (s.snapshot) progress = { rows: s.snapshot.stagedRows, bytes: s.snapshot.receivedBytes };
  });
  await client.whenLive();
  expect(await localRows(local)).toEqual(await serverRows());
  // Progress counted rows and bytes; the committed snapshot was reported as replacing `items`.
  expect(progress.rows).toBe(2500);
  expect(progress.bytes).toBeGreaterThan(2500 * 20);
  const stats = client.stats;
  expect(stats.bytes).toBeGreaterThanOrEqual(progress.bytes);
  expect(stats.frames).toBeGreaterThan(3); // Welcome, SnapshotBegin, chunks, SnapshotEnd…
  expect(stats.applies).toBeGreaterThanOrEqual(3); // begin, chunks, commit
  expect(stats.applyMs).toBeGreaterThan(0);
  expect(stats.decodeMs).toBeGreaterThan(0);
  expect(events).toEqual([
    { lsn: client.status.appliedLsn, tables: [expect.objectContaining({ name: 'items', replaced: true })] },
  ]);

  await sql.query("INSERT INTO items (id, title, tags) VALUES (5000, 'new', '{x,\"y z\"}')");
  await sql.query("UPDATE items SET title = 'changed', score = 'NaN' WHERE id % 100 = 0");
  await sql.query('DELETE FROM items WHERE id BETWEEN 10 AND 19');
  await converges(local);
  // Each change was reported once, after its commit, for `items` only.
  const counted = events.slice(1).flatMap((e) => e.tables);
  expect(counted.every((t) => t.schema === 'public' && t.name === 'items')).toBe(true);
  expect(counted.reduce((n, t) => n + t.inserts, 0)).toBe(1);
  expect(counted.reduce((n, t) => n + t.updates, 0)).toBe(26);
  expect(counted.reduce((n, t) => n + t.deletes, 0)).toBe(10);
  const lsns = events.map((e) => e.lsn);
  expect(lsns).toEqual([...lsns].sort((a, b) => (a < b ? -1 : 1)));
  expect(lsns.at(-1)! <= client.status.appliedLsn).toBe(true);

  // Restart on the same database: resume from the applied LSN (CATCH_UP), no snapshot staged again.
  await client.stop();
  const applied = client.status.appliedLsn;
  expect(applied).toBeGreaterThan(0n);
  await sql.query('UPDATE items SET done = NOT done WHERE id < 50');
  const again = await start(local);
  let staged = 0;
  again.subscribe((s) => {
    staged = Math.max(staged, s.snapshot?.stagedRows ?? 0);
  });
  await again.whenLive();
  await converges(local);
  expect(staged).toBe(0);
  expect(again.status.appliedLsn).toBeGreaterThan(applied);

  await sql.query('TRUNCATE items');
  await sql.query("INSERT INTO items (id, title) VALUES (1, 'after truncate')");
  await converges(local);
  await again.stop();
  await local.close();
}, 120_000);
