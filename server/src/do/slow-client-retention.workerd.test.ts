/**
 * A connected slow client whose next transaction leaves the change log must get MUST_REFETCH (docs/protocol.md
 * §8.9, §10.4), never a gap: a LIVE client that stops granting credit while its transactions commit and are
 * dropped by retention, then grants credit again. Real workerd, real Postgres, a tiny `LOG_RETENTION_BYTES`.
 */
import { ErrorCode, parseLsn, type ServerMessage } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES } from '../testing/items-writer.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';

let db: TestDatabase;
let sql: pg.Client;
let worker: WranglerDev;
const clients: ProtocolClient[] = [];

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

async function token(sub: string): Promise<string> {
  return ((await (await fetch(`${worker.url}/dev/token?sub=${sub}`)).json()) as { token: string }).token;
}

/** The ids inserted by the transactions a client received, in order. */
function insertedIds(c: ProtocolClient, from: number): number[] {
  return c.frames.slice(from).flatMap((f) => {
    const m = f.message.message;
    if (m.case !== 'transaction') return [];
    return m.value.changes.flatMap((ch) =>
      ch.kind.case === 'insert' ? [Number(ch.kind.value.newRow?.values[0]?.kind.value)] : [],
    );
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, 3);
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: 'slow-client-secret-of-at-least-32-bytes!',
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: ITEMS_SCOPES,
      LOG_RETENTION_BYTES: '20000',
    },
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
}, 60_000);

/** Commits 150 transactions of ~1 KB (retention keeps only the newest ~20) and waits until they are logged. */
async function commitPastRetention(firstId: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    await sql.query("INSERT INTO items VALUES ($1, 0, repeat('x', 1000))", [firstId + i]);
  }
  const { rows } = await sql.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const committed = parseLsn(rows[0]!.lsn) - 1n;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${worker.url}/health`)).json()) as {
      replication?: { lastDurableLsn?: string | null };
    };
    const durable = health.replication?.lastDurableLsn;
    if (durable && parseLsn(durable) >= committed) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A LIVE connection of a client that synced once: its acknowledged LSN, with `credit` and no more. */
async function liveClient(
  clientId: string,
  credit: number,
  answerPings = false,
): Promise<{ c: ProtocolClient; resumeLsn: bigint }> {
  const t = await token('u1');
  const first = await connectProtocolClient(worker.url, { clientId, token: t, autoAck: true });
  clients.push(first);
  await first.waitFor(is('snapshotEnd'), 20_000);
  await first.waitFor(() => first.ackedLsn() > 0n, 5_000);
  const resumeLsn = first.ackedLsn();
  first.close();
  await first.closed;
  const c = await connectProtocolClient(worker.url, {
    clientId,
    token: t,
    resumeLsn,
    initialCredit: credit,
    manualCredit: true,
    answerPings,
  });
  clients.push(c);
  await c.waitFor(is('welcome'), 10_000);
  return { c, resumeLsn };
}

/**
 * The client received a gapless prefix of the 150 inserts from `firstId`; fewer than all of them only with
 * MUST_REFETCH and its close.
 */
async function expectNoGap(c: ProtocolClient, from: number, firstId: number): Promise<void> {
  const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
  const ids = insertedIds(c, from);
  expect(ids).toEqual(ids.map((_, i) => firstId + i));
  if (ids.length === 150) return;
  const errors = c.frames.flatMap((f) =>
    f.message.message.case === 'error' ? [f.message.message.value] : [],
  );
  expect(errors.map((e) => e.code)).toEqual([ErrorCode.MUST_REFETCH]);
  expect(closed).toMatchObject({ code: 4000 + ErrorCode.MUST_REFETCH });
}

describe('a client whose next transaction left the change log gets MUST_REFETCH, never a gap', () => {
  it('connected: a LIVE client that granted one credit while 150 transactions committed', async () => {
    const { c } = await liveClient('slow-connected', 1);
    const from = c.frames.length;
    await commitPastRetention(1_000);
    c.send({ case: 'credit', value: { frames: 1000 } });
    await expectNoGap(c, from, 1_000);
  }, 90_000);

  it('hibernated: the SyncDO was evicted while the client waited without credit', async () => {
    const { c } = await liveClient('slow-hibernated', 1, true);
    // Idle past workerd's eviction of the SyncDO (~10 s) before the writes.
    await new Promise((r) => setTimeout(r, 12_000));
    const from = c.frames.length;
    await commitPastRetention(2_000);
    c.send({ case: 'credit', value: { frames: 1000 } });
    await expectNoGap(c, from, 2_000);
  }, 90_000);

  it('reconnecting: resuming from an LSN the log no longer continues', async () => {
    const { c, resumeLsn } = await liveClient('slow-reconnecting', 64);
    c.close();
    await c.closed;
    await commitPastRetention(3_000);
    const again = await connectProtocolClient(worker.url, {
      clientId: 'slow-reconnecting',
      token: await token('u1'),
      resumeLsn,
    });
    clients.push(again);
    await expectNoGap(again, 0, 3_000);
  }, 90_000);
});
