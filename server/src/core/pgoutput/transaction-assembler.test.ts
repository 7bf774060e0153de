import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LoggedChange, UNCHANGED_DATUM } from '../change.ts';
import { PgoutputProtocolError } from './errors.ts';
import type { PgoutputMessage, RelationMessage } from './messages.ts';
import { type AssemblerEvent, createTransactionAssembler } from './transaction-assembler.ts';

const relation = (
  oid: number,
  columns = ['id', 'title'],
  extra: Partial<RelationMessage> = {},
): RelationMessage => ({
  type: 'relation',
  relationOid: oid,
  namespace: 'public',
  name: `t${oid}`,
  replicaIdentity: 'd',
  columns: columns.map((name, i) => ({
    flags: i === 0 ? 1 : 0,
    isKey: i === 0,
    name,
    typeOid: 25,
    typeModifier: -1,
  })),
  ...extra,
});
const begin = (lsn: bigint, xid = 1): PgoutputMessage => ({
  type: 'begin',
  finalLsn: lsn,
  commitTimeUs: 5n,
  xid,
});
const commit = (lsn: bigint, end = lsn + 8n): PgoutputMessage => ({
  type: 'commit',
  flags: 0,
  commitLsn: lsn,
  endLsn: end,
  commitTimeUs: 5n,
});
const insert = (oid: number, id: string, xid?: number): PgoutputMessage => ({
  type: 'insert',
  relationOid: oid,
  newTuple: [id, `title ${id}`],
  ...(xid === undefined ? {} : { xid }),
});

/** An assembler whose shapeFor interns by (oid, column names), like the change log. */
function setup(maxChunkChanges = 1000) {
  const interned = new Map<string, number>();
  const assembler = createTransactionAssembler({
    maxChunkChanges,
    shapeFor: (r) => {
      const key = `${r.relationOid}:${r.columns.map((c) => c.name).join(',')}`;
      let id = interned.get(key);
      if (id === undefined) {
        id = interned.size + 1;
        interned.set(key, id);
      }
      return id;
    },
  });
  const feed = (messages: readonly PgoutputMessage[]): AssemblerEvent[] =>
    messages.flatMap((m) => {
      const events = assembler.push(m);
      expect(assembler.bufferedChanges).toBeLessThanOrEqual(maxChunkChanges);
      return [...events];
    });
  return { assembler, feed };
}

const protocolError = (fn: () => unknown, code: string): void => {
  expect(fn).toThrow(PgoutputProtocolError);
  try {
    fn();
  } catch (error) {
    expect((error as PgoutputProtocolError).code).toBe(code);
  }
};

describe('createTransactionAssembler: transactions', () => {
  it('emits shape, begin, chunks of maxChunkChanges, the remainder, then commit with endLsn', () => {
    const { feed } = setup(2);
    const events = feed([
      begin(100n, 7),
      relation(16384),
      insert(16384, '1'),
      insert(16384, '2'),
      insert(16384, '3'),
      commit(100n, 120n),
    ]);
    expect(events.map((e) => e.type)).toEqual(['begin', 'shape', 'chunk', 'chunk', 'commit']);
    expect(events[0]).toEqual({
      type: 'begin',
      header: { commitLsn: 100n, xid: 7, commitTimeUs: 5n },
      streamed: false,
    });
    expect(events[1]).toMatchObject({
      type: 'shape',
      shape: { shapeId: 1, relationOid: 16384, schema: 'public', name: 't16384', replicaIdentity: 'd' },
    });
    expect(events[2]).toEqual({
      type: 'chunk',
      commitLsn: 100n,
      seq: 0,
      changes: [
        { kind: 'insert', shapeId: 1, row: ['1', 'title 1'] },
        { kind: 'insert', shapeId: 1, row: ['2', 'title 2'] },
      ],
    });
    expect(events[3]).toMatchObject({ seq: 1, changes: [{ row: ['3', 'title 3'] }] });
    expect(events[4]).toEqual({
      type: 'commit',
      header: { commitLsn: 100n, endLsn: 120n, xid: 7, commitTimeUs: 5n },
      chunks: 2,
      changes: 3,
    });
  });

  it('maps updates (K/O/none), deletes, unchanged TOAST and truncates to LoggedChanges', () => {
    const { feed } = setup();
    const events = feed([
      relation(1),
      relation(2, ['id', 'body'], { replicaIdentity: 'f' }),
      begin(10n),
      { type: 'update', relationOid: 1, newTuple: ['1', UNCHANGED_DATUM] },
      { type: 'update', relationOid: 1, old: { kind: 'key', tuple: ['0', null] }, newTuple: ['1', 'x'] },
      { type: 'update', relationOid: 2, old: { kind: 'full', tuple: ['1', 'a'] }, newTuple: ['1', 'b'] },
      { type: 'delete', relationOid: 1, old: { kind: 'key', tuple: ['1', null] } },
      { type: 'truncate', options: 1, cascade: true, restartIdentity: false, relationOids: [2, 1] },
      commit(10n),
    ]);
    const changes = events.flatMap((e) => (e.type === 'chunk' ? e.changes : []));
    expect(changes).toEqual<LoggedChange[]>([
      { kind: 'update', shapeId: 1, row: ['1', UNCHANGED_DATUM] },
      { kind: 'update', shapeId: 1, row: ['1', 'x'], old: { kind: 'key', row: ['0', null] } },
      { kind: 'update', shapeId: 2, row: ['1', 'b'], old: { kind: 'full', row: ['1', 'a'] } },
      { kind: 'delete', shapeId: 1, old: { kind: 'key', row: ['1', null] } },
      { kind: 'truncate', shapeIds: [2, 1], cascade: true, restartIdentity: false },
    ]);
    expect('old' in changes[0]!).toBe(false);
  });

  it('re-sent identical Relation keeps the shape quietly; a changed one emits a new shape', () => {
    const { feed } = setup();
    expect(feed([relation(1)]).map((e) => e.type)).toEqual(['shape']);
    expect(feed([relation(1)])).toEqual([]);
    const events = feed([relation(1, ['id', 'title', 'done'])]);
    expect(events).toMatchObject([
      { type: 'shape', shape: { shapeId: 2, columns: [{}, {}, { name: 'done' }] } },
    ]);
  });

  it('a transactional message flushes the changes before it; a non-transactional one is emitted as is', () => {
    const { feed } = setup();
    const message = {
      type: 'message' as const,
      flags: 1,
      transactional: true,
      lsn: 3n,
      prefix: 'p',
      content: new Uint8Array(),
    };
    const events = feed([
      relation(1),
      { ...message, transactional: false, flags: 0 },
      begin(9n),
      insert(1, '1'),
      message,
      insert(1, '2'),
      commit(9n),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'shape',
      'message',
      'begin',
      'chunk',
      'message',
      'chunk',
      'commit',
    ]);
  });

  it('Origin and Type messages are ignored', () => {
    const { feed } = setup();
    expect(
      feed([
        begin(1n),
        { type: 'origin', originLsn: 1n, name: 'x' },
        { type: 'type', typeOid: 1, namespace: 'public', name: 'mood' },
        commit(1n),
      ]).map((e) => e.type),
    ).toEqual(['begin', 'commit']);
  });
});

describe('createTransactionAssembler: protocol violations', () => {
  it('changes outside Begin/Commit, nested Begin, Commit without Begin', () => {
    const { assembler } = setup();
    assembler.push(relation(1));
    protocolError(() => assembler.push(insert(1, '1')), 'unexpected-message');
    protocolError(() => setup().assembler.push(commit(1n)), 'unexpected-message');
    const nested = setup().assembler;
    nested.push(begin(1n));
    protocolError(() => nested.push(begin(2n)), 'unexpected-message');
  });

  it('Commit LSN must equal Begin final LSN', () => {
    const { assembler } = setup();
    assembler.push(begin(100n));
    protocolError(() => assembler.push(commit(101n)), 'commit-lsn-mismatch');
  });

  it('unknown relation OID, wrong column count, binary values', () => {
    const unknown = setup().assembler;
    unknown.push(begin(1n));
    protocolError(() => unknown.push(insert(5, '1')), 'unknown-relation');
    protocolError(
      () =>
        unknown.push({
          type: 'truncate',
          options: 0,
          cascade: false,
          restartIdentity: false,
          relationOids: [5],
        }),
      'unknown-relation',
    );
    const columns = setup().assembler;
    columns.push(relation(1, ['id']));
    columns.push(begin(1n));
    protocolError(() => columns.push(insert(1, '1')), 'column-count-mismatch');
    const binary = setup().assembler;
    binary.push(relation(1));
    binary.push(begin(1n));
    protocolError(
      () => binary.push({ type: 'insert', relationOid: 1, newTuple: ['1', Uint8Array.of(1)] }),
      'binary-value',
    );
  });

  it('stream order: data without xid in a stream, xid outside, bad first-segment flags, unknown stream commit', () => {
    const a = setup().assembler;
    a.push(relation(1));
    a.push({ type: 'stream-start', xid: 50, firstSegment: true });
    protocolError(() => a.push(insert(1, '1')), 'unexpected-message');
    const b = setup().assembler;
    b.push(relation(1));
    b.push(begin(1n));
    protocolError(() => b.push(insert(1, '1', 50)), 'unexpected-message');
    protocolError(
      () => setup().assembler.push({ type: 'stream-start', xid: 50, firstSegment: false }),
      'stream-mismatch',
    );
    const c = setup().assembler;
    c.push({ type: 'stream-start', xid: 50, firstSegment: true });
    c.push({ type: 'stream-stop' });
    protocolError(() => c.push({ type: 'stream-start', xid: 50, firstSegment: true }), 'stream-mismatch');
    protocolError(
      () =>
        setup().assembler.push({
          type: 'stream-commit',
          xid: 9,
          flags: 0,
          commitLsn: 1n,
          endLsn: 2n,
          commitTimeUs: 0n,
        }),
      'stream-mismatch',
    );
    protocolError(() => setup().assembler.push({ type: 'stream-stop' }), 'unexpected-message');
  });

  it('rejects a bad maxChunkChanges', () => {
    expect(() => createTransactionAssembler({ maxChunkChanges: 0, shapeFor: () => 1 })).toThrow(RangeError);
  });
});

describe('createTransactionAssembler: protocol v2 streaming', () => {
  const streamCommit = (xid: number, lsn: bigint): PgoutputMessage => ({
    type: 'stream-commit',
    xid,
    flags: 0,
    commitLsn: lsn,
    endLsn: lsn + 8n,
    commitTimeUs: 9n,
  });

  it('interleaved stream blocks and a normal transaction; begin/commit on Stream Commit', () => {
    const { assembler, feed } = setup(2);
    const events = feed([
      { type: 'stream-start', xid: 50, firstSegment: true },
      { ...relation(1), xid: 50 },
      insert(1, '1', 50),
      insert(1, '2', 51), // subxact 51
      insert(1, '3', 50),
      { type: 'stream-stop' },
      relation(1),
      begin(200n, 60),
      insert(1, '9'),
      commit(200n),
      { type: 'stream-start', xid: 50, firstSegment: false },
      insert(1, '4', 50),
      { type: 'stream-stop' },
    ]);
    expect(assembler.openStreams).toBe(1);
    expect(events.map((e) => e.type)).toEqual([
      'shape',
      'stream-chunk',
      'stream-chunk',
      'shape', // the stream's Relation is not yet known outside the stream
      'begin',
      'chunk',
      'commit',
      'stream-chunk',
    ]);
    expect(events[1]).toMatchObject({
      xid: 50,
      seq: 0,
      subxids: [50, 51],
      changes: [{ row: ['1', 'title 1'] }, {}],
    });
    expect(events[2]).toMatchObject({ xid: 50, seq: 1, subxids: [50] });
    expect(events[7]).toMatchObject({ xid: 50, seq: 2, subxids: [50] });
    const done = feed([streamCommit(50, 300n)]);
    expect(done).toEqual([
      { type: 'begin', header: { commitLsn: 300n, xid: 50, commitTimeUs: 9n }, streamed: true },
      {
        type: 'commit',
        header: { commitLsn: 300n, endLsn: 308n, xid: 50, commitTimeUs: 9n },
        chunks: 3,
        changes: 4,
      },
    ]);
    expect(assembler.openStreams).toBe(0);
  });

  it('subtransaction and top-level aborts', () => {
    const { assembler, feed } = setup();
    const events = feed([
      relation(1),
      { type: 'stream-start', xid: 50, firstSegment: true },
      insert(1, '1', 51),
      { type: 'stream-stop' },
      { type: 'stream-abort', xid: 50, subxid: 51 },
    ]);
    expect(events.at(-1)).toEqual({ type: 'abort', xid: 50, subxid: 51 });
    expect(assembler.openStreams).toBe(1);
    expect(feed([{ type: 'stream-abort', xid: 50, subxid: 50 }])).toEqual([
      { type: 'abort', xid: 50, subxid: 50 },
    ]);
    expect(assembler.openStreams).toBe(0);
  });

  it('a Relation inside a stream applies to that stream until it commits', () => {
    const { feed } = setup();
    feed([relation(1)]);
    const events = feed([
      { type: 'stream-start', xid: 50, firstSegment: true },
      { ...relation(1, ['id', 'title', 'extra']), xid: 50 },
      { type: 'insert', xid: 50, relationOid: 1, newTuple: ['1', 'a', 'b'] },
      { type: 'stream-stop' },
      begin(5n),
      insert(1, '2'), // the old 2-column shape outside the stream
      commit(5n),
      streamCommit(50, 10n),
      begin(20n),
      { type: 'insert', relationOid: 1, newTuple: ['3', 'a', 'b'] }, // the stream's shape after its commit
      commit(20n),
    ]);
    const shapeIds = events.flatMap((e) =>
      e.type === 'chunk' || e.type === 'stream-chunk'
        ? e.changes.map((c) => (c.kind === 'insert' ? c.shapeId : 0))
        : [],
    );
    expect(shapeIds).toEqual([2, 1, 2]);
  });
});

describe('createTransactionAssembler: properties', () => {
  it('hands every change out once, in order, in chunks of at most maxChunkChanges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 8 }),
        (max, sizes) => {
          const { feed } = setup(max);
          const messages: PgoutputMessage[] = [relation(1)];
          let n = 0;
          sizes.forEach((size, t) => {
            messages.push(begin(BigInt(t + 1)));
            for (let i = 0; i < size; i++) messages.push(insert(1, String(n++)));
            messages.push(commit(BigInt(t + 1)));
          });
          const events = feed(messages);
          const chunks = events.filter((e) => e.type === 'chunk');
          for (const chunk of chunks) {
            expect(chunk.changes.length).toBeGreaterThan(0);
            expect(chunk.changes.length).toBeLessThanOrEqual(max);
          }
          const ids = chunks.flatMap((c) =>
            c.changes.map((change) => (change.kind === 'insert' ? change.row[0] : '')),
          );
          expect(ids).toEqual(Array.from({ length: n }, (_, i) => String(i)));
          const commits = events.filter((e) => e.type === 'commit');
          expect(commits.map((c) => c.changes)).toEqual(sizes);
          expect(commits.map((c) => c.chunks)).toEqual(sizes.map((s) => Math.ceil(s / max)));
        },
      ),
    );
  });
});
