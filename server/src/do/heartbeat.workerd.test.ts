/**
 * Liveness and idle connections (docs/protocol.md §11, §2.3) in real workerd: the SyncDO's alarm drives the
 * session's timers. A socket that never says Hello is closed after the 10 s Hello timeout; a client that goes
 * silent is pinged every interval and, after three silent intervals, sent Error{HEARTBEAT_TIMEOUT} and closed
 * with 4013; a client that answers the pings stays connected; an idle LIVE client (nothing to send for longer
 * than workerd keeps an idle Durable Object in memory, ~10 s) still gets the next change at once. One Worker
 * runs with `HEARTBEAT_INTERVAL_MS=1000` (to keep the timeout tests short), one with the default (15 s).
 */
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  ErrorCode,
  HELLO_TIMEOUT_MS,
  type ServerMessage,
} from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES } from '../testing/items-writer.ts';
import {
  connectProtocolClient,
  type ProtocolClient,
  type ProtocolClientOptions,
} from '../testing/protocol-client.ts';

const SECRET = 'heartbeat-secret';
const INTERVAL_MS = 1_000;
/** Timers are alarms on a loaded 2-core machine: allow this much lateness. */
const SLACK_MS = 4_000;

let db: TestDatabase;
let sql: pg.Client;
/** `HEARTBEAT_INTERVAL_MS=1000`. */
let fast: WranglerDev;
/** The default interval. */
let standard: WranglerDev;
const clients: ProtocolClient[] = [];

async function connect(
  worker: WranglerDev,
  clientId: string,
  options: Partial<ProtocolClientOptions> = {},
): Promise<ProtocolClient> {
  const { token } = (await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string };
  const client = await connectProtocolClient(worker.url, { clientId, token, ...options });
  clients.push(client);
  return client;
}

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;
const count = (c: ProtocolClient, kase: ServerMessage['message']['case']) =>
  c.frames.filter((f) => f.message.message.case === kase).length;

/** Resolves with the close, or `undefined` when the socket is still open after `ms`. */
function closedWithin(c: ProtocolClient, ms: number): Promise<{ code: number } | undefined> {
  return Promise.race([c.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

function fatalError(c: ProtocolClient) {
  const e = c.frames.find((f) => f.message.message.case === 'error')?.message.message;
  return e?.case === 'error' ? { code: e.value.code, fatal: e.value.fatal } : undefined;
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, 10);
  const vars = { DATABASE_URL: db.url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: ITEMS_SCOPES };
  // One database, so each Worker needs a slot of its own (two readers of one slot would steal each other's
  // changes).
  [fast, standard] = await Promise.all([
    startWranglerDev({
      vars: { ...vars, HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS), REPLICATION_SLOT: 'vibestack_fast' },
    }),
    startWranglerDev({ vars: { ...vars, REPLICATION_SLOT: 'vibestack_standard' } }),
  ]);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await Promise.all([fast?.stop(), standard?.stop()]);
  await sql?.end();
  await db?.drop();
}, 60_000);

// Both tests mostly wait, so they run side by side.
describe.concurrent('with the default heartbeat interval', () => {
  it('closes a socket that sends no Hello within 10 s with HEARTBEAT_TIMEOUT (4013)', async ({ expect }) => {
    const opened = Date.now();
    const c = await connectProtocolClient(standard.url, {
      clientId: 'no-hello',
      token: '',
      sendHello: false,
    });
    clients.push(c);
    await c.waitFor(is('error'), HELLO_TIMEOUT_MS + SLACK_MS + 5_000);
    const elapsed = Date.now() - opened;
    expect(fatalError(c)).toEqual({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true });
    expect(elapsed).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 200);
    expect(elapsed).toBeLessThan(HELLO_TIMEOUT_MS + SLACK_MS);
    // The close frame follows the Error at once, and the server gets the client's reply at once. The client's
    // `close` event also waits for the TCP connection to end, which local workerd was seen to delay for a
    // hibernatable socket that never received a message until it evicts the object, ~10 s later.
    const closed = await closedWithin(c, 10_000 + SLACK_MS + 5_000);
    expect(closed?.code).toBe(4013);
    // Before the Welcome the server never pings (§11).
    expect(count(c, 'ping')).toBe(0);
  }, 40_000);

  it('delivers a change at once to a LIVE client that was idle for longer than 10 s', async ({ expect }) => {
    const c = await connect(standard, 'idle-1', { answerPings: true, autoAck: true });
    const welcome = await c.waitFor(is('welcome'), 20_000);
    expect(welcome.message.case === 'welcome' && welcome.message.value.heartbeatIntervalMs).toBe(
      DEFAULT_HEARTBEAT_INTERVAL_MS,
    );
    await c.waitFor(is('snapshotEnd'), 20_000);
    // Nothing to send either way for 13 s: past workerd's ~10 s idle eviction, within one heartbeat interval.
    expect(await closedWithin(c, 13_000)).toBeUndefined();
    const from = c.frames.length;
    await sql.query("INSERT INTO items VALUES (2000, 1, 'after idling')");
    const tx = await c.waitFor(is('transaction'), 5_000, from);
    expect(tx.message.case === 'transaction' && tx.message.value.changes[0]?.kind.case).toBe('insert');
    expect(fatalError(c)).toBeUndefined();
  }, 60_000);
});

describe('with HEARTBEAT_INTERVAL_MS=1000', () => {
  it('pings a silent client every interval and closes it with HEARTBEAT_TIMEOUT (4013) after 3 intervals', async () => {
    // No Credit (manual), no Pong, no Ack: after the Hello this client never sends a frame.
    const c = await connect(fast, 'silent-1', { manualCredit: true });
    const helloSentAt = Date.now();
    const welcome = await c.waitFor(is('welcome'), 20_000);
    expect(welcome.message.case === 'welcome' && welcome.message.value.heartbeatIntervalMs).toBe(INTERVAL_MS);
    const closed = await closedWithin(c, 3 * INTERVAL_MS + SLACK_MS + 10_000);
    const elapsed = Date.now() - helloSentAt;
    expect(closed?.code).toBe(4013);
    expect(fatalError(c)).toEqual({ code: ErrorCode.HEARTBEAT_TIMEOUT, fatal: true });
    // The Error is the last frame (§9.1), after a Ping for each silent interval but the last.
    expect(c.frames.at(-1)?.message.message.case).toBe('error');
    expect(count(c, 'ping')).toBeGreaterThanOrEqual(2);
    expect(elapsed).toBeGreaterThanOrEqual(3 * INTERVAL_MS - 200);
    expect(elapsed).toBeLessThan(3 * INTERVAL_MS + SLACK_MS);
  }, 40_000);

  it('keeps a client that answers the pings connected past 3 intervals, and still streams to it', async () => {
    const c = await connect(fast, 'answering-1', { answerPings: true, autoAck: true });
    await c.waitFor(is('snapshotEnd'), 20_000);
    expect(await closedWithin(c, 6 * INTERVAL_MS)).toBeUndefined();
    expect(count(c, 'ping')).toBeGreaterThanOrEqual(4);
    const from = c.frames.length;
    await sql.query("INSERT INTO items VALUES (1000, 1, 'after the pings')");
    const tx = await c.waitFor(is('transaction'), 20_000, from);
    expect(tx.message.case === 'transaction' && tx.message.value.changes[0]?.kind.case).toBe('insert');
    expect(fatalError(c)).toBeUndefined();
  }, 40_000);

  it("answers a client's normal closure (1000) with its own close frame", async () => {
    const c = await connect(fast, 'closing-1', { answerPings: true, autoAck: true });
    await c.waitFor(is('snapshotEnd'), 20_000);
    c.close();
    // Without the server's close frame the client gives up after its own timeout and reports 1006.
    expect((await closedWithin(c, 5_000))?.code).toBe(1000);
  }, 40_000);
});
