/**
 * WebSocket hibernation in real workerd: the SyncDO accepts the socket with `ctx.acceptWebSocket`, workerd
 * evicts the idle object (~10 s without events) while the socket stays open, and the next event — the alarm
 * that pings, a Pong, the fan-out's `notify` — re-creates it. The session is restored from its checkpoint, so the
 * client notices nothing: no close, no frame twice, no Relation again, and the next change arrives at once.
 * wrangler's log shows the eviction: the re-created object logs its hibernated socket's client id, and the
 * restore.
 */
import type { ServerMessage } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES } from '../testing/items-writer.ts';
import { connectProtocolClient, type ProtocolClient } from '../testing/protocol-client.ts';

const CLIENT_ID = 'hibernating-1';

let db: TestDatabase;
let sql: pg.Client;
let worker: WranglerDev;
let client: ProtocolClient | undefined;
const lines: string[] = [];

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;

/** Resolves with the close, or `undefined` when the socket is still open after `ms`. */
function closedWithin(c: ProtocolClient, ms: number): Promise<{ code: number } | undefined> {
  return Promise.race([c.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

const logged = (text: string) => lines.filter((l) => l.includes(`[sync ${CLIENT_ID}] ${text}`)).length;
/** Waits up to 5 s for a log line (then the assertions that follow report it missing). */
async function loggedSoon(text: string): Promise<void> {
  for (let i = 0; i < 100 && logged(text) === 0; i++) await new Promise((r) => setTimeout(r, 50));
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, 10);
  // The default heartbeat interval (15 s): longer than workerd keeps an idle object.
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: 'hibernation-secret',
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: ITEMS_SCOPES,
    },
    log: (line) => lines.push(line),
  });
}, 90_000);

afterAll(async () => {
  client?.terminate();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
}, 60_000);

describe('SyncDO hibernation', () => {
  it('restores an evicted LIVE session: the next change arrives on the same socket, once, without a close', async () => {
    const { token } = (await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string };
    const c = await connectProtocolClient(worker.url, {
      clientId: CLIENT_ID,
      token,
      answerPings: true,
      autoAck: true,
    });
    client = c;
    await c.waitFor(is('snapshotEnd'), 20_000);
    expect(logged('SyncDO re-created')).toBe(0);
    // Idle past the eviction (~10 s) until the heartbeat (15 s after the last frame sent): the alarm wakes a new
    // object, which restores the session and pings.
    await c.waitFor(is('ping'), 40_000);
    // The ping comes on the socket; the log lines come through wrangler's stdout and may trail it a little.
    await loggedSoon('session restored from its checkpoint');
    expect(logged('SyncDO re-created')).toBeGreaterThanOrEqual(1);
    expect(logged('session restored from its checkpoint')).toBeGreaterThanOrEqual(1);

    // Quiet again, then a change: it reaches the restored session (or the next one, if the object was evicted
    // again meanwhile) at once.
    await new Promise((r) => setTimeout(r, 11_000));
    const from = c.frames.length;
    await sql.query("INSERT INTO items VALUES (3000, 1, 'after hibernating')");
    const tx = await c.waitFor(is('transaction'), 10_000, from);
    expect(tx.message.case === 'transaction' && tx.message.value.changes[0]?.kind.case).toBe('insert');

    // Nothing twice, no Relation again (the client has it), no error, still open.
    expect(await closedWithin(c, 1_500)).toBeUndefined();
    const sent = c.frames.map((f) => f.message.message);
    const txKeys = sent.flatMap((m) =>
      m.case === 'transaction' ? [`${m.value.commitLsn}#${m.value.frameIndex}`] : [],
    );
    expect(new Set(txKeys).size).toBe(txKeys.length);
    expect(sent.slice(from).filter((m) => m.case === 'relation')).toEqual([]);
    expect(sent.filter((m) => m.case === 'error')).toEqual([]);
  }, 90_000);
});
