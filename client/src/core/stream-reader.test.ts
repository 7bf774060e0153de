import { ErrorCode, type ServerMessage, SyncError } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import type { ApplyWork } from './client-types.ts';
import { StreamReader, type StreamStart } from './stream-reader.ts';
import {
  insertTx,
  itemRow,
  itemsRelation,
  progress,
  relationFrame,
  snapshotBegin,
  snapshotChunk,
  snapshotEnd,
} from './testing/server-frames.ts';

function reader(start: StreamStart) {
  const works: ApplyWork[] = [];
  let consumed = 0;
  const r = new StreamReader(start, {
    queue: (w) => works.push(w),
    consumed: (n) => {
      consumed += n;
    },
  });
  const feed = (...frames: ServerMessage[]) => frames.map((f) => r.data(f.message));
  return { r, works, feed, consumed: () => consumed };
}

const initial = (presented?: { snapshotId: string; cursor: Uint8Array }): StreamStart => ({
  mode: 'initial',
  presented,
  maxRows: 10,
});
const codeOf = (f: () => unknown): ErrorCode | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof SyncError ? e.code : undefined;
  }
  return undefined;
};

describe('stream reader: initial sync grammar (§6.1)', () => {
  it('turns a full snapshot with a handoff into works in order', () => {
    const { works, feed, consumed } = reader(initial());
    feed(
      relationFrame(),
      relationFrame(itemsRelation(2, 'other')),
      snapshotBegin('s', [1, 2]),
      snapshotChunk(1, [itemRow(1n)], false),
      snapshotChunk(1, [itemRow(2n)], true),
      snapshotChunk(2, [], true),
      insertTx(90n, 3n),
      snapshotEnd(100n, [2n, 0n]),
      insertTx(110n, 4n),
    );
    expect(works.map((w) => w.kind)).toEqual([
      'snapshot-begin',
      'snapshot-chunks',
      'snapshot-chunks',
      'snapshot-chunks',
      'snapshot-handoff',
      'snapshot-commit',
      'transactions',
    ]);
    expect(consumed()).toBe(2);
    const commit = works[5] as Extract<ApplyWork, { kind: 'snapshot-commit' }>;
    expect(commit.tables.map((t) => t.name)).toEqual(['items', 'other']);
  });

  it('rejects frames out of order', () => {
    const v = ErrorCode.PROTOCOL_VIOLATION;
    const begun = () => {
      const x = reader(initial());
      x.feed(relationFrame(), snapshotBegin('s', [1]));
      return x;
    };
    expect(codeOf(() => reader(initial()).feed(snapshotChunk(1, [], true)))).toBe(v);
    expect(codeOf(() => begun().feed(insertTx(90n, 1n)))).toBe(v);
    expect(codeOf(() => begun().feed(snapshotEnd(100n)))).toBe(v);
    expect(codeOf(() => begun().feed(progress(100n)))).toBe(v);
    expect(codeOf(() => begun().feed(snapshotChunk(1, [], true), insertTx(90n, 1n), insertTx(80n, 2n)))).toBe(
      v,
    );
    expect(
      codeOf(() => begun().feed(snapshotChunk(1, [], true), insertTx(120n, 1n), snapshotEnd(100n))),
    ).toBe(v);
    expect(codeOf(() => reader(initial()).feed(relationFrame(), snapshotBegin('s', [7])))).toBe(
      ErrorCode.UNKNOWN_RELATION,
    );
    expect(codeOf(() => reader(initial()).feed(relationFrame(), snapshotBegin('s', [1], true)))).toBe(v);
  });

  it('after a resume, skips the tables finished before the cursor', () => {
    const presented = { snapshotId: 's', cursor: new Uint8Array([1]) };
    const { works, feed } = reader(initial(presented));
    feed(relationFrame(), relationFrame(itemsRelation(2, 'b')), snapshotBegin('s', [1, 2], true));
    feed(snapshotChunk(2, [itemRow(5n)], true), snapshotEnd(100n));
    expect(works.map((w) => w.kind)).toEqual(['snapshot-chunks', 'snapshot-commit']);
    const all = reader(initial(presented));
    all.feed(relationFrame(), snapshotBegin('s', [1], true), insertTx(90n, 1n), snapshotEnd(100n));
    expect(all.works.map((w) => w.kind)).toEqual(['snapshot-handoff', 'snapshot-commit']);
  });

  it('rejects rows that break §7.1', () => {
    const x = reader(initial());
    x.feed(relationFrame(), snapshotBegin('s', [1]));
    const short = { ...itemRow(1n), values: itemRow(1n).values.slice(0, 1) };
    expect(codeOf(() => x.feed(snapshotChunk(1, [short], true)))).toBe(ErrorCode.MALFORMED_FRAME);
    const y = reader(initial());
    y.feed(relationFrame(), snapshotBegin('s', [1]));
    expect(
      codeOf(() =>
        y.feed(
          snapshotChunk(
            1,
            Array.from({ length: 11 }, () => itemRow(1n)),
            true,
          ),
        ),
      ),
    ).toBe(ErrorCode.MALFORMED_FRAME);
  });
});

describe('stream reader: transactions and Progress (§8)', () => {
  const resume = (lsn: bigint) => reader({ mode: 'resume', resumeLsn: lsn });

  it('assembles a transaction split over frames, with a Relation between them', () => {
    const { works, feed, consumed } = resume(100n);
    feed(relationFrame(), insertTx(110n, 1n, { more: true }), relationFrame());
    feed(insertTx(110n, 2n, { index: 1 }));
    expect(works).toHaveLength(1);
    const w = works[0] as Extract<ApplyWork, { kind: 'transactions' }>;
    expect(w.transactions[0]!.changes.map((c) => (c.op === 'insert' ? c.row[0] : ''))).toEqual(['1', '2']);
    expect(consumed()).toBe(3);
  });

  it('skips duplicates at or below the resume point but rejects other LSNs that do not increase', () => {
    const x = resume(100n);
    x.feed(
      relationFrame(),
      insertTx(90n, 1n, { more: true }),
      insertTx(90n, 1n, { index: 1 }),
      insertTx(110n, 2n),
    );
    expect(x.works).toHaveLength(1);
    expect(codeOf(() => x.feed(insertTx(105n, 3n)))).toBe(ErrorCode.PROTOCOL_VIOLATION);
  });

  it('skips a repeated transaction at or below the starting point, and rejects one above it (§8.5, §8.9)', () => {
    const x = resume(100n);
    x.feed(relationFrame(), insertTx(90n, 1n), insertTx(90n, 1n), insertTx(100n, 2n), insertTx(100n, 2n));
    expect(x.works).toHaveLength(0);
    expect(x.consumed()).toBe(5);
    x.feed(insertTx(110n, 3n));
    expect(codeOf(() => x.feed(insertTx(110n, 3n)))).toBe(ErrorCode.PROTOCOL_VIOLATION);
    // Below the start even after a higher LSN arrived: still a skip.
    x.feed(insertTx(90n, 1n));
    expect(x.works).toHaveLength(1);
    // At or below a Progress above the start: a violation.
    const p = resume(100n);
    p.feed(relationFrame(), progress(120n));
    expect(codeOf(() => p.feed(insertTx(120n, 1n)))).toBe(ErrorCode.PROTOCOL_VIOLATION);

    // After an initial sync the start is SnapshotEnd.lsn.
    const s = reader(initial());
    s.feed(relationFrame(), snapshotBegin('s', [1]), snapshotChunk(1, [], true), snapshotEnd(100n));
    s.feed(insertTx(100n, 1n), insertTx(100n, 1n), insertTx(110n, 2n));
    expect(s.works.map((w) => w.kind)).toEqual([
      'snapshot-begin',
      'snapshot-chunks',
      'snapshot-commit',
      'transactions',
    ]);
    expect(codeOf(() => s.feed(insertTx(110n, 2n)))).toBe(ErrorCode.PROTOCOL_VIOLATION);
  });

  it('checks frame sequence and Progress placement', () => {
    const v = ErrorCode.PROTOCOL_VIOLATION;
    const open = () => {
      const x = resume(100n);
      x.feed(relationFrame(), insertTx(110n, 1n, { more: true }));
      return x;
    };
    expect(codeOf(() => open().feed(insertTx(120n, 1n)))).toBe(v);
    expect(codeOf(() => open().feed(insertTx(110n, 1n, { index: 2 })))).toBe(v);
    expect(codeOf(() => open().feed(progress(120n)))).toBe(v);
    expect(codeOf(() => resume(100n).feed(relationFrame(), insertTx(110n, 1n, { index: 1 })))).toBe(v);
    const p = resume(100n);
    p.feed(relationFrame(), insertTx(110n, 1n), progress(150n));
    expect(codeOf(() => p.feed(progress(140n)))).toBe(v);
    expect(p.feed(progress(150n, true))).toEqual(['caught-up']);
    expect(p.works.map((w) => (w.kind === 'transactions' ? w.lsn : 0n))).toEqual([110n, 150n]);
  });

  it('rejects undescribed relations and bad values', () => {
    expect(codeOf(() => resume(100n).feed(insertTx(110n, 1n)))).toBe(ErrorCode.UNKNOWN_RELATION);
    const huge = reader({ mode: 'resume', resumeLsn: 0n });
    const int4 = itemsRelation();
    int4.columns[0]!.baseTypeOid = 23;
    huge.feed(relationFrame(int4));
    expect(codeOf(() => huge.feed(insertTx(110n, 2n ** 31n)))).toBe(ErrorCode.INVALID_VALUE);
  });
});
