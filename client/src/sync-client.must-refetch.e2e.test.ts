/**
 * MUST_REFETCH after retention (docs/protocol.md §4.5, §6.4, §9.2): with a small change-log retention, a client
 * syncs and stops; while it is away the server deletes, updates and inserts far more than the log keeps, so
 * the log's floor passes the client's applied LSN. Restarted on the same local database, the client is answered
 * MUST_REFETCH, forgets its LSN but keeps its data, and syncs a new snapshot that replaces its synced state in one
 * local transaction: rows deleted during the gap are gone, a table emptied during the gap is empty. Meanwhile
 * the application keeps reading: every read sees either the complete old state or the complete new one, and
 * reads during the snapshot (between its staging transactions) still see the old one. Real Postgres, real
 * Worker in workerd, real PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import { ErrorCode, parseLsn } from '@vibestack/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApplyWork } from './core/client-types.ts';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { waitUntil, withTimeout } from './testing/wait.ts';

const ROWS = 30_000;
const TAGS = 100;
const RETENTION_BYTES = 200_000;
const ITEMS_QUERY = textRowsQuery('public.items', ['id', 'v', 'note'], 'id');
const TAGS_QUERY = textRowsQuery('public.tags', ['id', 'label'], 'id');
// The whole synced state in one value (one statement, so one consistent read).
const FINGERPRINT = `SELECT (SELECT count(*) FROM items)::text AS items,
  (SELECT coalesce(sum(hashtext(id || '|' || v || '|' || coalesce(note, '-'))), 0) FROM items)::text AS hash,
  (SELECT count(*) FROM tags)::text AS tags`;

let server: E2eServer;
let local: PGlite;
const clients: SyncClient[] = [];

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text);
      INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, ${ROWS}) g;
      CREATE TABLE tags (id int PRIMARY KEY, label text NOT NULL);
      INSERT INTO tags SELECT g, 'tag ' || g FROM generate_series(1, ${TAGS}) g`,
    scopes: [
      { table: 'public.items', rule: { kind: 'shared' } },
      { table: 'public.tags', rule: { kind: 'shared' } },
    ],
    vars: { LOG_RETENTION_BYTES: String(RETENTION_BYTES) },
  });
  local = await PGlite.create();
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.stop();
  await local?.close();
  await server?.close();
}, 60_000);

async function start(beforeCommit?: (work: ApplyWork) => Promise<void>): Promise<SyncClient> {
  const client = await createSyncClient({
    url: server.url,
    db: local,
    token: () => server.token('u1'),
    WebSocket: WebSocket as unknown as WebSocketFactory,
    ...(beforeCommit === undefined ? {} : { store: { beforeCommit } }),
  });
  clients.push(client);
  return client;
}

async function fingerprint(): Promise<string> {
  const [row] = await localTextRows(local, FINGERPRINT);
  return JSON.stringify(row);
}

async function expectSameAsServer(): Promise<void> {
  for (const query of [ITEMS_QUERY, TAGS_QUERY]) {
    await expectConverges(
      () => localTextRows(local, query),
      () => serverTextRows(server.sql, query),
      60_000,
    );
  }
}

it('is answered MUST_REFETCH behind the retained log and replaces its state atomically, old data readable meanwhile', async () => {
  const first = await start();
  const firstStatuses = recordStatuses(first);
  await withTimeout(first.whenLive(), 90_000, () => `the initial sync (${firstStatuses.describe()})`);
  for (let i = 1; i <= 5; i++) await server.sql.query('UPDATE items SET v = v + 1 WHERE id % 100 = $1', [i]);
  await expectSameAsServer();
  await first.stop();
  const resumeLsn = first.status.appliedLsn;
  const old = await fingerprint();

  // The gap: far more change data than the log retains, deletes included.
  await server.sql.query('DELETE FROM items WHERE id <= 5000');
  await server.sql.query("UPDATE items SET v = v + 10, note = 'gap ' || id WHERE id > 5000");
  await server.sql.query(
    `INSERT INTO items SELECT g, -1, 'new ' || g FROM generate_series(${ROWS + 1}, ${ROWS + 2_000}) g`,
  );
  await server.sql.query('DELETE FROM tags');
  for (let i = 0; i < 10; i++) await server.sql.query('UPDATE items SET v = v + 1 WHERE id = $1', [ROWS + 1]);
  await waitUntil(
    async () => {
      const { logFloor } = await server.replicationHealth();
      return logFloor !== null && parseLsn(logFloor) > resumeLsn;
    },
    60_000,
    "the log's floor to pass the client's applied LSN",
  );

  // The restart. Staging transactions are slowed down so that reads get in between them.
  const observations: { fingerprint: string; state: string; staged: number }[] = [];
  const second = await start(async (work) => {
    if (work.kind === 'snapshot-chunks') await new Promise((r) => setTimeout(r, 150));
  });
  const statuses = recordStatuses(second);
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const fp = await fingerprint();
      observations.push({
        fingerprint: fp,
        state: second.status.state,
        staged: second.status.snapshot?.stagedRows ?? 0,
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await withTimeout(second.whenLive(), 120_000, () => `LIVE after the refetch (${statuses.describe()})`);
  await new Promise((r) => setTimeout(r, 500)); // a few reads of the new state
  reading = false;
  await reader;
  await expectSameAsServer();
  const fresh = await fingerprint();

  // MUST_REFETCH, then a new snapshot, then LIVE.
  const codes = statuses.entries.map((e) => e.status.error?.code);
  expect(codes).toContain(ErrorCode.MUST_REFETCH);
  const states = statuses.states();
  expect(states).toContain('SNAPSHOT');
  expect(states.at(-1)).toBe('LIVE');
  expect(second.status.appliedLsn).toBeGreaterThan(resumeLsn);

  // The gap's deletes are gone locally, the emptied table is empty, the counts are the server's.
  const count = async (sql: string) => (await localTextRows(local, sql))[0]![0];
  expect(await count('SELECT count(*)::text FROM items WHERE id <= 5000')).toBe('0');
  expect(await count('SELECT count(*)::text FROM tags')).toBe('0');
  expect(await count('SELECT count(*)::text FROM items')).toBe(String(ROWS - 5_000 + 2_000));

  // Every read saw the old state or the new one, never a mix; reads during the snapshot saw the old one.
  expect(fresh).not.toBe(old);
  const unexpected = observations.filter((o) => o.fingerprint !== old && o.fingerprint !== fresh);
  expect(unexpected).toEqual([]);
  const duringSnapshot = observations.filter((o) => o.state === 'SNAPSHOT' && o.staged > 0);
  expect(duringSnapshot.length).toBeGreaterThan(0);
  expect(duringSnapshot.every((o) => o.fingerprint === old)).toBe(true);
  const firstNew = observations.findIndex((o) => o.fingerprint === fresh);
  expect(firstNew).toBeGreaterThan(0);
  expect(observations.slice(firstNew).every((o) => o.fingerprint === fresh)).toBe(true);
}, 240_000);
