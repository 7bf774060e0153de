/**
 * workerd crashes (SIGKILL of the whole wrangler/workerd process group) while a client streams, in real workerd
 * against real Postgres, with Durable Object storage persisted across the crash. The client acks what it
 * applies; after the restart it resumes from its last ack and must get every transaction it lacks exactly once
 * (docs/protocol.md §8.9), without a new snapshot — also the transactions committed while workerd was down (the
 * ReplicationDO's backlog in the slot) and those logged but not delivered before the crash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Lsn, parseLsn, type ServerMessage, SyncMode } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import {
  createItemsTable,
  ITEMS_SCOPES,
  type ItemsWriter,
  startItemsWriter,
  waitUntil,
} from '../testing/items-writer.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';
import { createReplica, diffWithDatabase, type Replica } from '../testing/replica.ts';

const SECRET = 'restart-secret';
const CLIENT_ID = 'restart-1';
const SEED_ROWS = 2_000;

let db: TestDatabase;
let sql: pg.Client;
let persistTo: string;
let worker: WranglerDev | undefined;
let writer: ItemsWriter | undefined;
/** Every writer started, stopped (again) in afterAll. */
const writers: ItemsWriter[] = [];

async function startWriter(pauseMs?: number): Promise<ItemsWriter> {
  const w = await startItemsWriter(db.url, pauseMs === undefined ? {} : { pauseMs });
  writers.push(w);
  return w;
}
const clients: ProtocolClient[] = [];
/** Shared by the tests, in order: the client's local state across all its connections. */
const replica: Replica = createReplica();
/** Marker rows (negative ids) committed so far: one transaction each. */
let markers = 0;
/** Transactions that must have reached the client: writer commits and markers. */
let expectedTransactions = 0;
/** `Hello.resume_lsn` of each connection, in order. */
const resumes: Lsn[] = [];

const start = () =>
  startWranglerDev({
    persistTo,
    vars: { DATABASE_URL: db.url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: ITEMS_SCOPES },
  });

async function connect(resumeLsn: Lsn): Promise<ProtocolClient> {
  const url = worker!.url;
  const { token } = (await (await fetch(`${url}/dev/token?sub=u1`)).json()) as { token: string };
  const client = await connectProtocolClient(url, {
    clientId: CLIENT_ID,
    token,
    resumeLsn,
    initialCredit: 1024,
    autoAck: true,
  });
  clients.push(client);
  resumes.push(resumeLsn);
  return client;
}

const completeTransactions = (c: ProtocolClient) =>
  c.frames.filter((f) => f.message.message.case === 'transaction' && !f.message.message.value.hasMore).length;

const currentLsn = async () =>
  parseLsn(
    (await sql.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn,
  );

/** Commits one marker row and waits until `client` has received it (so everything before it too). */
async function commitMarkerAndWait(client: ProtocolClient): Promise<void> {
  const id = -++markers;
  await sql.query("INSERT INTO items VALUES ($1, 0, 'marker')", [id]);
  expectedTransactions++;
  await client.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === BigInt(id),
      ),
    60_000,
  );
}

function welcomeMode(client: ProtocolClient): SyncMode | undefined {
  const w = client.frames.find((f) => f.message.message.case === 'welcome')?.message.message;
  return w?.case === 'welcome' ? w.value.mode : undefined;
}

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

/** Every transaction once, in commit order, over all connections; each connection's above its resume LSN. */
function expectExactlyOnce(): void {
  const lsns = replica.commits.map((c) => c.commitLsn);
  const outOfOrder = lsns.findIndex((lsn, i) => i > 0 && lsn <= lsns[i - 1]!);
  expect(outOfOrder, `commit LSNs not strictly increasing at ${outOfOrder}`).toBe(-1);
  for (const c of replica.commits) {
    expect(c.commitLsn).toBeGreaterThan(resumes[c.connection]!);
  }
  expect(replica.commits.length).toBe(expectedTransactions);
}

async function expectReplicaEqualsDatabase(): Promise<void> {
  expect(await diffWithDatabase(sql, replica, 'public.items')).toMatchObject({
    missing: [],
    extra: [],
    different: [],
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, SEED_ROWS);
  persistTo = mkdtempSync(join(tmpdir(), 'vibestack-restart-'));
  worker = await start();
}, 90_000);

afterAll(async () => {
  for (const w of writers) await w.stop().catch(() => undefined);
  for (const c of clients) c.terminate();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
}, 60_000);

it('resumes after workerd is SIGKILLed mid-stream: nothing twice, nothing lost, no new snapshot', async () => {
  const first = await connect(0n);
  await first.waitFor(is('snapshotEnd'), 30_000);
  const snapshotEnd = first.frames.length;
  writer = await startWriter();
  await waitUntil(
    () => completeTransactions(first) >= 30,
    30_000,
    'the client to receive 30 live transactions',
  );

  // The crash: no shutdown, no close frame; the writer keeps going.
  await worker!.kill();
  worker = undefined;
  expect((await first.closed).code).toBe(1006);
  const downLsn = await currentLsn();
  await writer.advance(30); // a backlog in the slot that nobody reads
  const upLsn = await currentLsn();

  const resume = first.ackedLsn();
  replica.applyConnection(first.frames.map((f) => f.message));
  // The client acked exactly what it applied.
  expect(replica.appliedLsn()).toBe(resume);
  expect(first.frames.slice(snapshotEnd).some((f) => f.message.message.case === 'snapshotBegin')).toBe(false);

  worker = await start();
  const second = await connect(resume);
  await second.waitFor(is('welcome'), 30_000);
  expect([SyncMode.CATCH_UP, SyncMode.LIVE]).toContain(welcomeMode(second));
  await writer.advance(20); // live again
  expectedTransactions += await writer.stop();
  writer = undefined;
  await commitMarkerAndWait(second);
  expect(second.frames.some((f) => f.message.message.case === 'snapshotBegin')).toBe(false);

  replica.applyConnection(second.frames.map((f) => f.message));
  // Transactions that committed while workerd was down arrived after the restart.
  const backlog = replica.commits.filter(
    (c) => c.connection === 1 && c.commitLsn > downLsn && c.commitLsn < upLsn,
  );
  expect(backlog.length).toBeGreaterThanOrEqual(30);
  expectExactlyOnce();
  await expectReplicaEqualsDatabase();
  second.close();
}, 120_000);

it('delivers a logged-but-undelivered log and a slot backlog after a crash while the client was away', async () => {
  const resume = replica.appliedLsn();
  // Logged while the client is away: the change log (DO storage) holds transactions nobody received.
  writer = await startWriter(0);
  await writer.advance(100);
  expectedTransactions += await writer.stop();
  writer = undefined;
  const loggedThrough = await currentLsn();
  await waitUntil(
    async () => {
      const body = (await (await fetch(`${worker!.url}/health`)).json()) as {
        replication?: { lastDurableLsn: string | null };
      };
      const durable = body.replication?.lastDurableLsn;
      return durable !== null && durable !== undefined && parseLsn(durable) >= loggedThrough - 1n;
    },
    30_000,
    'the change log to hold the writes',
  );

  await worker!.kill();
  worker = undefined;
  // While workerd is down: small transactions and one large one (several frames of 1 000 changes).
  writer = await startWriter(0);
  await writer.advance(100);
  expectedTransactions += await writer.stop();
  writer = undefined;
  await sql.query('UPDATE items SET v = v + 1 WHERE id > 0');
  expectedTransactions++;

  worker = await start();
  const third = await connect(resume);
  await third.waitFor(is('welcome'), 30_000);
  // The log already held transactions after `resume` when the Hello came.
  expect(welcomeMode(third)).toBe(SyncMode.CATCH_UP);
  await commitMarkerAndWait(third);
  expect(third.frames.some((f) => f.message.message.case === 'snapshotBegin')).toBe(false);
  replica.applyConnection(third.frames.map((f) => f.message));
  const large = third.frames.filter(
    (f) => f.message.message.case === 'transaction' && f.message.message.value.hasMore,
  );
  expect(large.length).toBeGreaterThan(0);
  expectExactlyOnce();
  await expectReplicaEqualsDatabase();
  third.close();
}, 120_000);
