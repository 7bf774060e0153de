/**
 * A table named in SYNC_SCOPES that does not exist yet (a deploy that runs before its migration) in real workerd
 * against real Postgres: the server says which one, keeps serving the other tables (`/health` stays ok), and
 * picks the table up once it is created — every client then re-syncs once (MUST_REFETCH), since the change log
 * cannot express the rows the table had before it joined the publication.
 */
import { ErrorCode, type ServerMessage } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable } from '../testing/items-writer.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';

const SCOPES = JSON.stringify([
  { table: 'public.items', rule: { kind: 'shared' } },
  { table: 'public.later', rule: { kind: 'shared' } },
]);

let db: TestDatabase;
let sql: pg.Client;
let worker: WranglerDev;
const clients: ProtocolClient[] = [];
const lines: string[] = [];

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

async function connect(clientId: string): Promise<ProtocolClient> {
  const { token } = (await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string };
  const c = await connectProtocolClient(worker.url, { clientId, token, autoAck: true, answerPings: true });
  clients.push(c);
  return c;
}

/** Table names of the Relations a connection received. */
const relations = (c: ProtocolClient, from = 0) =>
  c.frames
    .slice(from)
    .flatMap((f) => (f.message.message.case === 'relation' ? [f.message.message.value.name] : []));

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, 5);
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: 'missing-table-secret',
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: SCOPES,
    },
    log: (line) => lines.push(line),
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
}, 60_000);

describe('a SYNC_SCOPES table that does not exist yet', () => {
  let c: ProtocolClient;

  it('is named, and the other tables sync; /health stays ok and lists it', async () => {
    c = await connect('missing-1');
    await c.waitFor(is('snapshotEnd'), 20_000);
    expect(relations(c)).toEqual(['items']);
    const rows = c.frames.flatMap((f) =>
      f.message.message.case === 'snapshotChunk' ? f.message.message.value.rows : [],
    );
    expect(rows).toHaveLength(5);
    const health = await fetch(`${worker.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      replication: { missingTables: ['public.later'] },
    });
    for (let i = 0; i < 100 && !lines.some((l) => l.includes('public.later')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lines.filter((l) => l.includes('do not exist: public.later'))).toHaveLength(1);
  }, 40_000);

  it('is picked up once created: connected clients re-sync once and then get its rows and changes', async () => {
    await sql.query('CREATE TABLE later (id int PRIMARY KEY, note text)');
    await sql.query("INSERT INTO later VALUES (1, 'before it was synced')");
    expect((await c.closed).code).toBe(4000 + ErrorCode.MUST_REFETCH);
    const again = await connect('missing-1');
    await again.waitFor(is('snapshotEnd'), 20_000);
    expect(relations(again).sort()).toEqual(['items', 'later']);
    const from = again.frames.length;
    await sql.query("INSERT INTO later VALUES (2, 'after')");
    await again.waitFor(is('transaction'), 10_000, from);
    const health = (await (await fetch(`${worker.url}/health`)).json()) as {
      replication: { missingTables: string[] };
    };
    expect(health.replication.missingTables).toEqual([]);
  }, 60_000);
});
