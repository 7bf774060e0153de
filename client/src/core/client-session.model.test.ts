/**
 * Model-based test of the client session (SPEC.md invariants): a conforming fake server, an in-memory store
 * that commits only when told, and random interleavings of frames, commits, failed applies, dropped sockets,
 * timer jumps, MUST_REFETCH and crashes (a new session from the store's committed state). After the faults the
 * run is driven to quiescence and the store must hold the server's state at its head.
 */

import { ErrorCode, encodeServerFrame, type Lsn, SyncMode } from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClientSession, createClientSession } from './client-session.ts';
import type { ClientEvent } from './client-types.ts';
import { MemoryStore } from './testing/memory-store.ts';
import {
  headOf,
  type ModelChange,
  ModelConnection,
  type ModelTransaction,
  type ModelWorld,
  stateAfter,
} from './testing/model-server.ts';
import { CLIENT_ID, T0 } from './testing/server-frames.ts';

const id = fc.integer({ min: 1, max: 6 });
const title = fc.constantFrom('a', 'b', 'c', '');
const change: fc.Arbitrary<ModelChange> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), id, title }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      id,
      title: fc.option(title, { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), id }) },
  { weight: 1, arbitrary: fc.constant({ op: 'truncate' as const }) },
);

const world: fc.Arbitrary<ModelWorld> = fc
  .record({
    txs: fc.array(
      fc.record({ changes: fc.array(change, { maxLength: 4 }), perFrame: fc.integer({ min: 1, max: 3 }) }),
      {
        maxLength: 10,
      },
    ),
    snapshotAt: fc.nat(),
    handoff: fc.nat({ max: 2 }),
    rowsPerChunk: fc.integer({ min: 1, max: 3 }),
    refetchOnce: fc.boolean(),
    duplicates: fc.boolean(),
    moving: fc.boolean(),
  })
  .map(({ txs, snapshotAt, handoff, rowsPerChunk, refetchOnce, duplicates, moving }) => {
    const history: ModelTransaction[] = txs.map((t, i) => ({ ...t, lsn: 100n + 10n * BigInt(i + 1) }));
    const at = history.length === 0 ? 0 : snapshotAt % (history.length + 1);
    const w = {
      history,
      snapshotAt: at,
      handoff: Math.min(handoff, at),
      rowsPerChunk,
      refetchOnce,
      duplicates,
    };
    return { ...w, moving };
  });

type Step =
  | 'open'
  | 'deliver'
  | 'apply-done'
  | 'apply-failed'
  | 'drop'
  | 'tick'
  | 'silence'
  | 'refetch'
  | 'crash';
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('deliver' as const) },
  { weight: 4, arbitrary: fc.constant('apply-done' as const) },
  { weight: 3, arbitrary: fc.constantFrom('open' as const, 'tick' as const) },
  { weight: 2, arbitrary: fc.constant('drop' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'apply-failed' as const,
      'silence' as const,
      'refetch' as const,
      'crash' as const,
    ),
  },
);

/** One run: the session, the store, the server connection, and the invariant checks on every effect. */
class Run {
  readonly store = new MemoryStore();
  readonly problems: string[] = [];
  session!: ClientSession;
  conn: ModelConnection | undefined;
  now = T0;
  /** The session asked for a token (`get-token`), then to open a socket (`connect`). */
  pendingToken = false;
  pendingOpen = false;
  /** This session was told MUST_REFETCH and has not committed a snapshot since. */
  refetched = false;
  /** Welcome(INITIAL) arrived on this connection and its SnapshotEnd is not committed. */
  initialOpen = false;
  /** A snapshot commit failed: the session starts the next snapshot afresh (no snapshot_resume). */
  snapshotForgotten = false;
  /** The work in flight was handed out after a MUST_REFETCH (only such a snapshot commit ends the refetch). */
  issuedWhileRefetched = false;
  /** MUST_REFETCH errors received so far, and how many there were when the work in flight was handed out. */
  refetches = 0;
  refetchesAtIssue = 0;
  readonly #world: ModelWorld;
  readonly #credit: number;
  readonly #snapshotGroupRows: number;

  constructor(w: ModelWorld, initialCredit: number, snapshotGroupRows = 0) {
    this.#world = w;
    this.#credit = initialCredit;
    this.#snapshotGroupRows = snapshotGroupRows;
    this.restart();
  }

  restart(): void {
    if (this.store.inFlight !== undefined) this.store.rollback();
    this.conn = undefined;
    this.pendingToken = false;
    this.pendingOpen = false;
    this.refetched = false;
    this.snapshotForgotten = false;
    const resume = this.store.resumeState();
    this.session = createClientSession({
      clientId: CLIENT_ID,
      resume,
      initialCredit: this.#credit,
      maxGroupChanges: 5,
      snapshotGroupRows: this.#snapshotGroupRows,
      random: () => 0.5,
    });
    this.feed({ type: 'start' });
  }

  feed(event: ClientEvent): void {
    for (const e of this.session.handle(event, this.now)) {
      if (e.type === 'get-token' || e.type === 'connect') {
        if (this.store.inFlight !== undefined) this.problems.push(`${e.type} while an apply is in flight`);
        if (e.type === 'get-token') this.pendingToken = true;
        else this.pendingOpen = true;
      } else if (e.type === 'apply') {
        this.store.begin(e.id, e.work);
        this.issuedWhileRefetched = this.refetched;
        this.refetchesAtIssue = this.refetches;
      } else if (e.type === 'close') {
        this.conn = undefined;
      } else if (e.type === 'send') {
        this.#sent(e.message);
      }
    }
  }

  #sent(m: Parameters<ModelConnection['receive']>[0]): void {
    const v = m.message;
    if (this.conn === undefined) return void this.problems.push(`${v.case} sent without a connection`);
    if (v.case === 'hello') {
      const expected = this.refetched ? 0n : this.store.appliedLsn;
      if (v.value.resumeLsn !== expected)
        this.problems.push(`Hello resume ${v.value.resumeLsn}, committed ${expected}`);
      const sent = v.value.snapshotResume;
      const stored = this.store.position;
      const same =
        sent === undefined
          ? stored === undefined || this.refetched || this.snapshotForgotten || v.value.resumeLsn !== 0n
          : sent.snapshotId === stored?.snapshotId &&
            Buffer.from(sent.cursor).equals(Buffer.from(stored.cursor));
      if (!same) this.problems.push('Hello snapshot_resume is not the committed position');
    }
    if (v.case === 'ack') {
      if (v.value.lsn > this.store.appliedLsn)
        this.problems.push(`Ack ${v.value.lsn} above committed ${this.store.appliedLsn}`);
      if (this.initialOpen) this.problems.push('Ack before the snapshot commit');
    }
    this.conn.receive(m);
  }

  do(s: Step): void {
    switch (s) {
      case 'open':
        if (this.pendingToken) {
          this.pendingToken = false;
          this.feed({ type: 'token', token: 't' });
        }
        if (!this.pendingOpen) return;
        this.pendingOpen = false;
        this.conn = new ModelConnection(this.#world, this.problems);
        this.initialOpen = false;
        this.feed({ type: 'socket-open', subprotocol: 'vibestack.sync.v1' });
        return;
      case 'deliver': {
        const c = this.conn;
        if (c === undefined || c.peek() === undefined) return;
        const m = c.take();
        if (m.message.case === 'welcome' && m.message.value.mode === SyncMode.INITIAL)
          this.initialOpen = true;
        if (m.message.case === 'error' && m.message.value.code === ErrorCode.MUST_REFETCH) {
          this.refetched = true;
          this.refetches++;
        }
        this.feed({ type: 'frame', data: encodeServerFrame(m) });
        if (c.closed && this.conn === c) {
          this.conn = undefined;
          this.feed({ type: 'socket-closed', code: 4010, reason: '' });
        }
        return;
      }
      case 'apply-done': {
        const work = this.store.inFlight?.work;
        if (work === undefined) return;
        const done = this.store.commit();
        if (work.kind === 'snapshot-commit') {
          this.initialOpen = false;
          // A MUST_REFETCH that arrived after the work was handed out still stands (the session forgets the
          // works of that connection): the next Hello says 0 either way.
          if (this.issuedWhileRefetched && this.refetches === this.refetchesAtIssue) this.refetched = false;
        }
        if (work.kind === 'snapshot-begin' || work.kind === 'snapshot-chunks') this.snapshotForgotten = false;
        this.feed({ type: 'apply-done', id: done });
        return;
      }
      case 'apply-failed':
        if (this.store.inFlight === undefined) return;
        if (this.store.inFlight.work.kind === 'snapshot-commit') this.snapshotForgotten = true;
        this.feed({
          type: 'apply-failed',
          id: this.store.rollback(),
          error: new Error('boom') as never,
        });
        return;
      case 'drop':
        if (this.conn === undefined) return;
        this.conn = undefined;
        this.feed({ type: 'socket-closed', code: 1006, reason: '' });
        return;
      case 'tick':
        // Past the first backoff windows (250–500 ms with the fixed jitter).
        this.now += 300;
        this.feed({ type: 'tick' });
        return;
      case 'silence':
        this.now += 20_000;
        this.feed({ type: 'tick' });
        return;
      case 'refetch':
        this.conn?.refetch();
        return;
      case 'crash':
        this.restart();
        return;
    }
  }

  /** Without faults: commit, open, deliver, and wait out backoffs until nothing moves. */
  settle(): void {
    for (let i = 0; i < 10_000; i++) {
      if (this.store.inFlight !== undefined) this.do('apply-done');
      else if (this.pendingToken || this.pendingOpen) this.do('open');
      else if (this.conn?.peek() !== undefined) this.do('deliver');
      else if (this.session.state === 'BACKOFF') {
        this.now += 31_000;
        this.feed({ type: 'tick' });
      } else return;
    }
    this.problems.push('did not settle');
  }
}

describe('client session model', () => {
  it('keeps the SPEC.md invariants and ends with the server state under any interleaving', () => {
    fc.assert(
      fc.property(
        world,
        fc.array(step, { minLength: 20, maxLength: 200, size: 'max' }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(0, 2, 4, 1_000),
        (w, steps, credit, snapshotGroupRows) => {
          const run = new Run(w, credit, snapshotGroupRows);
          for (const s of steps) run.do(s);
          run.settle();
          expect(run.problems).toEqual([]);
          expect(run.session.state).toBe('LIVE');
          const head: Lsn = headOf(w);
          expect(run.store.appliedLsn).toBe(head);
          expect(run.session.resume.appliedLsn).toBe(head);
          expect(run.store.synced).toEqual(stateAfter(w.history, w.history.length));
        },
      ),
      { numRuns: 400 },
    );
  });
});
