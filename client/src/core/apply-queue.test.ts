import { describe, expect, it } from 'vitest';
import { ApplyQueue, type QueuedWork } from './apply-queue.ts';
import type { ApplyWork } from './client-types.ts';
import { itemRow, itemsRelation } from './testing/server-frames.ts';

const items = itemsRelation();
const chunk = (rows: number, cursor: number, frames = 1): QueuedWork => ({
  work: {
    kind: 'snapshot-chunks',
    snapshotId: 's',
    chunks: [{ relation: items, rows: Array.from({ length: rows }, (_, i) => itemRow(BigInt(i))) }],
    cursor: new Uint8Array([cursor]),
  },
  frames,
  connection: 1,
});
const handoff: QueuedWork = {
  work: { kind: 'snapshot-handoff', transactions: [] },
  frames: 1,
  connection: 1,
};
const rowsOf = (w: ApplyWork | undefined) =>
  w?.kind === 'snapshot-chunks' ? w.chunks.reduce((n, c) => n + c.rows.length, 0) : undefined;

describe('ApplyQueue snapshot hold', () => {
  it('stages chunks at once without a hold', () => {
    const q = new ApplyQueue(10_000);
    q.push(chunk(10, 1));
    expect(rowsOf(q.take()?.work)).toBe(10);
  });

  it('holds chunks until enough rows are pending, then stages them as one work with the last cursor', () => {
    const q = new ApplyQueue(10_000, { rows: 25, frames: 100 });
    q.push(chunk(10, 1));
    expect(q.take()).toBeUndefined();
    q.push(chunk(10, 2));
    expect(q.take()).toBeUndefined();
    q.push(chunk(10, 3));
    const taken = q.take();
    expect(rowsOf(taken?.work)).toBe(30);
    expect(taken?.frames).toBe(3);
    expect(taken?.work.kind === 'snapshot-chunks' && [...taken.work.cursor]).toEqual([3]);
  });

  it('stops holding at the frame bound (held frames keep their credit)', () => {
    const q = new ApplyQueue(10_000, { rows: 1_000, frames: 2 });
    q.push(chunk(1, 1));
    expect(q.take()).toBeUndefined();
    q.push(chunk(1, 2));
    expect(q.take()?.frames).toBe(2);
  });

  it('stops holding when any other work is queued behind the chunks', () => {
    const q = new ApplyQueue(10_000, { rows: 1_000, frames: 100 });
    q.push(chunk(5, 1));
    q.push(handoff);
    expect(rowsOf(q.take()?.work)).toBe(5);
    q.finish(1);
    expect(q.take()?.work.kind).toBe('snapshot-handoff');
  });

  it('never holds other works', () => {
    const q = new ApplyQueue(10_000, { rows: 1_000, frames: 100 });
    q.push({ work: { kind: 'transactions', transactions: [], lsn: 5n }, frames: 1, connection: 1 });
    expect(q.take()?.work.kind).toBe('transactions');
  });
});
