// @vitest-environment happy-dom
// @vitest-environment-options {"settings": {"fetch": {"disableSameOriginPolicy": true}}}
/**
 * The React bindings end to end: real Postgres, the real Worker in workerd, the real sync client and a real
 * PGlite with live queries. A component shows the sync status and the synced rows (a live query and a keyed
 * live query); the test writes on the server and watches the rendered DOM follow.
 *
 * happy-dom replaces the global `fetch` with its own, which would apply the browser's same-origin policy to the
 * harness's calls to the Worker (health check, dev token) from its `http://localhost:3000` page; the options
 * above turn that off.
 */

import nodeConsole from 'node:console';
import { PGlite } from '@electric-sql/pglite';
import { live } from '@electric-sql/pglite/live';
import {
  createTestDatabase,
  startWranglerDev,
  type TestDatabase,
  type WranglerDev,
} from '@vibestack/server/dev';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { ClientState } from '../core/client-types.ts';
import { createSyncClient, type SyncClient, type WebSocketFactory } from '../sync-client.ts';
import { SyncProvider } from './sync-provider.tsx';
import { render, texts, waitFor } from './testing/render.tsx';
import { useLiveIncrementalQuery, useLiveQuery } from './use-live-query.ts';
import { useSyncStatus } from './use-sync-status.ts';

const SECRET = 'react-e2e-secret';
let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query(`CREATE TABLE todos (id int PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false);
    INSERT INTO todos (id, title) VALUES (1, 'milk'), (2, 'eggs'), (3, 'bread');`);
  // happy-dom's fetch logs each refused connection of the harness's health polling while workerd boots, to
  // Node's own console (captured before vitest put its console in the global object).
  const log = nodeConsole.error.bind(nodeConsole);
  const quiet = vi.spyOn(nodeConsole, 'error').mockImplementation((...args: unknown[]) => {
    if ((args[0] as { code?: unknown } | undefined)?.code !== 'ECONNREFUSED') log(...args);
  });
  try {
    worker = await startWranglerDev({
      vars: {
        DATABASE_URL: db.url,
        JWT_SECRET: SECRET,
        VIBESTACK_DEV: '1',
        SYNC_SCOPES: JSON.stringify([{ table: 'public.todos', rule: { kind: 'shared' } }]),
      },
    });
  } finally {
    quiet.mockRestore();
  }
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await sql?.end();
  await db?.drop();
});

async function token(): Promise<string> {
  const r = await fetch(`${worker.url}/dev/token?sub=u1`);
  return ((await r.json()) as { token: string }).token;
}

interface Todo {
  id: number;
  title: string;
  done: boolean;
}

/** Every state the app rendered, in order (without repeats). */
const rendered: ClientState[] = [];

function App() {
  const { state, error: syncError } = useSyncStatus();
  if (rendered.at(-1) !== state) rendered.push(state);
  // The synced table exists locally once the first snapshot is committed.
  const synced = useSyncStatus((s) => s.appliedLsn > 0n);
  const all = useLiveQuery<Todo>(synced ? 'SELECT id, title, done FROM todos ORDER BY id' : null);
  const open = useLiveIncrementalQuery<Todo>(
    synced ? 'SELECT id, title FROM todos WHERE NOT done ORDER BY title' : null,
    [],
    'id',
  );
  return (
    <main>
      <p id="state">{state}</p>
      <p id="errors">{[syncError, all.error, open.error].map((e) => e?.message ?? '').join('')}</p>
      <ul id="all">
        {all.rows.map((t) => (
          <li key={t.id}>
            {t.id} {t.title}
            {t.done ? ' (done)' : ''}
          </li>
        ))}
      </ul>
      <ul id="open">
        {open.rows.map((t) => (
          <li key={t.id}>{t.title}</li>
        ))}
      </ul>
    </main>
  );
}

it('renders the synced rows once LIVE and follows inserts, updates and deletes made on the server', async () => {
  const local = await PGlite.create({ extensions: { live } });
  const client: SyncClient = await createSyncClient({
    url: worker.url,
    db: local,
    token: () => token(),
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  const view = await render(
    <SyncProvider client={client} db={local}>
      <App />
    </SyncProvider>,
  );
  const $ = (selector: string) => texts(view.container, selector);
  try {
    await waitFor(() => {
      expect($('#state')).toEqual(['LIVE']);
      expect($('#all li')).toEqual(['1 milk', '2 eggs', '3 bread']);
      expect($('#open li')).toEqual(['bread', 'eggs', 'milk']);
    }, 60_000);
    expect(rendered[0]).not.toBe('LIVE'); // the status was followed from the start, not read once
    expect($('#errors')).toEqual(['']);

    await sql.query("INSERT INTO todos (id, title) VALUES (4, 'apples')");
    await waitFor(() => {
      expect($('#all li')).toEqual(['1 milk', '2 eggs', '3 bread', '4 apples']);
      expect($('#open li')).toEqual(['apples', 'bread', 'eggs', 'milk']);
    }, 20_000);

    await sql.query(
      "UPDATE todos SET done = true WHERE id = 2; UPDATE todos SET title = 'oat milk' WHERE id = 1",
    );
    await waitFor(() => {
      expect($('#all li')).toEqual(['1 oat milk', '2 eggs (done)', '3 bread', '4 apples']);
      expect($('#open li')).toEqual(['apples', 'bread', 'oat milk']);
    }, 20_000);

    // One server transaction that deletes a row and inserts one in its place in the keyed query's order.
    await sql.query(
      "BEGIN; DELETE FROM todos WHERE id = 3; INSERT INTO todos (id, title) VALUES (5, 'butter'); COMMIT",
    );
    await waitFor(() => {
      expect($('#all li')).toEqual(['1 oat milk', '2 eggs (done)', '4 apples', '5 butter']);
      expect($('#open li')).toEqual(['apples', 'butter', 'oat milk']);
    }, 20_000);
    expect($('#state')).toEqual(['LIVE']);
    expect($('#errors')).toEqual(['']);
  } finally {
    await view.unmount();
    await client.stop();
    await local.close();
  }
}, 180_000);
