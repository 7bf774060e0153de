import { createTestDatabase, type TestDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Datum,
  type LoggedChange,
  type TableShape,
  type TransactionHeader,
  UNCHANGED_DATUM,
} from '../change.ts';
import { createPgoutputDecoder } from './decoder.ts';
import type { PgoutputMessage } from './messages.ts';
import { type AssemblerEvent, createTransactionAssembler } from './transaction-assembler.ts';

// Real Postgres workloads → pgoutput → decoder → assembler, checked as committed transactions of LoggedChanges.

const SLOT = 'vs_pgoutput_assembler';
const PUBLICATION = 'vs_pgoutput_assembler_pub';
const V1 = ['proto_version', '1'];
const V2_STREAMING = ['proto_version', '2', 'streaming', 'on'];

let db: TestDatabase;
let reader: pg.Client;
let writer: pg.Client;
let writer2: pg.Client;

/** Reads (peek, then advance) everything committed so far as raw message bytes. */
async function readSlot(protocol: readonly string[] = V1): Promise<Buffer[]> {
  // The flush LSN, not pg_current_wal_lsn(): peek decodes and slot_advance moves only up to the flushed WAL, so
  // an upto beyond it could let the advance skip transactions flushed between the two calls.
  const upto = (await reader.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn'))
    .rows[0]!.lsn;
  const options = [...protocol, 'publication_names', PUBLICATION];
  const placeholders = options.map((_, i) => `$${i + 3}`).join(', ');
  const { rows } = await reader.query<{ data: Buffer }>(
    `SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, NULL, ${placeholders})`,
    [SLOT, upto, ...options],
  );
  await reader.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [SLOT, upto]);
  return rows.map((row) => row.data);
}

interface Transaction {
  readonly header: TransactionHeader;
  readonly streamed: boolean;
  readonly changes: LoggedChange[];
}

/**
 * Decodes and assembles, playing the change log: keeps chunks per transaction and stream chunks per xid (dropping
 * aborted subxacts), and checks the assembler never holds more than one chunk.
 */
function assemble(data: readonly Uint8Array[], maxChunkChanges = 1000) {
  const shapes = new Map<number, TableShape>();
  const interned = new Map<string, number>();
  const assembler = createTransactionAssembler({
    maxChunkChanges,
    shapeFor: (relation) => {
      const key = JSON.stringify([relation.relationOid, relation.namespace, relation.name, relation.columns]);
      const id = interned.get(key) ?? interned.size + 1;
      interned.set(key, id);
      return id;
    },
  });
  const decoder = createPgoutputDecoder();
  const events: AssemblerEvent[] = [];
  const transactions: Transaction[] = [];
  const streams = new Map<number, { changes: LoggedChange[]; subxids: number[] }>();
  let open: Transaction | undefined;
  let maxBuffered = 0;
  for (const bytes of data) {
    for (const event of assembler.push(decoder.decode(bytes))) {
      events.push(event);
      switch (event.type) {
        case 'shape':
          shapes.set(event.shape.shapeId, event.shape);
          break;
        case 'begin':
          open = {
            header: { ...event.header, endLsn: -1n },
            streamed: event.streamed,
            changes: event.streamed ? (streams.get(event.header.xid)?.changes ?? []) : [],
          };
          streams.delete(event.header.xid);
          break;
        case 'chunk':
          expect(event.commitLsn).toBe(open!.header.commitLsn);
          open!.changes.push(...event.changes);
          break;
        case 'commit':
          transactions.push({ ...open!, header: event.header });
          expect(event.changes).toBeGreaterThanOrEqual(open!.changes.length);
          open = undefined;
          break;
        case 'stream-chunk': {
          const stream = streams.get(event.xid) ?? { changes: [], subxids: [] };
          stream.changes.push(...event.changes);
          stream.subxids.push(...event.subxids);
          streams.set(event.xid, stream);
          break;
        }
        case 'abort': {
          const stream = streams.get(event.xid);
          if (event.subxid === event.xid) streams.delete(event.xid);
          else if (stream) {
            const keep = stream.subxids.map((s) => s !== event.subxid);
            stream.changes = stream.changes.filter((_, i) => keep[i]);
            stream.subxids = stream.subxids.filter((_, i) => keep[i]);
          }
          break;
        }
        case 'message':
          break;
      }
    }
    maxBuffered = Math.max(maxBuffered, assembler.bufferedChanges);
  }
  expect(assembler.busy).toBe(false);
  expect(maxBuffered).toBeLessThanOrEqual(maxChunkChanges);
  const tableOf = (change: LoggedChange) =>
    change.kind === 'truncate' ? undefined : shapes.get(change.shapeId)?.name;
  /** A change as { table, kind, row as object, old as object } for readable assertions. */
  const describeChange = (change: LoggedChange) => {
    if (change.kind === 'truncate') {
      return { ...change, tables: change.shapeIds.map((id) => shapes.get(id)!.name).sort() };
    }
    const shape = shapes.get(change.shapeId)!;
    const named = (row: readonly Datum[]) =>
      Object.fromEntries(shape.columns.map((c, i) => [c.name, row[i]]));
    return {
      table: shape.name,
      kind: change.kind,
      ...('row' in change ? { row: named(change.row) } : {}),
      ...('old' in change && change.old ? { old: { kind: change.old.kind, ...named(change.old.row) } } : {}),
    };
  };
  return { events, transactions, shapes, streams, tableOf, describeChange };
}

async function currentXid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
  return Number(BigInt(rows[0]!.x) & 0xffff_ffffn);
}

beforeAll(async () => {
  db = await createTestDatabase();
  reader = new pg.Client({ connectionString: db.url });
  writer = new pg.Client({ connectionString: db.url });
  writer2 = new pg.Client({ connectionString: db.url });
  await Promise.all([reader.connect(), writer.connect(), writer2.connect()]);
  await writer.query(`
    CREATE TABLE items (id int PRIMARY KEY, name text, qty int);
    CREATE TABLE notes (id serial PRIMARY KEY, item_id int REFERENCES items(id), body text);
    CREATE TABLE full_rows (a int, b text);
    ALTER TABLE full_rows REPLICA IDENTITY FULL;
    CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
    ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
    CREATE TABLE bulk (id int PRIMARY KEY, uid uuid, title text, n int, at timestamptz);
    CREATE TABLE stream_rows (id int PRIMARY KEY, batch text, pad text);
    CREATE TABLE hidden (id int PRIMARY KEY);
    CREATE PUBLICATION ${PUBLICATION} FOR TABLE items, notes, full_rows, docs, bulk, stream_rows;
  `);
  await reader.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [SLOT]);
});

afterAll(async () => {
  await Promise.all([reader?.end(), writer?.end(), writer2?.end()]);
  await db?.drop();
});

describe('transaction assembler against real Postgres', () => {
  it('a multi-table transaction: header from Begin/Commit, changes in order, shapes for both tables', async () => {
    await writer.query('BEGIN');
    const xid = await currentXid(writer);
    await writer.query("INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', 5)");
    await writer.query("INSERT INTO notes (item_id, body) VALUES (1, 'ripe')");
    await writer.query('UPDATE items SET qty = 4 WHERE id = 2');
    await writer.query('COMMIT');
    const { transactions, shapes, describeChange } = assemble(await readSlot());
    expect(transactions).toHaveLength(1);
    const [tx] = transactions;
    expect(tx!.header.xid).toBe(xid);
    expect(tx!.header.endLsn).toBeGreaterThan(tx!.header.commitLsn);
    expect(BigInt(Date.now()) * 1000n - tx!.header.commitTimeUs).toBeLessThan(60_000_000n);
    expect(tx!.streamed).toBe(false);
    expect(tx!.changes.map(describeChange)).toEqual([
      { table: 'items', kind: 'insert', row: { id: '1', name: 'apple', qty: '3' } },
      { table: 'items', kind: 'insert', row: { id: '2', name: 'pear', qty: '5' } },
      { table: 'notes', kind: 'insert', row: { id: '1', item_id: '1', body: 'ripe' } },
      { table: 'items', kind: 'update', row: { id: '2', name: 'pear', qty: '4' } },
    ]);
    expect(
      [...shapes.values()].map((s) => [s.schema, s.name, s.replicaIdentity, s.columns.map((c) => c.isKey)]),
    ).toEqual([
      ['public', 'items', 'd', [true, false, false]],
      ['public', 'notes', 'd', [true, false, false]],
    ]);
  });

  it("PK-changing update carries the old key ('K'); REPLICA IDENTITY FULL the old row ('O'); deletes", async () => {
    await writer.query("INSERT INTO full_rows VALUES (1, 'one')");
    await writer.query('UPDATE items SET id = 20 WHERE id = 2');
    await writer.query("UPDATE full_rows SET b = 'uno'");
    await writer.query('DELETE FROM full_rows');
    await writer.query('DELETE FROM items WHERE id = 20');
    const { transactions, describeChange } = assemble(await readSlot());
    expect(transactions.map((t) => t.changes.map(describeChange))).toEqual([
      [{ table: 'full_rows', kind: 'insert', row: { a: '1', b: 'one' } }],
      [
        {
          table: 'items',
          kind: 'update',
          row: { id: '20', name: 'pear', qty: '4' },
          old: { kind: 'key', id: '2', name: null, qty: null },
        },
      ],
      [
        {
          table: 'full_rows',
          kind: 'update',
          row: { a: '1', b: 'uno' },
          old: { kind: 'full', a: '1', b: 'one' },
        },
      ],
      [{ table: 'full_rows', kind: 'delete', old: { kind: 'full', a: '1', b: 'uno' } }],
      [{ table: 'items', kind: 'delete', old: { kind: 'key', id: '20', name: null, qty: null } }],
    ]);
    // Commit order: LSNs strictly increase.
    const lsns = transactions.map((t) => t.header.commitLsn);
    expect([...lsns].sort((a, b) => (a < b ? -1 : 1))).toEqual(lsns);
  });

  it('an untouched 100 kB TOAST value becomes UNCHANGED_DATUM; a touched one arrives in full', async () => {
    await writer.query(
      "INSERT INTO docs SELECT 1, 'a', string_agg(md5(random()::text || g), '') FROM generate_series(1, 3200) g",
    );
    await writer.query("UPDATE docs SET title = 'b'");
    await writer.query("UPDATE docs SET title = 'c', body = upper(body)");
    const body = (await writer.query<{ body: string }>('SELECT body FROM docs')).rows[0]!.body;
    const { transactions } = assemble(await readSlot());
    const [insert, untouched, touched] = transactions.map((t) => t.changes[0]!);
    expect(insert?.kind === 'insert' && insert.row[2]).toHaveLength(102_400);
    expect(untouched).toMatchObject({ kind: 'update', row: ['1', 'b', UNCHANGED_DATUM] });
    expect(untouched).not.toHaveProperty('old');
    expect(touched).toMatchObject({ kind: 'update', row: ['1', 'c', body] });
  });

  it('truncate of two tables, and TRUNCATE … CASCADE, each one LoggedChange with all shape ids', async () => {
    await writer.query(
      "INSERT INTO items VALUES (5, 'fig', 1); INSERT INTO notes (item_id, body) VALUES (5, 'x')",
    );
    await writer.query('TRUNCATE full_rows, docs RESTART IDENTITY');
    await writer.query('TRUNCATE items CASCADE');
    const { transactions, describeChange } = assemble(await readSlot());
    const truncates = transactions.slice(1).map((t) => t.changes.map(describeChange));
    expect(truncates).toEqual([
      [
        expect.objectContaining({
          kind: 'truncate',
          cascade: false,
          restartIdentity: true,
          tables: ['docs', 'full_rows'],
        }),
      ],
      [
        expect.objectContaining({
          kind: 'truncate',
          cascade: true,
          restartIdentity: false,
          tables: ['items', 'notes'],
        }),
      ],
    ]);
  });

  it('a transaction touching only an unpublished table decodes to nothing', async () => {
    await writer.query('BEGIN; INSERT INTO hidden SELECT generate_series(1, 100); COMMIT');
    expect(await readSlot()).toEqual([]);
  });

  it('a 20k-row transaction passes in 20 chunks of 1000, never holding more than one chunk', async () => {
    await writer.query(`
      INSERT INTO bulk
      SELECT g, md5(g::text)::uuid, 'title number ' || g, g * 7, '2024-01-01'::timestamptz + g * interval '1 minute'
        FROM generate_series(1, 20000) g`);
    const data = await readSlot();
    expect(data).toHaveLength(20_003); // Begin, Relation, 20 000 Inserts, Commit

    const { events, transactions } = assemble(data, 1000);
    const chunks = events.filter((e) => e.type === 'chunk');
    expect(chunks.map((c) => [c.seq, c.changes.length])).toEqual(
      Array.from({ length: 20 }, (_, i) => [i, 1000]),
    );
    expect(events.filter((e) => e.type === 'commit')).toMatchObject([{ chunks: 20, changes: 20_000 }]);
    const rows = transactions[0]!.changes.map((c) => (c.kind === 'insert' ? c.row : []));
    expect(rows.map((r) => Number(r[0]))).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    const expected = await writer.query<string[]>({
      text: 'SELECT id, uid, title, n, at FROM bulk WHERE id IN (1, 20000) ORDER BY id',
      rowMode: 'array',
      types: { getTypeParser: () => (value: string) => value },
    });
    expect([rows[0], rows[19_999]]).toEqual(expected.rows);

    // Throughput (printed, not asserted): best of 5 passes.
    const bytes = data.reduce((sum, d) => sum + d.length, 0);
    const measure = (run: () => void) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        run();
        best = Math.min(best, performance.now() - start);
      }
      return best / 1000;
    };
    let sink: PgoutputMessage | undefined;
    const decodeSeconds = measure(() => {
      const decoder = createPgoutputDecoder();
      for (const d of data) sink = decoder.decode(d);
    });
    const assembleSeconds = measure(() => {
      const decoder = createPgoutputDecoder();
      const assembler = createTransactionAssembler({ maxChunkChanges: 1000, shapeFor: () => 1 });
      for (const d of data) assembler.push(decoder.decode(d));
    });
    expect(sink?.type).toBe('commit');
    const rate = (seconds: number) =>
      `${Math.round(data.length / seconds).toLocaleString('en')} messages/s, ${(bytes / seconds / 1e6).toFixed(1)} MB/s`;
    console.log(
      `pgoutput 20k-row workload (${data.length} messages, ${(bytes / 1e6).toFixed(2)} MB): ` +
        `decode ${rate(decodeSeconds)}; decode+assemble ${rate(assembleSeconds)}`,
    );
  });

  it('v2 streaming: interleaved transactions and a rolled-back savepoint', async () => {
    const pad = `'${'p'.repeat(100)}'`;
    await writer.query('BEGIN');
    const bigXid = await currentXid(writer);
    await writer.query(`INSERT INTO stream_rows SELECT g, 'first', ${pad} FROM generate_series(1, 2000) g`);
    // Another session commits while the big transaction is open: it must come out as a normal transaction
    // between the big one's stream blocks.
    await writer2.query("INSERT INTO items VALUES (7, 'kiwi', 1)");
    await writer.query('SAVEPOINT doomed');
    await writer.query(
      `INSERT INTO stream_rows SELECT g, 'doomed', ${pad} FROM generate_series(2001, 4000) g`,
    );
    await writer.query('ROLLBACK TO SAVEPOINT doomed');
    await writer.query(
      `INSERT INTO stream_rows SELECT g, 'second', ${pad} FROM generate_series(4001, 5000) g`,
    );
    await writer.query('COMMIT');

    // logical_decoding_work_mem applies in the decoding session (the one calling peek), not the writer's.
    await reader.query("SET logical_decoding_work_mem = '64kB'");
    const data = await readSlot(V2_STREAMING);
    await reader.query('RESET logical_decoding_work_mem');
    const { events, transactions, streams, describeChange } = assemble(data, 500);

    const firstStreamChunk = events.findIndex((e) => e.type === 'stream-chunk');
    const kiwiBegin = events.findIndex((e) => e.type === 'begin' && !e.streamed);
    const bigBegin = events.findIndex((e) => e.type === 'begin' && e.streamed);
    expect(firstStreamChunk).toBeGreaterThanOrEqual(0);
    expect(kiwiBegin).toBeGreaterThan(firstStreamChunk);
    expect(bigBegin).toBeGreaterThan(kiwiBegin);
    const streamChunks = events.filter((e) => e.type === 'stream-chunk');
    expect(streamChunks.map((e) => e.seq)).toEqual(streamChunks.map((_, i) => i));
    for (const e of streamChunks) {
      expect(e.xid).toBe(bigXid);
      expect(e.changes.length).toBeLessThanOrEqual(500);
    }
    // The savepoint's changes were streamed with their subxact xid, then aborted by subxid alone.
    const subxids = new Set(streamChunks.flatMap((e) => e.subxids));
    const aborts = events.filter((e) => e.type === 'abort');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]!.xid).toBe(bigXid);
    expect(aborts[0]!.subxid).not.toBe(bigXid);
    expect(subxids.has(aborts[0]!.subxid)).toBe(true);
    expect(streams.size).toBe(0);

    expect(transactions.map((t) => [t.header.xid, t.streamed])).toEqual([
      [expect.any(Number), false],
      [bigXid, true],
    ]);
    expect(transactions[0]!.changes.map(describeChange)).toEqual([
      { table: 'items', kind: 'insert', row: { id: '7', name: 'kiwi', qty: '1' } },
    ]);
    const big = transactions[1]!.changes.map((c) =>
      c.kind === 'insert' ? [Number(c.row[0]), c.row[1]] : [],
    );
    expect(big).toEqual([
      ...Array.from({ length: 2000 }, (_, i) => [i + 1, 'first']),
      ...Array.from({ length: 1000 }, (_, i) => [i + 4001, 'second']),
    ]);
    expect(transactions[1]!.header.commitLsn).toBeGreaterThan(transactions[0]!.header.commitLsn);
  });

  it('v2 streaming: an in-progress transaction is streamed open-ended; once rolled back it is never streamed', async () => {
    const pad = `'${'p'.repeat(100)}'`;
    await writer2.query('BEGIN');
    const xid = await currentXid(writer2);
    await writer2.query(
      `INSERT INTO stream_rows SELECT g, 'open', ${pad} FROM generate_series(10001, 13000) g`,
    );
    // A commit flushes the WAL, including the open transaction's records so far.
    await writer.query('INSERT INTO hidden VALUES (2000)');
    await reader.query("SET logical_decoding_work_mem = '64kB'");
    try {
      const open = assemble(await readSlot(V2_STREAMING), 500);
      expect(open.transactions).toEqual([]);
      expect(open.events.length).toBeGreaterThan(0);
      expect(new Set(open.events.flatMap((e) => (e.type === 'stream-chunk' ? [e.xid] : [])))).toEqual(
        new Set([xid]),
      );
      expect(open.streams.get(xid)?.changes.length).toBeGreaterThan(0);

      // More rows, then a new session: Postgres streams the open transaction again from its first change.
      await writer2.query(
        `INSERT INTO stream_rows SELECT g, 'open', ${pad} FROM generate_series(13001, 14000) g`,
      );
      await writer.query('INSERT INTO hidden VALUES (2002)');
      const again = assemble(await readSlot(V2_STREAMING), 500);
      const firstChunk = again.events.find((e) => e.type === 'stream-chunk');
      expect(firstChunk).toMatchObject({ xid, seq: 0 });
      const ids = again.streams.get(xid)!.changes.map((c) => (c.kind === 'insert' ? Number(c.row[0]) : 0));
      expect(ids.slice(0, 3)).toEqual([10001, 10002, 10003]);
      expect(ids.length).toBeGreaterThan(open.streams.get(xid)!.changes.length);

      await writer2.query('ROLLBACK');
      await writer.query('INSERT INTO hidden VALUES (2003)'); // abort records are not flushed; a commit is
      // Decoding after the rollback: Postgres (16+) sees the transaction aborted and drops it instead of streaming
      // it, so a top-level Stream Abort only reaches a reader that streamed it earlier in the same session.
      expect(await readSlot(V2_STREAMING)).toEqual([]);
    } finally {
      await reader.query('RESET logical_decoding_work_mem');
    }
  });
});
