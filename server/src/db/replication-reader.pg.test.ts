import { type Lsn, parseLsn } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { advanceSlot, type ReplicationRowSignal, readReplicationBatch } from './replication-reader.ts';
import { ensureReplicationSetup, slotStatus } from './setup.ts';
import type { SqlClient } from './sql-client.ts';
import { createDriverHarness, SQL_DRIVERS } from './testing/sql-drivers.ts';

const PUBLICATION = 'repl_pub';
const BIG_TX_ROWS = 20_000;
const FETCH_SIZE = 500;

let db: TestDatabase;
let admin: SqlClient;
const adminHarness = createDriverHarness('pg');
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await adminHarness.open(db.url);
  await admin.query(`
    CREATE TABLE published (id int PRIMARY KEY, note text);
    CREATE TABLE unpublished (id serial PRIMARY KEY, note text);`);
});
afterAll(async () => {
  await adminHarness.close();
  await db?.drop();
});

/** pgoutput message type (first byte) and, for Commit, its end LSN. */
const messageType = (data: Uint8Array): string => String.fromCharCode(data[0]!);
const commitEndLsn = (data: Uint8Array): Lsn =>
  new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(10);

/** Records the size of every FETCH page the reader receives. */
function countingPages(client: SqlClient): { client: SqlClient; pages: number[] } {
  const pages: number[] = [];
  return {
    pages,
    client: {
      query: (text, params) => client.query(text, params),
      end: () => client.end(),
      async queryArrays(text, params) {
        const result = await client.queryArrays(text, params);
        if (text.startsWith('FETCH')) pages.push(result.rows.length);
        return result;
      },
    },
  };
}

const currentLsn = async (): Promise<Lsn> =>
  parseLsn((await admin.query<{ l: string }>('SELECT pg_current_wal_lsn() AS l')).rows[0]!.l);

describe.each(SQL_DRIVERS)('replication reader over %s', (driver) => {
  const drivers = createDriverHarness(driver);
  const slot = `repl_slot_${driver}`;
  let client: SqlClient;
  const collect = () => {
    const types: string[] = [];
    const commitEnds: Lsn[] = [];
    const onRow = (_lsn: Lsn, _xid: number, data: Uint8Array): ReplicationRowSignal => {
      const type = messageType(data);
      types.push(type);
      if (type !== 'C') return undefined;
      commitEnds.push(commitEndLsn(data));
      return 'boundary';
    };
    return { types, onRow, commitEnds, lastCommitEnd: () => commitEnds.at(-1) ?? null };
  };

  beforeAll(async () => {
    client = await drivers.open(db.url);
    await ensureReplicationSetup(client, {
      publication: PUBLICATION,
      slot,
      tables: [{ schema: 'public', name: 'published' }],
    });
  });
  afterAll(() => drivers.close());

  it('reads every change of a 20k-row transaction through bounded FETCH pages', async () => {
    await admin.query('TRUNCATE published');
    await advanceSlot(client, slot, await currentLsn());
    await admin.query("INSERT INTO published SELECT i, 'note ' || i FROM generate_series(1, $1) i", [
      BIG_TX_ROWS,
    ]);
    const { client: counted, pages } = countingPages(client);
    const seen = collect();
    const xids = new Set<number>();
    const started = performance.now();
    const batch = await readReplicationBatch(counted, {
      slot,
      publication: PUBLICATION,
      fetchSize: FETCH_SIZE,
      maxRows: 1_000_000,
      onRow: (lsn, xid, data) => {
        xids.add(xid);
        return seen.onRow(lsn, xid, data);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[measure] readReplicationBatch over ${driver}: ${batch.rowsRead} rows in ${pages.length} pages, ` +
        `${Math.round(batch.rowsRead / seconds)} rows/s`,
    );
    expect(seen.types.filter((t) => t === 'I')).toHaveLength(BIG_TX_ROWS);
    expect(seen.types[0]).toBe('B');
    expect(seen.types.at(-1)).toBe('C');
    expect(batch).toMatchObject({ rowsRead: BIG_TX_ROWS + 3, exhausted: true });
    expect(xids.size).toBe(1);
    expect(Math.max(...pages)).toBeLessThanOrEqual(FETCH_SIZE);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil((BIG_TX_ROWS + 3) / FETCH_SIZE));
    // Peeking does not consume: the same changes are there until the slot is advanced past the commit.
    const again = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 5_000,
      maxRows: 1,
      onRow: () => 'stop',
    });
    expect(again).toMatchObject({ rowsRead: 1, exhausted: false });
    expect(await advanceSlot(client, slot, seen.lastCommitEnd()!)).toBe(seen.lastCommitEnd());
    const after = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 100,
      maxRows: 100,
      onRow: () => undefined,
    });
    expect(after.rowsRead).toBe(0);
  });

  it('ends a batch at the first boundary after maxRows, or at once on stop, and honours uptoLsn', async () => {
    await advanceSlot(client, slot, await currentLsn());
    for (let tx = 0; tx < 3; tx++) {
      await admin.query("INSERT INTO published SELECT i, 'b' FROM generate_series($1::int, $1::int + 4) i", [
        100_000 + tx * 10,
      ]);
    }
    const first = collect();
    const byBoundary = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 2,
      maxRows: 3,
      onRow: first.onRow,
    });
    expect(first.types).toEqual(['B', 'R', 'I', 'I', 'I', 'I', 'I', 'C']);
    expect(byBoundary).toMatchObject({ rowsRead: 8, exhausted: false });

    await advanceSlot(client, slot, first.lastCommitEnd()!);
    const stopped = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 100,
      maxRows: 1_000,
      onRow: (_l, _x, data) => (messageType(data) === 'I' ? 'stop' : undefined),
    });
    expect(stopped).toMatchObject({ rowsRead: 3, exhausted: false });

    const rest = collect();
    const all = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 100,
      maxRows: 1_000,
      onRow: rest.onRow,
    });
    expect(rest.types.filter((t) => t === 'C')).toHaveLength(2);
    expect(all.exhausted).toBe(true);

    // uptoLsn = the first remaining commit's end: only that transaction is returned.
    const upto = collect();
    const firstOnly = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      uptoLsn: rest.commitEnds[0]!,
      fetchSize: 100,
      maxRows: 1_000,
      onRow: upto.onRow,
    });
    expect(upto.types.filter((t) => t === 'C')).toHaveLength(1);
    expect(upto.commitEnds).toEqual([rest.commitEnds[0]]);
    expect(firstOnly).toMatchObject({ uptoLsn: rest.commitEnds[0], exhausted: true });
    await advanceSlot(client, slot, all.uptoLsn);
  });

  it('passes logical decoding messages through', async () => {
    await advanceSlot(client, slot, await currentLsn());
    await admin.query("SELECT pg_logical_emit_message(true, 'vibestack', 'hello')");
    const seen = collect();
    const batch = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 10,
      maxRows: 10,
      onRow: seen.onRow,
    });
    expect(seen.types).toEqual(['B', 'M', 'C']);
    await advanceSlot(client, slot, batch.uptoLsn);
  });

  it('advances the slot monotonically: a lower LSN is a no-op', async () => {
    await admin.query("INSERT INTO published VALUES (900001, 'x')");
    const target = await currentLsn();
    const before = (await slotStatus(client, slot)).confirmedFlushLsn!;
    expect(target > before).toBe(true);
    expect(await advanceSlot(client, slot, target)).toBe(target);
    expect((await slotStatus(client, slot)).confirmedFlushLsn).toBe(target);
    expect(await advanceSlot(client, slot, before)).toBe(target);
    expect(await advanceSlot(client, slot, target)).toBe(target);
    expect((await slotStatus(client, slot)).confirmedFlushLsn).toBe(target);
    await expect(advanceSlot(client, 'no_such_slot', target)).rejects.toThrow(/does not exist/);
  });

  it('moves past WAL of unpublished tables when advanced to uptoLsn', async () => {
    const start = (await slotStatus(client, slot)).confirmedFlushLsn!;
    await admin.query("INSERT INTO unpublished (note) SELECT 'n' FROM generate_series(1, 2000)");
    const written = await currentLsn();
    const batch = await readReplicationBatch(client, {
      slot,
      publication: PUBLICATION,
      fetchSize: 100,
      maxRows: 100,
      onRow: () => undefined,
    });
    expect(batch).toMatchObject({ rowsRead: 0, exhausted: true });
    expect(batch.uptoLsn >= written).toBe(true);
    const moved = await advanceSlot(client, slot, batch.uptoLsn);
    expect(moved).toBe(batch.uptoLsn);
    expect(moved > start).toBe(true);
    const status = await slotStatus(client, slot);
    expect(status.confirmedFlushLsn).toBe(batch.uptoLsn);
  });
});
