/**
 * The `@neondatabase/serverless` driver inside real workerd (`DB_DRIVER=neon`): the Durable Objects' Postgres
 * sessions — replication (slot, pgoutput reads, slot advance) and the snapshot — go over a WebSocket to the
 * local WebSocket→TCP relay (the stand-in for Neon's proxy, configured with the `NEON_*` variables), and a
 * client's initial sync and live changes come out right: its replica equals the database, every transaction
 * once, in order. (`/health` probes on the ReplicationDO's session, so through the relay too.)
 */
import { type ServerMessage, SyncMode } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWsTcpRelay, type WsTcpRelay } from '../db/testing/ws-tcp-relay.ts';
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
import { createReplica, diffWithDatabase } from '../testing/replica.ts';

const SECRET = 'neon-secret';
const SEED_ROWS = 3_000;

let db: TestDatabase;
let sql: pg.Client;
let relay: WsTcpRelay;
let worker: WranglerDev;
let writer: ItemsWriter | undefined;
let client: ProtocolClient | undefined;

/** Backends of this database opened by the Worker's SQL driver (`application_name = 'vibestack'`). */
async function workerSessions(): Promise<number> {
  const { rows } = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'vibestack'",
  );
  return rows[0]!.n;
}

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, SEED_ROWS);
  relay = await startWsTcpRelay();
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: ITEMS_SCOPES,
      DB_DRIVER: 'neon',
      NEON_WS_PROXY: relay.wsProxy,
      NEON_USE_SECURE_WEBSOCKET: 'false',
      NEON_PIPELINE_TLS: 'false',
      NEON_PIPELINE_CONNECT: 'false',
    },
  });
}, 90_000);

afterAll(async () => {
  await writer?.stop().catch(() => undefined);
  client?.terminate();
  await worker?.stop();
  await relay?.close();
  await sql?.end();
  await db?.drop();
}, 60_000);

it('syncs a snapshot and live changes over the neon driver, through the WebSocket relay', async () => {
  const { token } = (await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string };
  client = await connectProtocolClient(worker.url, {
    clientId: 'neon-1',
    token,
    initialCredit: 1024,
    autoAck: true,
  });
  const welcome = await client.waitFor(is('welcome'), 30_000);
  expect(welcome.message.case === 'welcome' && welcome.message.value.mode).toBe(SyncMode.INITIAL);
  await client.waitFor(is('snapshotEnd'), 30_000);
  const snapshot = createReplica();
  snapshot.applyConnection(client.frames.map((f) => f.message));
  expect(snapshot.tables.get('public.items')?.rows.size).toBe(SEED_ROWS);

  // Live: the ReplicationDO reads pgoutput through the relay.
  writer = await startItemsWriter(db.url);
  await writer.advance(100);
  const committed = await writer.stop();
  writer = undefined;
  await sql.query("INSERT INTO items VALUES (-1, 0, 'marker')");
  await client.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === -1n,
      ),
    60_000,
  );

  const replica = createReplica();
  replica.applyConnection(client.frames.map((f) => f.message));
  const lsns = replica.commits.map((c) => c.commitLsn);
  expect(lsns.every((lsn, i) => i === 0 || lsn > lsns[i - 1]!)).toBe(true);
  expect(replica.commits.length).toBe(committed + 1);
  expect(await diffWithDatabase(sql, replica, 'public.items')).toMatchObject({
    missing: [],
    extra: [],
    different: [],
  });
  const health = (await (await fetch(`${worker.url}/health`)).json()) as Record<string, unknown>;
  expect(health).toMatchObject({ status: 'ok', replication: { status: 'ok', lastError: null } });

  // At least the ReplicationDO's session and the snapshot's came through the relay…
  expect(relay.connections()).toBeGreaterThanOrEqual(2);
  // …and no session of the Worker's driver (application_name `vibestack`; this test's clients set none)
  // bypasses it: closing the relay ends every one of them, the ReplicationDO's open one too.
  expect(await workerSessions()).toBeGreaterThanOrEqual(1);
  await relay.close();
  await waitUntil(
    async () => (await workerSessions()) === 0,
    15_000,
    'the Worker sessions to end with the relay',
  );
}, 120_000);
