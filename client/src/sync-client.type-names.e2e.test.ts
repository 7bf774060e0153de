/**
 * Types whose names are not plain identifiers, end to end (docs/protocol.md §5: the client creates its tables
 * from the Relation's type names): an enum in another schema than `public` (`app.level`, `format_type` qualifies
 * it), an enum whose name needs quotes (`"Priority"`), the `"char"` type, and type modifiers in the middle of a
 * name (`timestamp(3) with time zone`, `time(2) without time zone`). The client must create such columns with
 * their own type — only a type the local database cannot have is stored as text — and sync their values.
 * Real Postgres, real Worker in workerd, real PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses, type StatusLog } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { waitUntil } from './testing/wait.ts';

/** Column name → the type it has on the server, which the local column should have too. */
const TYPES: Record<string, string> = {
  level: 'app.level',
  prio: '"Priority"',
  flag: '"char"',
  at3: 'timestamp(3) with time zone',
  t2: 'time(2) without time zone',
};
const COLUMNS = ['id', ...Object.keys(TYPES)];

let server: E2eServer;
let local: PGlite;
let client: SyncClient | undefined;
let statuses: StatusLog;

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE SCHEMA app;
      CREATE TYPE app.level AS ENUM ('low', 'high');
      CREATE TYPE "Priority" AS ENUM ('Later', 'Now');
      CREATE TABLE app.tasks (id int PRIMARY KEY, level app.level, prio "Priority", flag "char",
        at3 timestamptz(3), t2 time(2));
      INSERT INTO app.tasks VALUES (1, 'low', 'Now', 'a', '2024-01-01 00:00:00.1234+00', '12:00:00.126'),
        (2, 'high', 'Later', 'z', 'infinity', '23:59:59.99'), (3, NULL, NULL, NULL, NULL, NULL)`,
    scopes: [{ table: 'app.tasks', rule: { kind: 'shared' } }],
  });
  local = await PGlite.create();
}, 120_000);

afterAll(async () => {
  await client?.stop();
  await local?.close();
  await server?.close();
}, 60_000);

it('syncs a table in its own schema whose columns have qualified, quoted and modified type names', async () => {
  client = await createSyncClient({
    url: server.url,
    db: local,
    token: () => server.token('u1'),
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  statuses = recordStatuses(client);
  // Fail early and with the client's error when it fails instead of going LIVE.
  await waitUntil(
    () => {
      const failed = statuses.entries.find((e) => e.status.error !== undefined);
      return client!.status.state === 'LIVE' || (failed !== undefined && Date.now() - failed.at > 5_000);
    },
    90_000,
    () => `LIVE or a failure (${statuses.describe()})`,
  );
  expect({ state: client.status.state, error: client.status.error?.message }).toEqual({
    state: 'LIVE',
    error: undefined,
  });
  const query = textRowsQuery('app.tasks', COLUMNS, 'id');
  await expectConverges(
    () => localTextRows(local, query),
    () => serverTextRows(server.sql, query),
    30_000,
  );
  await server.sql.query("UPDATE app.tasks SET level = 'high', prio = 'Now', flag = 'q' WHERE id = 3");
  await expectConverges(
    () => localTextRows(local, query),
    () => serverTextRows(server.sql, query),
    30_000,
  );
}, 180_000);

it('creates the local columns with those types, not as text', async () => {
  const { rows } = await local.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass('app.tasks') AND attnum > 1 AND NOT attisdropped ORDER BY attnum`,
  );
  expect(Object.fromEntries(rows.map((r) => [r.name, r.type]))).toEqual(TYPES);
});
