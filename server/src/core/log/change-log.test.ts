import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoggedChange, type TableShape, UNCHANGED_DATUM } from '../change.ts';
import { ChangeLog, type LogContinuation } from './change-log.ts';
import { decodeChunk } from './chunk-codec.ts';
import { createMemorySql } from './testing/memory-sql.ts';

const shape: Omit<TableShape, 'shapeId'> = {
  relationOid: 16_400,
  schema: 'public',
  name: 'tasks',
  replicaIdentity: 'd',
  columns: [
    { name: 'id', typeOid: 2950, typeModifier: -1, isKey: true },
    { name: 'title', typeOid: 25, typeModifier: -1, isKey: false },
  ],
};

const opened: { close(): void }[] = [];
function newLog(start = 100n) {
  const sql = createMemorySql();
  opened.push(sql);
  return { sql, log: ChangeLog.open(sql, start) };
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

const header = (commitLsn: bigint, xid = 1) => ({
  commitLsn,
  endLsn: commitLsn + 8n,
  xid,
  commitTimeUs: 1_700_000_000_000_000n,
});

const datum = fc.oneof(fc.string(), fc.constant(null), fc.constant(UNCHANGED_DATUM));
const tuple = fc.array(datum, { minLength: 2, maxLength: 2 });
const change = (shapeId: number): fc.Arbitrary<LoggedChange> =>
  fc.oneof(
    tuple.map((row) => ({ kind: 'insert' as const, shapeId, row })),
    fc
      .tuple(
        tuple,
        fc.option(fc.tuple(fc.constantFrom('key' as const, 'full' as const), tuple), { nil: undefined }),
      )
      .map(([row, old]) =>
        old
          ? { kind: 'update' as const, shapeId, row, old: { kind: old[0], row: old[1] } }
          : { kind: 'update' as const, shapeId, row },
      ),
    fc
      .tuple(fc.constantFrom('key' as const, 'full' as const), tuple)
      .map(([kind, row]) => ({ kind: 'delete' as const, shapeId, old: { kind, row } })),
    fc.tuple(fc.boolean(), fc.boolean()).map(([cascade, restartIdentity]) => ({
      kind: 'truncate' as const,
      shapeIds: [shapeId],
      cascade,
      restartIdentity,
    })),
  );

describe('change log', () => {
  it('reads in bounded batches that split only oversized transactions and lose or repeat nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(7), { maxLength: 10 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (chunkCounts, maxChunks, maxTransactions) => {
          const { log } = newLog(0n);
          const ins = (text: string): LoggedChange => ({ kind: 'insert', shapeId: 1, row: ['1', text] });
          chunkCounts.forEach((n, i) => {
            const lsn = BigInt((i + 1) * 100);
            for (let seq = 0; seq < n; seq++) log.appendChunk(lsn, seq, [ins(`${lsn}:${seq}`)]);
            log.commit(header(lsn, i), n, 0);
          });
          log.advanceHead(5_000n);
          const seen: string[] = [];
          let after = 0n;
          let cont: LogContinuation | undefined;
          for (let reads = 0; reads < 200; reads++) {
            const r = log.readBatch(after, { maxTransactions, maxChunks }, cont);
            expect(r.afterLsn).toBe(after);
            const chunks = r.parts.reduce((sum, p) => sum + p.payloads.length, 0);
            expect(chunks).toBeLessThanOrEqual(maxChunks);
            expect(r.parts.length).toBeLessThanOrEqual(maxTransactions);
            r.parts.forEach((p, i) => {
              // Only the last part may be incomplete; a transaction is split only when it alone exceeds the budget.
              if (i < r.parts.length - 1) expect(p.more).toBe(false);
              if (p.fromChunk === 0 && p.more) expect(p.tx.chunkCount).toBeGreaterThan(maxChunks);
              p.payloads.forEach((payload, k) => {
                expect(decodeChunk(payload)).toEqual([ins(`${p.tx.commitLsn}:${p.fromChunk + k}`)]);
                seen.push(`${p.tx.commitLsn}:${p.fromChunk + k}`);
              });
            });
            const last = r.parts.at(-1);
            cont = last?.more
              ? { commitLsn: last.tx.commitLsn, fromChunk: last.fromChunk + last.payloads.length }
              : undefined;
            expect(r.throughLsn).toBeGreaterThanOrEqual(after);
            after = r.throughLsn;
            if (after === 5_000n) break;
          }
          expect(after).toBe(5_000n);
          expect(seen).toEqual(
            chunkCounts.flatMap((n, i) => Array.from({ length: n }, (_, seq) => `${(i + 1) * 100}:${seq}`)),
          );
        },
      ),
    );
  });

  it('starts with head = floor = just below the start LSN and keeps them across reopen', () => {
    const { sql, log } = newLog(500n);
    expect(ChangeLog.exists(sql)).toBe(true);
    expect(ChangeLog.exists(createMemorySql())).toBe(false);
    expect(log.head()).toBe(499n);
    expect(log.floor()).toBe(499n);
    log.advanceHead(600n);
    expect(ChangeLog.open(sql, 1n).head()).toBe(600n);
  });

  it('interns shapes: equal shapes share an id, changed shapes get a new one, ids survive reopen', () => {
    const { sql, log } = newLog();
    const a = log.internShape(shape);
    expect(log.internShape({ ...shape })).toBe(a);
    const b = log.internShape({
      ...shape,
      columns: [...shape.columns, { name: 'done', typeOid: 16, typeModifier: -1, isKey: false }],
    });
    expect(b).not.toBe(a);
    const reopened = ChangeLog.open(sql, 0n);
    expect(reopened.shape(b).columns.map((c) => c.name)).toEqual(['id', 'title', 'done']);
    expect(() => reopened.shape(999)).toThrow(RangeError);
  });

  it('stores and returns any transactions exactly, in commit order, chunk by chunk', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.array(change(1), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }),
          { maxLength: 8 },
        ),
        (txs) => {
          const { log } = newLog(0n);
          txs.forEach((chunks, i) => {
            const lsn = BigInt((i + 1) * 100);
            chunks.forEach((c, seq) => {
              log.appendChunk(lsn, seq, c);
            });
            log.commit(header(lsn, i), chunks.length, 0);
          });
          const read = log.transactionsAfter(0n, 1000);
          expect(read.map((t) => t.commitLsn)).toEqual(txs.map((_, i) => BigInt((i + 1) * 100)));
          read.forEach((t, i) => {
            expect(t.changeCount).toBe(txs[i]!.flat().length);
            expect(log.readTransaction(t)).toEqual(txs[i]!.flat());
          });
          expect(log.head()).toBe(BigInt(txs.length * 100));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is idempotent: re-reading WAL after a crash rewrites pending chunks and never touches committed ones', () => {
    const { sql, log } = newLog(0n);
    const ins = (title: string): LoggedChange => ({ kind: 'insert', shapeId: 1, row: ['1', title] });
    log.appendChunk(100n, 0, [ins('a')]);
    log.commit(header(100n), 1, 0);
    log.appendChunk(100n, 0, [ins('changed')]);
    log.commit(header(100n), 1, 0);
    log.appendChunk(200n, 0, [ins('pending')]);
    // Crash: reopening drops the uncommitted chunk.
    const after = ChangeLog.open(sql, 0n);
    expect(after.transactionsAfter(0n, 10).map((t) => t.commitLsn)).toEqual([100n]);
    expect(after.readTransaction(after.transactionsAfter(0n, 1)[0]!)).toEqual([ins('a')]);
    expect(sql.exec('SELECT count(*) AS n FROM log_chunks')[0]!.n).toBe(1);
    // A re-read with different chunking commits only the chunks it wrote.
    after.appendChunk(200n, 0, [ins('x')]);
    after.appendChunk(200n, 1, [ins('y')]);
    after.appendChunk(200n, 2, [ins('stale from an earlier attempt')]);
    after.appendChunk(200n, 0, [ins('x'), ins('y')]);
    after.commit(header(200n), 1, 0);
    expect(after.readTransaction(after.transactionsAfter(100n, 1)[0]!)).toEqual([ins('x'), ins('y')]);
  });

  it('refuses to commit a transaction with a missing chunk', () => {
    const { log } = newLog(0n);
    log.appendChunk(100n, 1, [{ kind: 'insert', shapeId: 1, row: ['1', 'a'] }]);
    expect(() => log.commit(header(100n), 2, 0)).toThrow(/refusing to commit/);
    expect(log.transactionsAfter(0n, 10)).toEqual([]);
    expect(log.head()).toBe(0n);
  });

  it('moves the head only forwards', () => {
    const { log } = newLog(101n);
    log.advanceHead(300n);
    log.advanceHead(200n);
    expect(log.head()).toBe(300n);
  });

  it('enforces retention by size and by age, raising the floor to the last dropped commit', () => {
    const { log } = newLog(0n);
    const big = 'x'.repeat(1000);
    for (let i = 1; i <= 10; i++) {
      log.appendChunk(BigInt(i * 10), 0, [{ kind: 'insert', shapeId: 1, row: [String(i), big] }]);
      log.commit(header(BigInt(i * 10), i), 1, i * 1000);
    }
    const perTx = log.stats().bytes / 10;
    expect(log.enforceRetention({ maxBytes: perTx * 6.5, maxAgeMs: 1e12 }, 10_000)).toBe(4);
    expect(log.floor()).toBe(40n);
    expect(log.transactionsAfter(0n, 100).map((t) => t.commitLsn)[0]).toBe(50n);
    // Age: logged at 5000..10000 ms; at now = 12_500 with max age 5000, those logged before 7500 go.
    expect(log.enforceRetention({ maxBytes: 1e12, maxAgeMs: 5000 }, 12_500)).toBe(3);
    expect(log.floor()).toBe(70n);
    expect(log.stats()).toMatchObject({ transactions: 3, head: 100n, floor: 70n });
  });

  it('finds where a snapshot handoff must start replaying, with 32-bit xid wraparound', () => {
    const { log } = newLog(0n);
    const xids = [4_294_967_290, 4_294_967_295, 3, 10];
    xids.forEach((xid, i) => {
      const lsn = BigInt((i + 1) * 100);
      log.appendChunk(lsn, 0, []);
      log.commit(header(lsn, xid), 1, 0);
    });
    expect(log.replayStartForSnapshot(4_294_967_293)).toBe(199n);
    expect(log.replayStartForSnapshot(3)).toBe(299n);
    expect(log.replayStartForSnapshot(11)).toBe(log.head());
  });
});

describe('change log restart after a lost slot', () => {
  it('drops everything and raises the floor above every acknowledged position', () => {
    const { log } = newLog(0n);
    log.appendChunk(100n, 0, [{ kind: 'insert', shapeId: 1, row: ['1', 'a'] }]);
    log.commit(header(100n), 1, 0);
    log.restartAt(50n);
    expect(log.transactionsAfter(0n, 10)).toEqual([]);
    expect(log.floor()).toBe(101n);
    expect(log.head()).toBe(101n);
    log.restartAt(500n);
    expect(log.floor()).toBe(499n);
  });
});
