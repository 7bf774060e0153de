import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CursorBatch, SubscriberCursor } from './subscriber-cursor.ts';

type Tx = { lsn: bigint };
const limits = { maxQueued: 4, lowWater: 2, readLimit: 3 };
const cursorAt = (cursor: bigint, head = cursor) =>
  new SubscriberCursor<Tx>((t) => t.lsn, { cursor, head }, limits);
const batch = (
  afterLsn: bigint,
  lsns: bigint[],
  opts: { head?: bigint; through?: bigint; requestId?: number } = {},
): CursorBatch<Tx> => {
  const throughLsn = opts.through ?? (lsns.length > 0 ? lsns[lsns.length - 1]! : afterLsn);
  return {
    afterLsn,
    throughLsn,
    head: opts.head ?? throughLsn,
    transactions: lsns.map((lsn) => ({ lsn })),
    ...(opts.requestId === undefined ? {} : { requestId: opts.requestId }),
  };
};
const lsnsOf = (txs: readonly Tx[]) => txs.map((t) => t.lsn);

describe('SubscriberCursor', () => {
  it('takes a push that continues the cursor, skipping what it already has', () => {
    const c = cursorAt(10n);
    expect(lsnsOf(c.onBatch(batch(10n, [11n, 12n]), 0))).toEqual([11n, 12n]);
    expect(lsnsOf(c.onBatch(batch(5n, [8n, 12n, 14n]), 0))).toEqual([14n]); // overlap
    expect(c.onBatch(batch(10n, [11n, 12n]), 0)).toEqual([]); // duplicate
    expect(c.cursor).toBe(14n);
    expect(c.nextRead(0)).toBeUndefined();
  });

  it('drops a push that starts past the cursor and reads the log instead', () => {
    const c = cursorAt(10n);
    expect(c.onBatch(batch(12n, [13n]), 0)).toEqual([]);
    expect(c.cursor).toBe(10n);
    expect(c.head).toBe(13n);
    expect(c.nextRead(0)).toEqual({ requestId: 1, afterLsn: 10n, limit: 3 });
    expect(c.nextRead(0)).toBeUndefined(); // one read at a time
    expect(lsnsOf(c.onBatch(batch(10n, [11n, 12n, 13n], { requestId: 1 }), 0))).toEqual([11n, 12n, 13n]);
    expect(c.wantsRead).toBe(false);
  });

  it('drops a push while the outbox is full, but always uses a read it asked for', () => {
    const c = cursorAt(10n);
    expect(c.onBatch(batch(10n, [11n]), limits.maxQueued)).toEqual([]);
    expect(c.nextRead(limits.lowWater)).toBeUndefined(); // waits for room
    const read = c.nextRead(limits.lowWater - 1)!;
    expect(lsnsOf(c.onBatch(batch(10n, [11n], { requestId: read.requestId }), 100))).toEqual([11n]);
  });

  it('moves the cursor to throughLsn when the head moved without transactions', () => {
    const c = cursorAt(10n);
    c.onHead(20n);
    expect(c.wantsRead).toBe(true);
    expect(c.onBatch(batch(10n, [], { through: 20n }), 0)).toEqual([]);
    expect(c.cursor).toBe(20n);
    expect(c.wantsRead).toBe(false);
  });

  it('hands out a continuous run of the log, whatever pushes arrive in whatever order (property)', () => {
    const log = Array.from({ length: 30 }, (_, i) => BigInt((i + 1) * 10));
    const slice = (from: number, to: number): CursorBatch<Tx> =>
      batch(from === 0 ? 0n : log[from - 1]!, log.slice(from, to), { head: log[log.length - 1]! });
    const arb = fc.array(
      fc
        .tuple(fc.nat(29), fc.integer({ min: 1, max: 6 }), fc.nat(6), fc.boolean())
        .map(([from, n, outbox, read]) => ({
          from,
          to: Math.min(30, from + n),
          outbox,
          read,
        })),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, (events) => {
        const c = cursorAt(0n);
        const got: bigint[] = [];
        for (const e of events) {
          const request = e.read ? c.nextRead(e.outbox) : undefined;
          const b = request
            ? { ...slice(c.cursor === 0n ? 0 : log.indexOf(c.cursor) + 1, 30), requestId: request.requestId }
            : slice(e.from, e.to);
          got.push(...lsnsOf(c.onBatch(b, e.outbox)));
        }
        expect(got).toEqual(log.slice(0, got.length));
        expect(c.cursor).toBe(got.length === 0 ? 0n : got[got.length - 1]);
      }),
    );
  });
});
