/**
 * A database with no connection to spare (docs/protocol.md §9.2 OVERLOADED), in real workerd against real
 * Postgres: the Worker's role may hold only the ReplicationDO's connection (CONNECTION LIMIT 1), as when a server
 * with ~1 000 clients exhausts `max_connections`. A new client's initial sync — the one thing that needs its
 * own connection — is answered OVERLOADED with `retry_after_ms` and without Postgres' text; a resuming client's
 * Hello and a hibernated LIVE session's wake-up need no database connection at all, so they keep working.
 */
import { ErrorCode, type ServerMessage } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPostgresUrl, parsePostgresUrl, withDatabase } from '../node/connection-info.ts';
import { type ItemsWorker, insertAndReceive, startItemsWorker } from '../testing/items-worker.ts';
import type { ProtocolClient } from '../testing/protocol-client.ts';

const ROLE = `vs_limited_${process.pid}`;
let w: ItemsWorker;

const is = (kase: ServerMessage['message']['case']) => (m: ServerMessage) => m.message.case === kase;
const connect = (clientId: string, resumeLsn?: bigint) =>
  w.connect(clientId, 'u1', resumeLsn === undefined ? {} : { resumeLsn });
const insertAndSee = (c: ProtocolClient, id: number) => insertAndReceive(w.sql, c, id);

beforeAll(async () => {
  w = await startItemsWorker({
    rows: 20,
    vars: { SNAPSHOT_CONCURRENCY: '2' },
    // A role that may replicate and owns the synced table (to publish it), but is no superuser: its connection
    // limit applies.
    async prepare(db, sql) {
      await sql.query(`CREATE ROLE ${ROLE} LOGIN REPLICATION PASSWORD 'limited' CONNECTION LIMIT 4`);
      await sql.query(`GRANT CREATE ON DATABASE ${sql.escapeIdentifier(db.database)} TO ${ROLE}`);
      await sql.query(`ALTER TABLE items OWNER TO ${ROLE}`);
      return {
        DATABASE_URL: formatPostgresUrl({ ...parsePostgresUrl(db.url), user: ROLE, password: 'limited' }),
      };
    },
  });
}, 90_000);

afterAll(async () => {
  await w?.sql.query('ALTER TABLE items OWNER TO CURRENT_USER').catch(() => undefined);
  await w?.stop();
  if (w === undefined) return;
  const admin = new pg.Client({ connectionString: withDatabase(w.db, 'postgres').url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await admin.end();
}, 60_000);

describe('with room for a few connections', () => {
  it('runs first syncs two at a time (SNAPSHOT_CONCURRENCY): ten at once all finish, none is told OVERLOADED', async () => {
    // The role may hold 4 connections: the ReplicationDO's and two snapshots fit; ten at once would not.
    const many = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(`many-${i}`)));
    await Promise.all(many.map((c) => c.waitFor(is('snapshotEnd'), 30_000)));
    for (const c of many) {
      expect(c.frames.filter((f) => f.message.message.case === 'error')).toEqual([]);
      c.close();
    }
    const health = (await (await fetch(`${w.worker.url}/health`)).json()) as {
      replication: { snapshots: { holders: number; waiting: number; capacity: number } };
    };
    expect(health.replication.snapshots).toEqual({ holders: 0, waiting: 0, capacity: 2 });
  }, 60_000);
});

describe('with no database connection to spare', () => {
  let synced: ProtocolClient;
  let resumeLsn: bigint;

  it('a first client syncs while the limit allows it', async () => {
    synced = await connect('limited-1');
    await synced.waitFor(is('snapshotEnd'), 20_000);
    await insertAndSee(synced, 1_000);
    resumeLsn = synced.ackedLsn();
    // From now on the role holds only the ReplicationDO's connection.
    await w.sql.query(`ALTER ROLE ${ROLE} CONNECTION LIMIT 1`);
  }, 60_000);

  it('answers a new initial sync with OVERLOADED and retry_after_ms, never with Postgres text', async () => {
    const fresh = await connect('limited-new');
    const closed = await fresh.closed;
    expect(closed.code).toBe(4000 + ErrorCode.OVERLOADED);
    const error = fresh.frames.find((f) => f.message.message.case === 'error')?.message.message;
    expect(error?.case === 'error' && error.value.code).toBe(ErrorCode.OVERLOADED);
    expect(error?.case === 'error' && error.value.retryAfterMs).toBeGreaterThan(0);
    const text = error?.case === 'error' ? error.value.message : '';
    expect(text).not.toMatch(/too many|connections|role|vs_limited|postgres/i);
    expect(text).toMatch(/ref [0-9a-f]{8}/);
    // The operator's log has the original, under the same reference.
    const ref = /ref ([0-9a-f]{8})/.exec(text)![1]!;
    // (Through wrangler's stdout, which may trail the socket.)
    for (let i = 0; i < 100 && !w.lines.some((l) => l.includes(ref)); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(w.lines.filter((l) => l.includes(ref))).toContainEqual(expect.stringMatching(/limited-new/));
  }, 30_000);

  it('lets a client resume (Hello, catch-up, live) without a database connection', async () => {
    synced.close();
    await synced.closed;
    await w.sql.query("INSERT INTO items VALUES (1001, 0, 'while away')");
    const again = await connect('limited-1', resumeLsn);
    const welcome = await again.waitFor(is('welcome'), 10_000);
    expect(welcome.message.case).toBe('welcome');
    await again.waitFor((m) => m.message.case === 'progress' && m.message.value.caughtUp, 10_000);
    await insertAndSee(again, 1_002);
    synced = again;
  }, 30_000);

  it('restores a hibernated LIVE session without a database connection', async () => {
    // Idle past workerd's eviction of the SyncDO (~10 s without events) until the heartbeat alarm (15 s after
    // the last frame sent) re-creates it: the restore needs the session's descriptors, which come from the
    // ReplicationDO's storage. Something else may wake the object earlier (anything that moves the WAL notifies
    // it), so this waits for up to three pings.
    const restored = () =>
      w.lines.some((l) => l.includes('[sync limited-1] session restored from its checkpoint'));
    for (let ping = 0; ping < 3 && !restored(); ping++) {
      await synced.waitFor(is('ping'), 40_000, synced.frames.length);
      // The log line travels through wrangler's stdout and may trail the frame.
      for (let i = 0; i < 40 && !restored(); i++) await new Promise((r) => setTimeout(r, 50));
    }
    expect(restored()).toBe(true);
    await insertAndSee(synced, 1_003);
    expect(synced.frames.filter((f) => f.message.message.case === 'error')).toEqual([]);
  }, 130_000);
});
