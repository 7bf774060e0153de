/**
 * Two clients with different scopes (docs/protocol.md §8.4 "Scope", FIELD-NOTES "every user got every row"): a
 * claim rule on an owner column (`owner_id = sub`), users u1 and u2 with their own tokens. Each client holds
 * exactly its user's rows — not other users' rows, not rows without an owner — and when a row changes owner
 * it leaves the old owner's client and arrives, complete (an unchanged TOASTed value included), at the new
 * owner's, live, without a reconnect or a new snapshot. Real Postgres, real Worker in workerd, two real PGlites.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses, type StatusLog } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { withTimeout } from './testing/wait.ts';

const COLUMNS = ['id', 'owner_id', 'title', 'body'];
const LOCAL_QUERY = textRowsQuery('public.notes', COLUMNS, 'id');
const serverQuery = (user: string) =>
  textRowsQuery(`(SELECT * FROM notes WHERE owner_id = '${user}') n`, COLUMNS, 'id');
const BIG = `big ${'b'.repeat(30_000)}`;

interface UserClient {
  readonly user: string;
  readonly local: PGlite;
  readonly client: SyncClient;
  readonly statuses: StatusLog;
}

let server: E2eServer;
const users: UserClient[] = [];

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE TABLE notes (id int PRIMARY KEY, owner_id text, title text NOT NULL, body text);
      ALTER TABLE notes ALTER COLUMN body SET STORAGE EXTERNAL;
      INSERT INTO notes SELECT g, CASE WHEN g % 4 = 0 THEN 'u1' WHEN g % 4 = 1 THEN 'u2'
        WHEN g % 4 = 2 THEN 'u3' END, 'note ' || g, 'body ' || g FROM generate_series(1, 2000) g`,
    scopes: [{ table: 'public.notes', rule: { kind: 'claim', column: 'owner_id', claim: 'sub' } }],
  });
  // A row of u1 with a value stored out of line, to move later by changing only its owner.
  await server.sql.query("INSERT INTO notes VALUES (5000, 'u1', 'big', $1)", [BIG]);
  for (const user of ['u1', 'u2']) {
    const local = await PGlite.create();
    const client = await createSyncClient({
      url: server.url,
      db: local,
      token: () => server.token(user),
      WebSocket: WebSocket as unknown as WebSocketFactory,
    });
    users.push({ user, local, client, statuses: recordStatuses(client) });
  }
}, 120_000);

afterAll(async () => {
  for (const u of users) {
    await u.client.stop();
    await u.local.close();
  }
  await server?.close();
}, 60_000);

const converges = (u: UserClient) =>
  expectConverges(
    () => localTextRows(u.local, LOCAL_QUERY),
    () => serverTextRows(server.sql, serverQuery(u.user)),
    60_000,
  );
const ids = async (u: UserClient) => (await localTextRows(u.local, LOCAL_QUERY)).map((r) => Number(r[0]));

it("each client holds exactly its own user's rows", async () => {
  for (const u of users) {
    await withTimeout(
      u.client.whenLive(),
      90_000,
      () => `${u.user}'s initial sync (${u.statuses.describe()})`,
    );
  }
  const [u1, u2] = users as [UserClient, UserClient];
  const rows1 = await converges(u1);
  const rows2 = await converges(u2);
  expect(rows1).toHaveLength(501);
  expect(rows2).toHaveLength(500);
  expect(rows1.every((r) => r[1] === 'u1')).toBe(true);
  expect(rows2.every((r) => r[1] === 'u2')).toBe(true);
  expect(rows1.find((r) => r[0] === '5000')?.[3]).toBe(BIG);
});

it('moves rows between the clients live when their owner changes', async () => {
  const [u1, u2] = users as [UserClient, UserClient];
  const marks = users.map((u) => u.statuses.mark());
  // u1 → u2, changing only the owner (the TOASTed body travels as unchanged in the new tuple).
  await server.sql.query("UPDATE notes SET owner_id = 'u2' WHERE id IN (4, 8, 5000)");
  // u2 → u1 with other columns changed in the same statement.
  await server.sql.query("UPDATE notes SET owner_id = 'u1', title = 'moved to u1' WHERE id IN (1, 5)");
  // u2 → u3 (leaves u2, reaches nobody), u3 → u1, NULL owner → u2.
  await server.sql.query("UPDATE notes SET owner_id = 'u3' WHERE id = 9");
  await server.sql.query("UPDATE notes SET owner_id = 'u1' WHERE id = 2");
  await server.sql.query("UPDATE notes SET owner_id = 'u2' WHERE id = 3");
  // Changes of other users' rows, and a row moving in and out within one transaction: invisible to both.
  await server.sql.query("UPDATE notes SET title = 'u3 only' WHERE owner_id = 'u3'");
  await server.sql.query(
    "BEGIN; UPDATE notes SET owner_id = 'u1' WHERE id = 6; UPDATE notes SET owner_id = 'u3' WHERE id = 6; COMMIT",
  );
  // A moved row changes again at its new owner, and a row moves twice (u1 → u2 → u1).
  await server.sql.query("UPDATE notes SET title = 'edited at u2' WHERE id = 8");
  await server.sql.query("UPDATE notes SET owner_id = 'u2' WHERE id = 12");
  await server.sql.query("UPDATE notes SET owner_id = 'u1' WHERE id = 12");

  const rows1 = await converges(u1);
  const rows2 = await converges(u2);
  const has = (rows: (string | null)[][], id: number) => rows.some((r) => r[0] === String(id));
  for (const id of [4, 8, 5000]) expect([has(rows1, id), has(rows2, id)]).toEqual([false, true]);
  for (const id of [1, 5, 2, 12]) expect([has(rows1, id), has(rows2, id)]).toEqual([true, false]);
  for (const id of [9, 6]) expect([has(rows1, id), has(rows2, id)]).toEqual([false, false]);
  expect([has(rows1, 3), has(rows2, 3)]).toEqual([false, true]);
  expect(rows2.find((r) => r[0] === '5000')?.[3]).toBe(BIG);
  expect(rows2.find((r) => r[0] === '8')?.[2]).toBe('edited at u2');
  expect(rows1.some((r) => r[2] === 'u3 only')).toBe(false);
  // u1 lost 4, 8, 5000 and gained 1, 5, 2; u2 gained 4, 8, 5000, 3 and lost 1, 5, 9.
  expect(await ids(u1)).toHaveLength(501 - 3 + 3);
  expect(await ids(u2)).toHaveLength(500 + 4 - 3);
  // Live all along: no reconnect, no snapshot.
  expect(users.map((u, i) => u.statuses.states(marks[i]))).toEqual([['LIVE'], ['LIVE']]);
}, 120_000);

it('removes a moved row from its new owner when it is deleted', async () => {
  const [u1, u2] = users as [UserClient, UserClient];
  await server.sql.query('DELETE FROM notes WHERE id IN (4, 5000, 1)');
  const rows1 = await converges(u1);
  const rows2 = await converges(u2);
  expect(rows1.some((r) => r[0] === '1')).toBe(false);
  expect(rows2.some((r) => r[0] === '4' || r[0] === '5000')).toBe(false);
}, 60_000);
