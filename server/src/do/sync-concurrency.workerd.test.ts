/**
 * No loss, no duplication across the snapshot/stream handoff (FIELD-NOTES §1), in real workerd against real
 * Postgres: a client runs its initial sync while another connection keeps inserting, updating and deleting rows.
 * The client applies what it receives exactly as the protocol says; at the end its rows equal the database's.
 */
import {
  type Change,
  decodeValueText,
  type Relation,
  type Row,
  type ServerMessage,
  UNCHANGED,
  valueTypeOfColumn,
} from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { connectProtocolClient } from '../testing/protocol-client.ts';

const SECRET = 'handoff-secret';
let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)');
  await sql.query("INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, 30000) g");
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
    },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await sql?.end();
  await db?.drop();
});

/** Applies frames to a map keyed by primary key text, as a client must (docs/protocol.md §6, §8). */
function createReplica() {
  const relations = new Map<number, Relation>();
  const rows = new Map<string, (string | null)[]>();
  const decode = (rel: Relation, row: Row) =>
    row.values.map((v, i) => decodeValueText(valueTypeOfColumn(rel.columns[i]!), v));
  const keyOf = (rel: Relation, values: readonly unknown[]) =>
    JSON.stringify(rel.primaryKey.map((i) => values[i]));
  const apply = (c: Change) => {
    switch (c.kind.case) {
      case 'insert': {
        const rel = relations.get(c.kind.value.relationId)!;
        const row = decode(rel, c.kind.value.newRow!) as (string | null)[];
        rows.set(keyOf(rel, row), row);
        return;
      }
      case 'update': {
        const rel = relations.get(c.kind.value.relationId)!;
        const next = decode(rel, c.kind.value.newRow!);
        if (c.kind.value.oldKey) rows.delete(JSON.stringify(decode(rel, c.kind.value.oldKey)));
        const key = keyOf(rel, next);
        const prev = rows.get(key);
        rows.set(key, next.map((v, i) => (v === UNCHANGED ? (prev?.[i] ?? null) : v)) as (string | null)[]);
        return;
      }
      case 'delete': {
        const rel = relations.get(c.kind.value.relationId)!;
        rows.delete(JSON.stringify(decode(rel, c.kind.value.oldKey!)));
        return;
      }
      case 'truncate':
        rows.clear();
        return;
      default:
        return;
    }
  };
  return {
    rows,
    onFrame(m: ServerMessage) {
      const msg = m.message;
      if (msg.case === 'relation') relations.set(msg.value.relationId, msg.value);
      if (msg.case === 'snapshotChunk') {
        const rel = relations.get(msg.value.relationId)!;
        for (const r of msg.value.rows) {
          const row = decode(rel, r) as (string | null)[];
          rows.set(keyOf(rel, row), row);
        }
      }
      if (msg.case === 'transaction') for (const c of msg.value.changes) apply(c);
    },
  };
}

it('a snapshot taken while rows change converges on the database, with no transaction twice', async () => {
  const token = ((await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string }).token;
  let writing = true;
  let writes = 0;
  const writer = (async () => {
    const w = new pg.Client({ connectionString: db.url });
    await w.connect();
    let next = 30_001;
    while (writing) {
      const id = 1 + Math.floor(Math.random() * 30_000);
      const op = writes % 3;
      if (op === 0)
        await w.query('UPDATE items SET v = v + 1, note = $2 WHERE id = $1', [id, `upd ${writes}`]);
      else if (op === 1) await w.query("INSERT INTO items VALUES ($1, 1, 'new')", [next++]);
      else await w.query('DELETE FROM items WHERE id = $1', [id]);
      writes++;
    }
    await w.end();
  })();
  await new Promise((r) => setTimeout(r, 100));
  const client = await connectProtocolClient(worker.url, {
    clientId: 'handoff-1',
    token,
    initialCredit: 1024,
  });
  await client.waitFor((m) => m.message.case === 'snapshotEnd', 60_000);
  // Keep writing a little after the snapshot, then stop and mark the end.
  await new Promise((r) => setTimeout(r, 500));
  writing = false;
  await writer;
  await sql.query("INSERT INTO items VALUES (0, 0, 'end marker')");
  await client.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (c) => c.kind.case === 'insert' && c.kind.value.newRow?.values[0]?.kind.value === 0n,
      ),
    30_000,
  );
  const replica = createReplica();
  const commits: bigint[] = [];
  let afterEnd = false;
  for (const { message } of client.frames) {
    replica.onFrame(message);
    if (message.message.case === 'snapshotEnd') afterEnd = true;
    if (afterEnd && message.message.case === 'transaction' && message.message.value.frameIndex === 0) {
      commits.push(message.message.value.commitLsn);
    }
  }
  client.close();
  expect(writes).toBeGreaterThan(50);
  // Strictly increasing after SnapshotEnd: no transaction twice, none out of order.
  expect(commits.every((lsn, i) => i === 0 || lsn > commits[i - 1]!)).toBe(true);
  const { rows } = await sql.query<{ id: string; v: string; note: string | null }>(
    'SELECT id, v, note FROM items ORDER BY id',
  );
  const expected = new Map(rows.map((r) => [JSON.stringify([r.id]), [r.id, r.v, r.note]]));
  const missing = [...expected.keys()].filter((k) => !replica.rows.has(k));
  const extra = [...replica.rows.keys()].filter((k) => !expected.has(k));
  const different = [...expected].filter(
    ([k, row]) => replica.rows.has(k) && JSON.stringify(replica.rows.get(k)) !== JSON.stringify(row),
  );
  expect({
    missing: missing.slice(0, 5),
    extra: extra.slice(0, 5),
    different: different.slice(0, 5),
  }).toEqual({
    missing: [],
    extra: [],
    different: [],
  });
  expect(replica.rows.size).toBe(rows.length);
}, 120_000);
