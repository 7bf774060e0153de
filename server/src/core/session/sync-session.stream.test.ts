import { ErrorCode, SyncMode } from '@vibestack/proto';
import { describe, expect, it } from 'vitest';
import { type LoggedChange, UNCHANGED_DATUM } from '../change.ts';
import { CLIENT_ID, Driver, emptyWorld, hello } from './testing/fake-shell.ts';
import {
  deleteTask,
  insertProject,
  insertTask,
  project,
  SHAPES,
  TASKS,
  TASKS_OID,
  task,
  txn,
  updateTask,
} from './testing/fixtures.ts';

function started(world = emptyWorld(), config = {}) {
  const d = new Driver(world, config);
  d.handle({ type: 'open' });
  return d;
}

describe('sync session: catch-up and live', () => {
  function world() {
    const w = emptyWorld();
    w.floor = 10n;
    w.head = 300n;
    w.log = [
      txn(110n, [insertProject(project(1))]),
      txn(120n, [insertTask(task(1, 'bob'))]),
      txn(130n, [insertTask(task(2, 'user_42'))]),
      txn(140n, [updateTask(task(1, 'bob'), task(1, 'user_42', 'mine now'))]),
      txn(150n, [deleteTask(task(2, 'user_42'))]),
    ];
    return w;
  }

  it('catches up with the transactions after resume_lsn that concern the client, then Progress{caught_up}', () => {
    const d = started(world());
    d.send(hello({ resumeLsn: 110n }));
    expect(d.framesOf('welcome')[0]!.mode).toBe(SyncMode.CATCH_UP);
    expect(d.trace()).toEqual([
      'welcome',
      'relation',
      'transaction@130#0',
      'transaction@140#0',
      'transaction@150#0',
      'progress',
    ]);
    const [insert, moveIn, del] = d.framesOf('transaction');
    expect(insert).toMatchObject({ changes: [{ kind: { case: 'insert' } }] });
    expect(moveIn).toMatchObject({ changes: [{ kind: { case: 'insert' } }] });
    expect(del).toMatchObject({ changes: [{ kind: { case: 'delete' } }] });
    expect(d.framesOf('progress')).toMatchObject([{ lsn: 300n, caughtUp: true }]);
    expect(d.session.state).toBe('LIVE');
  });

  it('never sends a data frame without credit, and resumes when credit arrives', () => {
    const d = started(world());
    d.send(hello({ resumeLsn: 110n, initialCredit: 2 }));
    expect(d.trace()).toEqual(['welcome', 'relation', 'transaction@130#0']);
    expect(d.session.state).toBe('CATCHING_UP');
    d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: 10 } });
    expect(d.trace().slice(3)).toEqual(['transaction@140#0', 'transaction@150#0', 'progress']);
  });

  it('validates acks and persists them one at a time', () => {
    const d = started(world());
    d.hold.add('persist-ack');
    d.send(hello({ resumeLsn: 110n }));
    const ack = (lsn: bigint) => d.send({ case: 'ack', value: { $typeName: 'vibestack.sync.v1.Ack', lsn } });
    ack(130n);
    ack(140n);
    ack(120n);
    expect(d.held).toEqual([{ type: 'persist-ack', clientId: CLIENT_ID, lsn: 130n }]);
    d.release(d.held[0]!);
    expect(d.held).toEqual([{ type: 'persist-ack', clientId: CLIENT_ID, lsn: 140n }]);
    ack(301n);
    expect(d.closes).toEqual([{ code: 4006, reason: 'ERROR_CODE_PROTOCOL_VIOLATION' }]);
  });

  it('uses pushed batches that continue the cursor and sends rate-limited Progress', () => {
    const w = emptyWorld();
    const d = started(w, { progressIntervalMs: 1_000 });
    d.send(hello({ resumeLsn: 100n }));
    const push = (afterLsn: bigint, head: bigint, txs: ReturnType<typeof txn>[]) => {
      w.head = head;
      w.log.push(...txs);
      return d.handle({
        type: 'log-batch',
        batch: { afterLsn, throughLsn: head, transactions: txs, shapes: SHAPES, head, floor: 0n },
      });
    };
    push(100n, 110n, [txn(110n, [insertTask(task(1, 'user_42'))])]);
    push(110n, 120n, [txn(120n, [insertTask(task(2, 'bob'))])]);
    expect(d.trace().slice(1)).toEqual(['relation', 'transaction@110#0', 'progress']);
    push(120n, 130n, [txn(130n, [insertTask(task(3, 'bob'))])]);
    expect(d.framesOf('progress')).toHaveLength(1);
    d.advance(1_000);
    expect(d.framesOf('progress').map((p) => p.lsn)).toEqual([120n, 130n]);
  });

  it('drops pushes for a slow client and serves it from the log later', () => {
    const w = emptyWorld();
    const d = started(w, { maxQueuedFrames: 2 });
    d.send(hello({ resumeLsn: 100n, initialCredit: 1 }));
    for (let i = 1n; i <= 6n; i++) {
      const tx = txn(100n + i, [insertTask(task(Number(i), 'user_42'))]);
      w.log.push(tx);
      w.head = 100n + i;
      d.handle({
        type: 'log-batch',
        batch: {
          afterLsn: 99n + i,
          throughLsn: 100n + i,
          transactions: [tx],
          shapes: SHAPES,
          head: w.head,
          floor: 0n,
        },
      });
    }
    expect(d.trace()).toEqual(['welcome', 'relation']);
    d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: 100 } });
    expect(d.framesOf('transaction').map((t) => t.commitLsn)).toEqual([101n, 102n, 103n, 104n, 105n, 106n]);
  });

  it('answers mutations with REJECTED until writes exist, keeping the id rules', () => {
    const d = started(world());
    d.send(hello({ resumeLsn: 300n }));
    const m = (id: bigint) => ({
      $typeName: 'vibestack.sync.v1.Mutation' as const,
      mutationId: id,
      schema: 'public',
      table: 'tasks',
      op: 1,
      primaryKey: [],
      values: [],
      hlc: { $typeName: 'vibestack.sync.v1.Hlc' as const, physicalMs: 1n, logical: 0 },
    });
    d.send({
      case: 'mutations',
      value: { $typeName: 'vibestack.sync.v1.MutationBatch', mutations: [m(1n), m(2n)] },
    });
    d.send({
      case: 'mutations',
      value: { $typeName: 'vibestack.sync.v1.MutationBatch', mutations: [m(2n), m(4n)] },
    });
    const results = d
      .framesOf('mutationResults')
      .flatMap((r) => r.results.map((x) => [x.mutationId, x.status, x.errorCode]));
    expect(results).toEqual([
      [1n, 2, ErrorCode.PERMISSION_DENIED],
      [2n, 2, ErrorCode.PERMISSION_DENIED],
      [2n, 3, 0],
    ]);
    expect(d.closes).toEqual([{ code: 4015, reason: 'ERROR_CODE_MUTATION_OUT_OF_ORDER' }]);
    expect(d.world.records.get(CLIENT_ID)!.lastMutationId).toBe(2n);
  });
});

describe('sync session: details of the stream', () => {
  it('splits a large transaction into numbered frames', () => {
    const w = emptyWorld();
    w.head = 200n;
    w.log = [
      txn(
        150n,
        [1, 2, 3, 4, 5].map((i) => insertTask(task(i, 'user_42'))),
      ),
    ];
    const d = started(w, { maxChangesPerFrame: 2 });
    d.send(hello({ resumeLsn: 100n }));
    const frames = d.framesOf('transaction');
    expect(frames.map((f) => [f.frameIndex, f.hasMore, f.changes.length])).toEqual([
      [0, true, 2],
      [1, true, 2],
      [2, false, 1],
    ]);
  });

  it('fetches a moving-in row whose unchanged values the log does not hold', () => {
    const w = emptyWorld();
    w.head = 200n;
    const defaultTasks = { ...SHAPES[1]!, shapeId: 9, replicaIdentity: 'd' as const };
    const row = task(7, 'user_42', 'long text');
    w.current.set(TASKS_OID, new Map([['7', row]]));
    const logged: LoggedChange = {
      kind: 'update',
      shapeId: 9,
      row: ['7', '1', 'user_42', UNCHANGED_DATUM, 'hush'],
    };
    const d = started(w);
    d.hold.add('read-log');
    d.send(hello({ resumeLsn: 100n }));
    const read = d.held[0]!;
    d.handle({
      type: 'log-batch',
      batch: {
        requestId: (read as { requestId: number }).requestId,
        afterLsn: 100n,
        throughLsn: 200n,
        transactions: [txn(150n, [logged])],
        shapes: [defaultTasks],
        head: 200n,
        floor: 0n,
      },
    });
    expect(d.effects.find((e) => e.type === 'fetch-rows')).toMatchObject({
      table: { name: 'tasks' },
      keys: [['7']],
      keyColumns: ['id'],
    });
    const tx = d.framesOf('transaction')[0]!;
    const insert = tx.changes[0]!.kind;
    expect(insert.case).toBe('insert');
    expect(insert.case === 'insert' && insert.value.newRow!.values[3]!.kind).toEqual({
      case: 'textValue',
      value: 'long text',
    });
    expect(d.framesOf('progress')).toMatchObject([{ lsn: 200n, caughtUp: true }]);
  });

  it('re-sends a changed Relation with the same id before the next use', () => {
    const w = emptyWorld();
    w.head = 200n;
    w.log = [txn(150n, [insertTask(task(1, 'user_42'))])];
    const d = started(w);
    d.send(hello({ resumeLsn: 100n }));
    const changed = {
      ...TASKS,
      columns: TASKS.columns.map((c) => (c.name === 'title' ? { ...c, nullable: false } : c)),
    };
    d.handle({ type: 'catalog-changed', catalog: [changed, ...w.catalog.filter((c) => c !== TASKS)] });
    const tx = txn(210n, [insertTask(task(2, 'user_42'))]);
    w.log.push(tx);
    w.head = 210n;
    d.handle({
      type: 'log-batch',
      batch: { afterLsn: 200n, throughLsn: 210n, transactions: [tx], shapes: SHAPES, head: 210n, floor: 0n },
    });
    const relations = d.framesOf('relation');
    expect(relations.map((r) => [r.relationId, r.columns[3]!.nullable])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(d.trace().slice(-2)).toEqual(['relation', 'transaction@210#0']);
  });

  it('tells a client that fell behind the retained log to refetch', () => {
    const w = emptyWorld();
    w.head = 300n;
    w.log = [txn(150n, [insertTask(task(1, 'user_42'))])];
    const d = started(w);
    d.hold.add('read-log');
    d.send(hello({ resumeLsn: 100n }));
    d.handle({ type: 'log-head', head: 400n, floor: 250n });
    expect(d.closes).toEqual([{ code: 4010, reason: 'ERROR_CODE_MUST_REFETCH' }]);
  });

  it('tells a slow client to refetch when a log read comes back past transactions retention dropped', () => {
    const w = emptyWorld();
    w.head = 150n;
    w.log = [110n, 120n, 130n, 140n, 150n].map((lsn) => txn(lsn, [insertTask(task(Number(lsn), 'user_42'))]));
    const d = started(w, { maxQueuedFrames: 2, logReadLimit: 1 });
    d.send(hello({ resumeLsn: 100n, initialCredit: 1 }));
    expect(d.trace()).toEqual(['welcome', 'relation']);
    // Retention dropped 120 and 130 while the client granted no credit: the next read starts at 140.
    w.log = w.log.filter((t) => t.header.commitLsn > 130n);
    w.floor = 130n;
    d.send({ case: 'credit', value: { $typeName: 'vibestack.sync.v1.Credit', frames: 100 } });
    expect(d.framesOf('transaction').map((t) => t.commitLsn)).toEqual([110n]);
    expect(d.closes).toEqual([{ code: 4010, reason: 'ERROR_CODE_MUST_REFETCH' }]);
  });

  it('tells a client to refetch when a fan-out push starts past transactions retention dropped', () => {
    const w = emptyWorld();
    w.head = 100n;
    const d = started(w);
    d.send(hello({ resumeLsn: 100n }));
    expect(d.session.state).toBe('LIVE');
    // The poll logged 110–150, retention dropped 110–130 before the push was read (its afterLsn is still 100).
    const txs = [txn(140n, [insertTask(task(4, 'user_42'))]), txn(150n, [insertTask(task(5, 'user_42'))])];
    d.handle({
      type: 'log-batch',
      batch: { afterLsn: 100n, throughLsn: 150n, transactions: txs, shapes: SHAPES, head: 150n, floor: 130n },
    });
    expect(d.framesOf('transaction')).toEqual([]);
    expect(d.closes).toEqual([{ code: 4010, reason: 'ERROR_CODE_MUST_REFETCH' }]);
  });

  it('sends a transaction read in parts as consecutive frames, ackable only at the end, ignoring pushes meanwhile', () => {
    const w = emptyWorld();
    w.head = 300n;
    const big = txn(
      200n,
      Array.from({ length: 7 }, (_, i) => insertTask(task(i + 1, i === 3 ? 'bob' : 'user_42'))),
    );
    w.log = [txn(150n, [insertTask(task(20, 'user_42'))]), big, txn(250n, [insertTask(task(30, 'user_42'))])];
    w.chunking = { chunkChanges: 2, readMaxChunks: 1 };
    const d = started(w, { maxChangesPerFrame: 1 });
    d.hold.add('read-log');
    d.send(hello({ resumeLsn: 100n }));
    const answer = () => d.release(d.held[0]!);
    answer(); // 150
    answer(); // 200, chunk 0
    expect(d.effects.filter((e) => e.type === 'read-log').at(-1)).toMatchObject({
      continueAt: { commitLsn: 200n, fromChunk: 1 },
    });
    // A fan-out push of the whole log meanwhile must not restart the half-sent transaction.
    d.handle({
      type: 'log-batch',
      batch: { afterLsn: 100n, throughLsn: 300n, transactions: w.log, shapes: SHAPES, head: 300n, floor: 0n },
    });
    while (d.held.length > 0) answer();
    const frames = d.framesOf('transaction').filter((t) => t.commitLsn === 200n);
    // Six of the seven rows are the user's (bob's row is filtered away), one change per frame.
    expect(frames.map((t) => [t.frameIndex, t.hasMore, t.changes.length])).toEqual([
      [0, true, 1],
      [1, true, 1],
      [2, true, 1],
      [3, true, 1],
      [4, true, 1],
      [5, false, 1],
    ]);
    expect(d.trace()).toEqual([
      'welcome',
      'relation',
      'transaction@150#0',
      ...frames.map((_, i) => `transaction@200#${i}`),
      'transaction@250#0',
      'progress',
    ]);
  });

  it('closes a transaction with an empty last frame when its last part is filtered away', () => {
    const w = emptyWorld();
    w.head = 300n;
    w.log = [
      txn(200n, [insertTask(task(1, 'user_42')), insertTask(task(2, 'bob')), insertTask(task(3, 'bob'))]),
    ];
    w.chunking = { chunkChanges: 1, readMaxChunks: 1 };
    const d = started(w);
    d.send(hello({ resumeLsn: 100n }));
    expect(d.framesOf('transaction').map((t) => [t.frameIndex, t.hasMore, t.changes.length])).toEqual([
      [0, true, 1],
      [1, false, 0],
    ]);
    // A transaction filtered away entirely, in parts, sends nothing.
    const none = emptyWorld();
    none.head = 300n;
    none.log = [txn(200n, [insertTask(task(2, 'bob')), insertTask(task(3, 'bob'))])];
    none.chunking = { chunkChanges: 1, readMaxChunks: 1 };
    const quiet = started(none);
    quiet.send(hello({ resumeLsn: 100n }));
    expect(quiet.trace()).toEqual(['welcome', 'progress']);
  });
});
