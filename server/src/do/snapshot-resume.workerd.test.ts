/**
 * Resuming an interrupted initial sync (docs/protocol.md §6.5) in real workerd against real Postgres: a client
 * stops mid-snapshot, workerd is killed and restarted on the same storage while rows keep changing, and the client
 * reconnects with its snapshot cursor. The server continues the snapshot (`resumed: true`, only rows after the
 * cursor), and the rows staged before and after the interruption plus the handoff converge on the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotChunk } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';
import { createReplica, diffWithDatabase } from '../testing/replica.ts';

const SECRET = 'snapshot-resume-secret';
const ROWS = 20_000;
let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;
let persistTo: string;
const clients: ProtocolClient[] = [];

const vars = () => ({
  DATABASE_URL: db.url,
  JWT_SECRET: SECRET,
  VIBESTACK_DEV: '1',
  SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
});

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)');
  await sql.query(`INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, ${ROWS}) g`);
  persistTo = mkdtempSync(join(tmpdir(), 'vibestack-resume-'));
  worker = await startWranglerDev({ vars: vars(), persistTo });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

async function tokenFor(sub: string): Promise<string> {
  const r = await fetch(`${worker.url}/dev/token?sub=${sub}`);
  return ((await r.json()) as { token: string }).token;
}

/** Waits until no frame arrived for `quietMs`. */
async function settle(c: ProtocolClient, quietMs = 1_000): Promise<void> {
  for (let seen = -1; seen !== c.frames.length; ) {
    seen = c.frames.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

/** Rows changed on both sides of the cursor, deleted, re-inserted and added. */
async function churn(round: number): Promise<void> {
  await sql.query('UPDATE items SET v = v + 1, note = $1 WHERE id % 97 = $2', [`round ${round}`, round]);
  await sql.query('DELETE FROM items WHERE id % 101 = $1', [round]);
  await sql.query("INSERT INTO items SELECT g, $1, 'new' FROM generate_series($2::int, $2::int + 49) g", [
    round,
    ROWS + 1 + round * 100,
  ]);
  await sql.query(
    "INSERT INTO items VALUES ($1, -1, 'back') ON CONFLICT (id) DO UPDATE SET note = 'back again'",
    [101 + round],
  );
}

const chunksOf = (c: ProtocolClient): SnapshotChunk[] =>
  c.frames.flatMap(({ message: m }) => (m.message.case === 'snapshotChunk' ? [m.message.value] : []));

it('continues an interrupted snapshot after a workerd restart, converging on the database', async () => {
  // A client that grants no credit stops after a few chunks: the snapshot is interrupted mid-table.
  const first = await connectProtocolClient(worker.url, {
    clientId: 'resume-1',
    token: await tokenFor('u1'),
    initialCredit: 6,
    manualCredit: true,
  });
  clients.push(first);
  const begin = await first.waitFor((m) => m.message.case === 'snapshotBegin', 20_000);
  await settle(first);
  const staged = chunksOf(first);
  expect(staged.length).toBeGreaterThan(0);
  expect(staged.at(-1)!.lastInTable).toBe(false);
  const snapshotId = begin.message.case === 'snapshotBegin' ? begin.message.value.snapshotId : '';
  const cursor = staged.at(-1)!.cursor;
  const lastStagedKey = Number(staged.at(-1)!.rows.at(-1)!.values[0]!.kind.value);

  await churn(1);
  first.terminate();
  // Kill workerd outright (no graceful shutdown) and start it again on the same storage.
  process.kill(-worker.pid, 'SIGKILL');
  await worker.exited;
  await churn(2);
  worker = await startWranglerDev({ vars: vars(), persistTo });
  await churn(3);

  const second = await connectProtocolClient(worker.url, {
    clientId: 'resume-1',
    token: await tokenFor('u1'),
    sendHello: false,
    autoAck: true,
  });
  clients.push(second);
  second.send({
    case: 'hello',
    value: {
      protocolVersions: [1],
      authToken: await tokenFor('u1'),
      clientId: 'resume-1',
      resumeLsn: 0n,
      snapshotResume: { snapshotId, cursor },
      initialCredit: 1024,
    },
  });
  const resumed = await second.waitFor((m) => m.message.case === 'snapshotBegin', 30_000);
  expect(resumed.message.case === 'snapshotBegin' && resumed.message.value).toMatchObject({
    snapshotId,
    resumed: true,
  });
  const end = await second.waitFor((m) => m.message.case === 'snapshotEnd', 60_000);
  await churn(4);
  await sql.query("INSERT INTO items VALUES (0, 0, 'end marker')");
  await second.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === 0n,
      ),
    30_000,
  );

  // Only rows after the cursor were sent again; the row counts include the rows staged before.
  const rest = chunksOf(second);
  expect(Number(rest[0]!.rows[0]!.values[0]!.kind.value)).toBeGreaterThan(lastStagedKey);
  const chunkRows = [...staged, ...rest].reduce((n, c) => n + c.rows.length, 0);
  expect(end.message.case === 'snapshotEnd' && end.message.value.rowCounts).toEqual([BigInt(chunkRows)]);

  // Staged rows from before the interruption, then everything after, give the database's rows.
  const replica = createReplica();
  replica.applyConnection(first.frames.map((f) => f.message));
  replica.applyConnection(second.frames.map((f) => f.message));
  const diff = await diffWithDatabase(sql, replica, 'public.items');
  expect(diff).toMatchObject({ missing: [], extra: [], different: [] });
  expect(diff.replicaRows).toBe(diff.databaseRows);
  second.close();
}, 180_000);

it('starts a new snapshot when the presented one cannot be continued', async () => {
  const c = await connectProtocolClient(worker.url, {
    clientId: 'resume-2',
    token: await tokenFor('u1'),
    sendHello: false,
  });
  clients.push(c);
  c.send({
    case: 'hello',
    value: {
      protocolVersions: [1],
      authToken: await tokenFor('u1'),
      clientId: 'resume-2',
      resumeLsn: 0n,
      snapshotResume: { snapshotId: 'not-a-snapshot-of-this-client', cursor: chunksOfCursor() },
      initialCredit: 1024,
    },
  });
  const begin = await c.waitFor((m) => m.message.case === 'snapshotBegin', 30_000);
  expect(begin.message.case === 'snapshotBegin' && begin.message.value.resumed).toBe(false);
  c.close();
}, 60_000);

/** A well-formed cursor of our own (any will do: the snapshot id is unknown). */
function chunksOfCursor(): Uint8Array {
  const staged = chunksOf(clients[0]!);
  return staged.at(-1)!.cursor;
}
