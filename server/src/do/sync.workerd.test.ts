/**
 * The read path end to end in real workerd against real Postgres: a protocol-level client connects to the
 * Worker, the SyncDO authenticates it, streams a scoped initial snapshot, then live transactions captured by the
 * ReplicationDO from pgoutput; scope moves, resume, and bad input behave as docs/protocol.md says.
 */
import { ErrorCode, type Lsn, type Relation, type ServerMessage, SyncMode } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyDemoSchema } from '../demo/apply-demo-schema.ts';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const SECRET = 'test-secret-for-workerd-sync';

let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;
const open: ProtocolClient[] = [];

async function tokenFor(sub: string): Promise<string> {
  const r = await fetch(`${worker.url}/dev/token?sub=${sub}`);
  return ((await r.json()) as { token: string }).token;
}

async function connect(clientId: string, sub: string, resumeLsn?: Lsn): Promise<ProtocolClient> {
  const c = await connectProtocolClient(worker.url, {
    clientId,
    token: await tokenFor(sub),
    ...(resumeLsn === undefined ? {} : { resumeLsn }),
  });
  open.push(c);
  return c;
}

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

beforeAll(async () => {
  db = await createTestDatabase();
  await applyDemoSchema(db.url);
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  worker = await startWranglerDev({ vars: { DATABASE_URL: db.url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1' } });
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
});

describe('sync in workerd', () => {
  let snapshotLsn: Lsn;
  let relations: Map<number, Relation>;

  it('streams a scoped initial snapshot: only visible rows, never server-only columns', async () => {
    const c = await connect('alice-1', ALICE);
    const welcome = await c.waitFor(is('welcome'), 20_000);
    expect(welcome.message.case === 'welcome' && welcome.message.value.mode).toBe(SyncMode.INITIAL);
    const end = await c.waitFor(is('snapshotEnd'), 20_000);
    if (end.message.case !== 'snapshotEnd') throw new Error('unreachable');
    snapshotLsn = end.message.value.lsn;
    relations = new Map();
    const rowsByTable = new Map<string, number>();
    for (const { message } of c.frames) {
      if (message.message.case === 'relation')
        relations.set(message.message.value.relationId, message.message.value);
      if (message.message.case === 'snapshotChunk') {
        const rel = relations.get(message.message.value.relationId)!;
        rowsByTable.set(rel.name, (rowsByTable.get(rel.name) ?? 0) + message.message.value.rows.length);
      }
    }
    const users = [...relations.values()].find((r) => r.name === 'users')!;
    expect(users.columns.map((col) => col.name)).not.toContain('password_hash');
    const expected = async (q: string) => Number((await sql.query(q, [ALICE])).rows[0].n);
    expect(rowsByTable.get('users')).toBe(
      await expected('SELECT count(*) AS n FROM users WHERE $1::text IS NOT NULL'),
    );
    expect(rowsByTable.get('projects') ?? 0).toBe(
      await expected('SELECT count(*) AS n FROM projects WHERE owner_id = $1'),
    );
    expect(rowsByTable.get('tasks') ?? 0).toBe(
      await expected('SELECT count(*) AS n FROM tasks WHERE assignee_id = $1'),
    );
    expect(rowsByTable.get('comments') ?? 0).toBe(
      await expected('SELECT count(*) AS n FROM comments WHERE author_id = $1'),
    );
    c.ack(snapshotLsn);
    c.close();
  });

  it('delivers live changes, and scope moves as insert / delete', async () => {
    const c = await connect('alice-1', ALICE, snapshotLsn);
    await c.waitFor(is('welcome'));
    const mark = c.frames.length;
    const project = (await sql.query('SELECT id FROM projects WHERE owner_id = $1 LIMIT 1', [ALICE])).rows[0]
      .id;
    const { rows } = await sql.query(
      "INSERT INTO tasks (project_id, assignee_id, title, sort_key) VALUES ($1, $2, 'live task', 1) RETURNING id",
      [project, ALICE],
    );
    const insertTx = await c.waitFor(
      (m) =>
        m.message.case === 'transaction' && m.message.value.changes.some((ch) => ch.kind.case === 'insert'),
      15_000,
      mark,
    );
    if (insertTx.message.case !== 'transaction') throw new Error('unreachable');
    const insert = insertTx.message.value.changes[0]!;
    expect(insert.kind.case).toBe('insert');
    // Move out of alice's scope: she sees a delete of the key.
    await sql.query('UPDATE tasks SET assignee_id = $1 WHERE id = $2', [BOB, rows[0].id]);
    const moveOut = await c.waitFor(
      (m) =>
        m.message.case === 'transaction' && m.message.value.changes.some((ch) => ch.kind.case === 'delete'),
      15_000,
      mark,
    );
    expect(moveOut.message.case === 'transaction' && moveOut.message.value.commitLsn).toBeGreaterThan(
      insertTx.message.value.commitLsn,
    );
    // And back in: an insert of the full row.
    await sql.query('UPDATE tasks SET assignee_id = $1, title = $3 WHERE id = $2', [
      ALICE,
      rows[0].id,
      'back',
    ]);
    const moveIn = await c.waitFor(
      (m) =>
        m.message.case === 'transaction' &&
        m.message.value.commitLsn >
          (moveOut.message.case === 'transaction' ? moveOut.message.value.commitLsn : 0n) &&
        m.message.value.changes.some((ch) => ch.kind.case === 'insert'),
      15_000,
      mark,
    );
    expect(moveIn.message.case).toBe('transaction');
    c.close();
  });

  it('refuses a bad token with UNAUTHENTICATED and close code 4001', async () => {
    const c = await connectProtocolClient(worker.url, { clientId: 'mallory', token: 'not.a.jwt' });
    open.push(c);
    const error = await c.waitFor(is('error'));
    expect(error.message.case === 'error' && error.message.value.code).toBe(ErrorCode.UNAUTHENTICATED);
    expect((await c.closed).code).toBe(4001);
  });

  it('refuses another user on a bound client id with PERMISSION_DENIED (4002)', async () => {
    const c = await connect('alice-1', BOB);
    expect((await c.closed).code).toBe(4002);
  });

  it('closes on text and malformed frames with MALFORMED_FRAME (4004)', async () => {
    const text = await connectProtocolClient(worker.url, { clientId: 'text-1', token: '', sendHello: false });
    open.push(text);
    text.sendRaw('{"hello":{}}');
    expect((await text.closed).code).toBe(4004);
    const garbage = await connectProtocolClient(worker.url, {
      clientId: 'garbage-1',
      token: '',
      sendHello: false,
    });
    open.push(garbage);
    garbage.sendRaw(new Uint8Array([0x0a, 0xff, 0xff, 0x01]));
    expect((await garbage.closed).code).toBe(4004);
  });

  it('answers a resume point from the future with MUST_REFETCH (4010)', async () => {
    const c = await connect('alice-2', ALICE, 0xffff_ffff_ffffn);
    expect((await c.closed).code).toBe(4010);
  });

  it('refuses upgrades without the subprotocol or a valid client_id (HTTP 400)', async () => {
    const status = (path: string, protocols?: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${worker.url.replace(/^http/, 'ws')}${path}`, protocols);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
      });
    expect(await status('/v1/sync?client_id=x1')).toBe(400);
    expect(await status(`/v1/sync?client_id=${encodeURIComponent('bad id!')}`, 'vibestack.sync.v1')).toBe(
      400,
    );
    expect(await status('/v1/sync', 'vibestack.sync.v1')).toBe(400);
  });

  it('completes a new client snapshot on an idle database (the log head reaches the snapshot LSN)', async () => {
    // Let the log catch up with everything, then connect with no write in flight.
    await new Promise((r) => setTimeout(r, 1500));
    const c = await connect('alice-idle', ALICE);
    const end = await c.waitFor(is('snapshotEnd'), 10_000);
    expect(end.message.case).toBe('snapshotEnd');
    c.close();
  });

  it('replaces an older connection of the same client id (4018) and keeps streaming to the new one', async () => {
    const first = await connect('alice-replace', ALICE);
    await first.waitFor(is('snapshotEnd'), 20_000);
    const second = await connect('alice-replace', ALICE);
    expect((await first.closed).code).toBe(4018);
    await second.waitFor(is('snapshotEnd'), 20_000);
    // The old connection's teardown must not take the new one's fan-out subscription or timer with it.
    await new Promise((r) => setTimeout(r, 1000));
    const mark = second.frames.length;
    const project = (await sql.query('SELECT id FROM projects WHERE owner_id = $1 LIMIT 1', [ALICE])).rows[0]
      .id;
    await sql.query(
      "INSERT INTO tasks (project_id, assignee_id, title, sort_key) VALUES ($1, $2, 'after replace', 2)",
      [project, ALICE],
    );
    const tx = await second.waitFor(is('transaction'), 15_000, mark);
    expect(tx.message.case).toBe('transaction');
    const body = (await (await fetch(`${worker.url}/health`)).json()) as {
      replication: { subscribers: number };
    };
    expect(body.replication.subscribers).toBeGreaterThan(0);
    second.close();
  });

  it('reports replication in /health', async () => {
    const body = (await (await fetch(`${worker.url}/health`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', replication: { status: 'ok' } });
  });
});
