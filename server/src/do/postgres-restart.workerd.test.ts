/**
 * Postgres restarts under a running Worker (real workerd, a dedicated embedded Postgres cluster that this test
 * stops and starts): while it is down `/health` reports it; once it is back (same data directory and port) the
 * ReplicationDO resumes from its slot and a LIVE client gets every transaction exactly once — those committed
 * just before the shutdown and those after the restart — on its connection, or after a reconnect with resume.
 */
import { rmSync } from 'node:fs';
import { type Lsn, type ServerMessage, SyncMode } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PG_TEST_SETTINGS, TEST_CLUSTER_PREFIX } from '../constants.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../node/embedded-pg.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES, startItemsWriter, waitUntil } from '../testing/items-writer.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';
import { createReplica, diffWithDatabase } from '../testing/replica.ts';

const SECRET = 'pg-restart-secret';
const DATABASE = 'vibestack_restart';
// The shared test cluster's naming, with this worker process's id: a run killed midway leaves a cluster that
// the next run's global setup removes.
const CLUSTER = `${TEST_CLUSTER_PREFIX}${process.pid}`;

let cluster: EmbeddedPostgres | undefined;
let dataDir: string | undefined;
let url: string;
let worker: WranglerDev;
const clients: ProtocolClient[] = [];
const closed = new Set<ProtocolClient>();

const startCluster = (port?: number) =>
  startEmbeddedPostgres({ name: CLUSTER, settings: PG_TEST_SETTINGS, ...(port ? { port } : {}) });

async function withSql<T>(use: (sql: pg.Client) => Promise<T>): Promise<T> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    return await use(sql);
  } finally {
    await sql.end();
  }
}

async function connect(resumeLsn: Lsn): Promise<ProtocolClient> {
  const { token } = (await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string };
  const client = await connectProtocolClient(worker.url, {
    clientId: 'pg-restart-1',
    token,
    resumeLsn,
    initialCredit: 1024,
    autoAck: true,
    answerPings: true,
  });
  void client.closed.then(() => closed.add(client));
  clients.push(client);
  return client;
}

interface Health {
  status: string;
  database: { reachable: boolean };
  replication?: { status: string; lastError: string | null };
}

async function health(): Promise<{ http: number; body: Health }> {
  const response = await fetch(`${worker.url}/health`);
  return { http: response.status, body: (await response.json()) as Health };
}

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;
const insertOf = (id: number) => (m: ServerMessage) =>
  m.message.case === 'transaction' &&
  m.message.value.changes.some(
    (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === BigInt(id),
  );

beforeAll(async () => {
  cluster = await startCluster();
  dataDir = cluster.dataDir;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  url = cluster.connectionFor(DATABASE).url;
  await withSql((sql) => createItemsTable(sql, 500));
  worker = await startWranglerDev({
    vars: { DATABASE_URL: url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: ITEMS_SCOPES },
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await worker?.stop();
  await cluster?.stop();
  if (dataDir) {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.log`, { force: true });
  }
}, 60_000);

it('keeps syncing across a Postgres restart: /health reports the outage, nothing is lost or repeated', async () => {
  let expected = 0;
  let client = await connect(0n);
  await client.waitFor(is('snapshotEnd'), 30_000);
  const port = cluster!.port;

  // Writes right before the shutdown: some may not be read from the slot before Postgres goes away.
  const before = await startItemsWriter(url);
  await before.advance(50);
  expected += await before.stop();
  await cluster!.stop(); // fast shutdown (SIGINT)
  cluster = undefined;

  // The poll's failure shows at once (replication_error); the database probe is cached up to HEALTH_CACHE_MS.
  await waitUntil(
    async () => (await health()).body.database.reachable === false,
    20_000,
    '/health to report the outage',
  );
  const down = await health();
  expect(down.http).toBe(503);
  expect(down.body).toMatchObject({ status: 'degraded', database: { reachable: false } });

  cluster = await startCluster(port);
  expect(cluster.port, 'Postgres came back on another port').toBe(port);
  const after = await startItemsWriter(url);
  await after.advance(50);
  expected += await after.stop();
  await withSql((sql) => sql.query("INSERT INTO items VALUES (-1, 0, 'marker')"));
  expected++;

  // The server may keep the connection or close it; a closed client reconnects from what it acked (§8.9).
  for (;;) {
    try {
      await client.waitFor(insertOf(-1), 60_000);
      break;
    } catch (error) {
      if (!closed.has(client)) throw error;
      client = await connect(client.ackedLsn());
      await client.waitFor(is('welcome'), 30_000);
    }
  }

  const replica = createReplica();
  for (const [i, c] of clients.entries()) {
    replica.applyConnection(c.frames.map((f) => f.message));
    if (i > 0) {
      // A reconnect resumed: no new snapshot.
      expect(c.frames.some((f) => f.message.message.case === 'snapshotBegin')).toBe(false);
      const w = c.frames[0]?.message.message;
      expect(w?.case === 'welcome' && [SyncMode.CATCH_UP, SyncMode.LIVE].includes(w.value.mode)).toBe(true);
    }
  }
  const lsns = replica.commits.map((c) => c.commitLsn);
  const outOfOrder = lsns.findIndex((lsn, i) => i > 0 && lsn <= lsns[i - 1]!);
  expect(outOfOrder, `commit LSNs not strictly increasing at ${outOfOrder}`).toBe(-1);
  expect(replica.commits.length).toBe(expected);
  await withSql(async (sql) =>
    expect(await diffWithDatabase(sql, replica, 'public.items')).toMatchObject({
      missing: [],
      extra: [],
      different: [],
    }),
  );

  await waitUntil(
    async () => {
      const { body } = await health();
      return body.status === 'ok' && body.replication?.status === 'ok';
    },
    30_000,
    '/health to return to ok',
  );
  const up = await health();
  expect(up.http).toBe(200);
  expect(up.body).toMatchObject({
    status: 'ok',
    database: { reachable: true },
    replication: { lastError: null },
  });
}, 150_000);
