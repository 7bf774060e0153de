/**
 * No loss, no duplication across the snapshot/stream handoff (FIELD-NOTES §1), in real workerd against real
 * Postgres: a client runs its initial sync while another connection keeps inserting, updating and deleting rows.
 * The client applies what it receives exactly as the protocol says; at the end its rows equal the database's.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { connectProtocolClient } from '../testing/protocol-client.ts';
import { createReplica, diffWithDatabase } from '../testing/replica.ts';

const SECRET = 'handoff-secret';
let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)');
  await sql.query("INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, 30000) g");
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
    },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await sql?.end();
  await db?.drop();
});

it('a snapshot taken while rows change converges on the database, with no transaction twice', async () => {
  const token = ((await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string }).token;
  let writing = true;
  let writes = 0;
  const writer = (async () => {
    const w = new pg.Client({ connectionString: db.url });
    await w.connect();
    let next = 30_001;
    while (writing) {
      const id = 1 + Math.floor(Math.random() * 30_000);
      const op = writes % 3;
      if (op === 0)
        await w.query('UPDATE items SET v = v + 1, note = $2 WHERE id = $1', [id, `upd ${writes}`]);
      else if (op === 1) await w.query("INSERT INTO items VALUES ($1, 1, 'new')", [next++]);
      else await w.query('DELETE FROM items WHERE id = $1', [id]);
      writes++;
    }
    await w.end();
  })();
  await new Promise((r) => setTimeout(r, 100));
  const client = await connectProtocolClient(worker.url, {
    clientId: 'handoff-1',
    token,
    initialCredit: 1024,
  });
  await client.waitFor((m) => m.message.case === 'snapshotEnd', 60_000);
  // Keep writing a little after the snapshot, then stop and mark the end.
  await new Promise((r) => setTimeout(r, 500));
  writing = false;
  await writer;
  await sql.query("INSERT INTO items VALUES (0, 0, 'end marker')");
  await client.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === 0n,
      ),
    30_000,
  );
  const replica = createReplica();
  replica.applyConnection(client.frames.map((f) => f.message));
  const commits: bigint[] = [];
  let afterEnd = false;
  for (const { message } of client.frames) {
    if (message.message.case === 'snapshotEnd') afterEnd = true;
    if (afterEnd && message.message.case === 'transaction' && message.message.value.frameIndex === 0) {
      commits.push(message.message.value.commitLsn);
    }
  }
  client.close();
  expect(writes).toBeGreaterThan(50);
  // Strictly increasing after SnapshotEnd: no transaction twice, none out of order.
  expect(commits.every((lsn, i) => i === 0 || lsn > commits[i - 1]!)).toBe(true);
  const diff = await diffWithDatabase(sql, replica, 'public.items');
  expect(diff).toMatchObject({ missing: [], extra: [], different: [] });
  expect(diff.replicaRows).toBe(diff.databaseRows);
}, 120_000);
