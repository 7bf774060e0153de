/**
 * The replication poll against real Postgres, with both drivers: transactions reach the change log exactly
 * once and in commit order, the slot advances only after the log has them (and also past WAL of unpublished
 * tables), a crash between log and slot advance duplicates nothing, and a large transaction passes through in
 * bounded chunks.
 */
import { createTestDatabase, type TestDatabase } from '@vibestack/server/dev';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNCHANGED_DATUM } from '../core/change.ts';
import { ChangeLog } from '../core/log/change-log.ts';
import { createMemorySql } from '../core/log/testing/memory-sql.ts';
import { ensureReplicationSetup, slotStatus } from '../db/setup.ts';
import type { SqlClient } from '../db/sql-client.ts';
import { createDriverHarness, SQL_DRIVERS } from '../db/testing/sql-drivers.ts';
import { type PumpOptions, pumpReplication } from './replication-pump.ts';

describe.each(SQL_DRIVERS)('replication pump (%s)', (driver) => {
  const drivers = createDriverHarness(driver);
  let db: TestDatabase;
  let client: SqlClient;
  let writer: SqlClient;
  const options: PumpOptions = {
    slot: `pump_${driver}`,
    publication: 'pump_pub',
    fetchSize: 500,
    maxRows: 5_000,
    chunkChanges: 1_000,
    nowMs: () => Date.now(),
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    client = await drivers.open(db.url);
    writer = await drivers.open(db.url);
    await writer.query(
      `CREATE TABLE items (id bigint PRIMARY KEY, title text, body text);
       ALTER TABLE items ALTER COLUMN body SET STORAGE EXTERNAL;
       CREATE TABLE unpublished (id bigint PRIMARY KEY, v text)`,
    );
    await ensureReplicationSetup(client, {
      publication: options.publication,
      slot: options.slot,
      tables: [{ schema: 'public', name: 'items' }],
    });
  });

  afterAll(async () => {
    await drivers.close();
    await db?.drop();
  });

  async function newLog(): Promise<{ log: ChangeLog; sql: ReturnType<typeof createMemorySql> }> {
    const sql = createMemorySql();
    const status = await slotStatus(client, options.slot);
    return { sql, log: ChangeLog.open(sql, status.confirmedFlushLsn ?? 0n) };
  }

  it('logs committed transactions in order, exactly once, then advances the slot', async () => {
    const { log } = await newLog();
    await writer.query("INSERT INTO items VALUES (1, 'a', 'x'), (2, 'b', 'y')");
    await writer.query("UPDATE items SET title = 'a2' WHERE id = 1");
    await writer.query('BEGIN');
    await writer.query('DELETE FROM items WHERE id = 2');
    await writer.query("INSERT INTO items VALUES (3, 'c', 'z')");
    await writer.query('COMMIT');
    const r = await pumpReplication(client, log, options);
    expect(r).toMatchObject({ transactions: 3, changes: 5, caughtUp: true });
    const txs = log.transactionsAfter(0n, 10);
    expect(txs.map((t) => t.changeCount)).toEqual([2, 1, 2]);
    expect(txs.every((t, i) => i === 0 || t.commitLsn > txs[i - 1]!.commitLsn)).toBe(true);
    const [ins, upd, mixed] = txs.map((t) => log.readTransaction(t));
    expect(ins).toEqual([
      { kind: 'insert', shapeId: 1, row: ['1', 'a', 'x'] },
      { kind: 'insert', shapeId: 1, row: ['2', 'b', 'y'] },
    ]);
    expect(upd).toEqual([{ kind: 'update', shapeId: 1, row: ['1', 'a2', 'x'] }]);
    expect(mixed?.[0]).toMatchObject({ kind: 'delete', old: { kind: 'key', row: ['2', null, null] } });
    const status = await slotStatus(client, options.slot);
    expect(status.confirmedFlushLsn).toBeGreaterThanOrEqual(txs.at(-1)!.endLsn);
    expect(log.head()).toBeGreaterThanOrEqual(txs.at(-1)!.commitLsn);
    // Nothing new: a second poll logs nothing.
    expect(await pumpReplication(client, log, options)).toMatchObject({ transactions: 0, caughtUp: true });
  });

  it('advances the slot and the head when only unpublished tables change (no WAL bloat)', async () => {
    const { log } = await newLog();
    await pumpReplication(client, log, options);
    const before = await slotStatus(client, options.slot);
    const headBefore = log.head();
    await writer.query("INSERT INTO unpublished SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g");
    const r = await pumpReplication(client, log, options);
    expect(r.transactions).toBe(0);
    const after = await slotStatus(client, options.slot);
    expect(after.confirmedFlushLsn!).toBeGreaterThan(before.confirmedFlushLsn!);
    expect(log.head()).toBeGreaterThan(headBefore);
  });

  it('keeps unchanged TOAST values as unchanged markers', async () => {
    const { log } = await newLog();
    await pumpReplication(client, log, options);
    const big = 'q'.repeat(20_000);
    await writer.query('INSERT INTO items VALUES (10, $1, $2)', ['t', big]);
    await writer.query("UPDATE items SET title = 't2' WHERE id = 10");
    await pumpReplication(client, log, options);
    const [insert, update] = log
      .transactionsAfter(log.floor(), 10)
      .slice(-2)
      .map((t) => log.readTransaction(t)[0]);
    expect(insert).toMatchObject({ row: ['10', 't', big] });
    expect(update).toMatchObject({ kind: 'update', row: ['10', 't2', UNCHANGED_DATUM] });
  });

  it('duplicates nothing when the process dies after logging but before the slot moved', async () => {
    const { sql, log } = await newLog();
    await pumpReplication(client, log, options);
    await writer.query("INSERT INTO items SELECT g, 'crash', NULL FROM generate_series(100, 104) g");
    await writer.query("INSERT INTO items VALUES (105, 'crash', NULL)");
    // Log the transactions but "crash" before advancing the slot: a client that never reaches advanceSlot.
    const broken: SqlClient = {
      ...client,
      query: (async (text: string, params?: unknown[]) => {
        if (text.includes('pg_replication_slot_advance')) throw new Error('crash');
        return client.query(text, params);
      }) as SqlClient['query'],
    };
    await expect(pumpReplication(broken, log, options)).rejects.toThrow('crash');
    const logged = log.transactionsAfter(0n, 100).length;
    // Restart: the same storage, a new process; the slot re-delivers the same WAL.
    const restarted = ChangeLog.open(sql, 0n);
    const r = await pumpReplication(client, restarted, options);
    expect(r.transactions).toBe(0);
    expect(restarted.transactionsAfter(0n, 100).length).toBe(logged);
  });

  it('passes a 20k-row transaction through in bounded chunks and logs it atomically', async () => {
    const { log } = await newLog();
    await pumpReplication(client, log, options);
    await writer.query("INSERT INTO items SELECT g, 'bulk', NULL FROM generate_series(1000, 20999) g");
    let r = await pumpReplication(client, log, { ...options, chunkChanges: 700 });
    while (!r.caughtUp) r = await pumpReplication(client, log, { ...options, chunkChanges: 700 });
    const tx = log.transactionsAfter(0n, 1000).at(-1)!;
    expect(tx.changeCount).toBe(20_000);
    expect(tx.chunkCount).toBe(Math.ceil(20_000 / 700));
    const chunks = log.readChunks(tx.commitLsn, 0, tx.chunkCount);
    expect(Math.max(...chunks.map((c) => c.length))).toBe(700);
  });
});
