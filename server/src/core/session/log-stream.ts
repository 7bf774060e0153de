/**
 * Transactions from the change log to one client (docs/protocol.md §6.3, §8, §10.4): the handoff after a
 * snapshot, catch-up and live. The session keeps only a cursor (the LSN up to which everything that concerns the
 * client is queued); the log is the buffer. Batches pushed by the fan-out are used when they continue the
 * cursor and the outbox has room, and dropped otherwise; the stream then reads the log itself, in pages of
 * `logReadLimit` transactions, while the outbox is below its low-water mark. A slow client therefore never
 * holds anything back but its own cursor. A large transaction arrives in parts (see `LogTransaction`); each part
 * is framed as it comes, so it reaches the client as consecutive Transaction frames without the session ever
 * holding all of it, and only its last frame is ackable (docs/protocol.md §8.2).
 */

import { create } from '@bufbuild/protobuf';
import {
  type Change,
  ErrorCode,
  type Lsn,
  maxLsn,
  ProgressSchema,
  ServerMessageSchema,
  SyncError,
} from '@vibestack/proto';
import type { TableShape, Tuple } from '../change.ts';
import { type ClientChange, resolveRowFetch, transformChange } from '../scope/index.ts';
import { changeFieldSize, frameTransaction } from './framing.ts';
import { encodeChange, tablesOf } from './row-codec.ts';
import type { LogCheckpoint } from './session-checkpoint.ts';
import type { LogBatch, LogTransaction } from './session-types.ts';
import type { HandoffStart } from './snapshot-stream.ts';
import { isVisibleInSnapshot } from './snapshot-visibility.ts';
import type { StreamContext } from './stream-context.ts';
import type { LayoutView } from './table-views.ts';

type Fetch = Extract<ClientChange, { kind: 'needs-row-fetch' }>;

/** A transaction waiting for rows the shell fetches (see `transformChange`). */
interface PendingFetch {
  readonly batch: LogBatch;
  readonly index: number;
  readonly changes: (ClientChange | readonly ClientChange[])[];
  /** Per outstanding request: the positions in `changes` it resolves. */
  readonly requests: Map<number, number[]>;
}

/** A transaction of which only the first parts were processed. */
interface Partial {
  readonly commitLsn: Lsn;
  /** The next stored chunk to read. */
  nextChunk: number;
  /** The next frame's `frame_index` (0: nothing sent yet). */
  frameIndex: number;
  /** The snapshot already saw the transaction (handoff): its parts are read and dropped. */
  readonly skip: boolean;
}

/** How the stream ends the handoff and catch-up. */
export interface LogStreamHooks {
  /** Queues SnapshotEnd (the handoff reached the snapshot's LSN). */
  endSnapshot(lsn: Lsn): void;
}

/** The change-log stream of one connection. */
export class LogStream {
  readonly #ctx: StreamContext;
  readonly #hooks: LogStreamHooks;
  readonly #shapes = new Map<number, TableShape>();
  #active = false;
  #cursor: Lsn = 0n;
  #head: Lsn;
  #floor: Lsn;
  #handoff: HandoffStart | undefined;
  #catchingUp = false;
  #lastQueuedLsn: Lsn = 0n;
  #progressDue = false;
  #lastProgressAt = Number.NEGATIVE_INFINITY;
  #reading: number | undefined;
  #nextRequestId = 1;
  #pending: PendingFetch | undefined;
  #partial: Partial | undefined;

  constructor(ctx: StreamContext, hooks: LogStreamHooks, bounds: { head: Lsn; floor: Lsn }) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#head = bounds.head;
    this.#floor = bounds.floor;
  }

  /** Starts after `cursor`: CATCH_UP ends with Progress{caught_up}; a handoff ends with SnapshotEnd. */
  start(cursor: Lsn, mode: 'catch-up' | 'live' | { handoff: HandoffStart }): void {
    this.#active = true;
    this.#cursor = cursor;
    this.#lastQueuedLsn = cursor;
    this.#catchingUp = mode === 'catch-up';
    this.#handoff = typeof mode === 'object' ? mode.handoff : undefined;
    this.#checkFloor();
    this.#settle();
  }

  /**
   * The position to continue from (see `SessionCheckpoint`), or `undefined` unless the stream is live and idle:
   * no read or row fetch outstanding, no transaction half-sent, no handoff or catch-up in progress.
   */
  checkpoint(): LogCheckpoint | undefined {
    const idle = this.#reading === undefined && this.#pending === undefined && this.#partial === undefined;
    if (!this.#active || !idle || this.#handoff !== undefined || this.#catchingUp) return undefined;
    return {
      cursor: this.#cursor.toString(),
      head: this.#head.toString(),
      floor: this.#floor.toString(),
      lastQueuedLsn: this.#lastQueuedLsn.toString(),
      progressDue: this.#progressDue,
      lastProgressAt: Number.isFinite(this.#lastProgressAt) ? this.#lastProgressAt : null,
      nextRequestId: this.#nextRequestId,
    };
  }

  /** Continues live from a {@link checkpoint} (instead of `start`). */
  restore(cp: LogCheckpoint): void {
    this.#active = true;
    this.#cursor = BigInt(cp.cursor);
    this.#head = BigInt(cp.head);
    this.#floor = BigInt(cp.floor);
    this.#lastQueuedLsn = BigInt(cp.lastQueuedLsn);
    this.#progressDue = cp.progressDue;
    this.#lastProgressAt = cp.lastProgressAt ?? Number.NEGATIVE_INFINITY;
    this.#nextRequestId = cp.nextRequestId;
  }

  /** The log's head or floor moved. */
  onHead(head: Lsn, floor: Lsn): void {
    this.#head = maxLsn(this.#head, head);
    this.#floor = maxLsn(this.#floor, floor);
    this.#checkFloor();
  }

  /** Transactions arrived (a read's answer or a fan-out push). */
  onBatch(batch: LogBatch): void {
    if (batch.requestId !== undefined && batch.requestId === this.#reading) this.#reading = undefined;
    for (const s of batch.shapes) this.#shapes.set(s.shapeId, s);
    this.#head = maxLsn(this.#head, batch.head);
    this.#floor = maxLsn(this.#floor, batch.floor);
    // Before anything in the batch is used: a batch read after retention dropped transactions following the
    // cursor starts past them, and processing it would move the cursor over the gap (§8.9, §10.4).
    this.#checkFloor();
    const usable =
      this.#active &&
      this.#pending === undefined &&
      batch.afterLsn <= this.#cursor &&
      this.#continuesPartial(batch) &&
      (batch.requestId !== undefined || this.#ctx.outbox.length < this.#ctx.limits.maxQueuedFrames);
    if (usable) this.#process(batch, 0);
  }

  /** Rows the shell fetched for a pending transaction. */
  onRowsFetched(requestId: number, rows: readonly (Tuple | undefined)[]): void {
    const p = this.#pending;
    const positions = p?.requests.get(requestId);
    if (p === undefined || positions === undefined) {
      throw new SyncError(ErrorCode.INTERNAL, `rows for fetch ${requestId} were not requested`);
    }
    p.requests.delete(requestId);
    positions.forEach((at, i) => {
      const fetch = p.changes[at] as Fetch;
      p.changes[at] = resolveRowFetch(fetch, rows[i], this.#layout(fetch.shapeId).scoped, this.#ctx.claims);
    });
    if (p.requests.size > 0) return;
    this.#pending = undefined;
    const tx = p.batch.transactions[p.index]!;
    this.#queueTransaction(tx, p.changes.flat() as ClientChange[]);
    this.#process(p.batch, p.index + 1);
  }

  /** Asks for the next page of the log when the outbox has room and the cursor is behind the head. */
  maybeRead(): void {
    if (!this.#active || this.#reading !== undefined || this.#pending !== undefined) return;
    if (this.#cursor >= this.#head || this.#ctx.outbox.length >= this.#ctx.limits.lowWater) return;
    this.#reading = this.#nextRequestId++;
    const p = this.#partial;
    this.#ctx.emit({
      type: 'read-log',
      requestId: this.#reading,
      afterLsn: this.#cursor,
      limit: this.#ctx.limits.logReadLimit,
      ...(p === undefined ? {} : { continueAt: { commitLsn: p.commitLsn, fromChunk: p.nextChunk } }),
    });
  }

  /** Whether a batch fits: with a transaction half-sent, only one that continues it exactly. */
  #continuesPartial(batch: LogBatch): boolean {
    const p = this.#partial;
    if (p === undefined) return true;
    const next = batch.transactions.find((t) => t.header.commitLsn > this.#cursor);
    return next?.header.commitLsn === p.commitLsn && (next.fromChunk ?? 0) === p.nextChunk;
  }

  /** When a rate-limited Progress is due (ms), if one is waiting. */
  progressDueAt(): number | undefined {
    return this.#progressDue ? this.#lastProgressAt + this.#ctx.limits.progressIntervalMs : undefined;
  }

  /** Queues a waiting Progress once the rate limit allows. */
  flushProgress(): void {
    if (!this.#progressDue || this.#ctx.now() < this.#lastProgressAt + this.#ctx.limits.progressIntervalMs)
      return;
    this.#progressDue = false;
    this.#lastProgressAt = this.#ctx.now();
    this.#queueProgress(false);
  }

  #process(batch: LogBatch, from: number): void {
    for (let i = from; i < batch.transactions.length; i++) {
      const tx = batch.transactions[i]!;
      const lsn = tx.header.commitLsn;
      const continuing = this.#partial?.commitLsn === lsn;
      if (!continuing && lsn <= this.#cursor) continue;
      if (!this.#beginPart(tx, continuing)) continue;
      const changes: ClientChange[] = [];
      for (const c of tx.changes) {
        const out = transformChange(c, (id) => this.#scopedOf(id), this.#ctx.claims);
        if (out !== undefined) changes.push(out);
      }
      if (changes.some((c) => c.kind === 'needs-row-fetch')) {
        this.#requestRows(batch, i, changes);
        return;
      }
      this.#queueTransaction(tx, changes);
    }
    this.#cursor = maxLsn(this.#cursor, batch.throughLsn);
    this.#settle();
  }

  /**
   * Checks where a part starts and applies the handoff rules to a transaction's first part. Returns false when
   * the part is dropped (the snapshot already saw the transaction).
   */
  #beginPart(tx: LogTransaction, continuing: boolean): boolean {
    const lsn = tx.header.commitLsn;
    const fromChunk = tx.fromChunk ?? 0;
    const expected = continuing ? this.#partial!.nextChunk : 0;
    if (fromChunk !== expected || (!continuing && this.#partial !== undefined)) {
      throw new SyncError(
        ErrorCode.INTERNAL,
        `log part ${lsn}#${fromChunk} does not continue ${this.#partial?.commitLsn ?? lsn}#${expected}`,
      );
    }
    if (!continuing) {
      const handoff = this.#handoff;
      if (handoff !== undefined && lsn > handoff.snapshotLsn) this.#endHandoff();
      else if (handoff !== undefined && isVisibleInSnapshot(tx.header.xid, handoff.xids)) {
        this.#partial = { commitLsn: lsn, nextChunk: 0, frameIndex: 0, skip: true };
      }
    }
    if (this.#partial?.skip !== true) return true;
    this.#advancePartial(tx);
    return false;
  }

  /** Moves past a part: records where the next one starts, or completes the transaction. */
  #advancePartial(tx: LogTransaction): Partial | undefined {
    const lsn = tx.header.commitLsn;
    if (tx.more !== true) {
      this.#partial = undefined;
      this.#cursor = lsn;
      return undefined;
    }
    const p = this.#partial?.commitLsn === lsn ? this.#partial : undefined;
    const next: Partial = p ?? { commitLsn: lsn, nextChunk: 0, frameIndex: 0, skip: false };
    next.nextChunk = (tx.fromChunk ?? 0) + (tx.chunkCount ?? 0);
    this.#partial = next;
    return next;
  }

  #requestRows(batch: LogBatch, index: number, changes: ClientChange[]): void {
    const byShape = new Map<number, number[]>();
    changes.forEach((c, at) => {
      if (c.kind === 'needs-row-fetch') byShape.set(c.shapeId, [...(byShape.get(c.shapeId) ?? []), at]);
    });
    const requests = new Map<number, number[]>();
    for (const [shapeId, positions] of byShape) {
      const requestId = this.#nextRequestId++;
      requests.set(requestId, positions);
      const layout = this.#layout(shapeId);
      const { relationOid, schema, name, primaryKey } = layout.table.descriptor;
      this.#ctx.emit({
        type: 'fetch-rows',
        requestId,
        table: { relationOid, schema, name },
        columns: this.#shapes.get(shapeId)!.columns.map((c) => c.name),
        keyColumns: primaryKey,
        keys: positions.map((at) => (changes[at] as Fetch).key),
      });
    }
    this.#pending = { batch, index, changes: [...changes], requests };
  }

  #queueTransaction(tx: LogTransaction, changes: readonly ClientChange[]): void {
    const lsn = tx.header.commitLsn;
    const firstFrame = this.#partial?.commitLsn === lsn ? this.#partial.frameIndex : 0;
    const partial = this.#advancePartial(tx);
    // A transaction whose changes were all filtered away is not sent: Progress covers its LSN (§8.2). Once a
    // part was sent, though, the transaction needs its last frame, even an empty one.
    if (changes.length === 0 && (partial !== undefined || firstFrame === 0)) return;
    const layoutOf = (id: number) => this.#layout(id);
    for (const c of changes) {
      for (const t of tablesOf(c, layoutOf)) {
        const relation = this.#ctx.views.takeRelation(t);
        if (relation !== undefined) {
          this.#ctx.outbox.enqueue({
            message: create(ServerMessageSchema, { message: { case: 'relation', value: relation } }),
          });
        }
      }
    }
    const encoded: Change[] = changes.map((c) => encodeChange(c as Exclude<ClientChange, Fetch>, layoutOf));
    const frames = frameTransaction(
      tx.header,
      encoded,
      encoded.map(changeFieldSize),
      { maxFrameBytes: this.#ctx.limits.maxFrameBytes, maxChanges: this.#ctx.limits.maxChangesPerFrame },
      (i) => describeChange(changes[i]!, layoutOf),
      { firstFrameIndex: firstFrame, more: partial !== undefined },
    );
    if (partial !== undefined) {
      partial.frameIndex = firstFrame + frames.length;
      for (const value of frames) {
        this.#ctx.outbox.enqueue({
          message: create(ServerMessageSchema, { message: { case: 'transaction', value } }),
        });
      }
      return;
    }
    frames.forEach((value, i) => {
      const last = i === frames.length - 1;
      this.#ctx.outbox.enqueue({
        message: create(ServerMessageSchema, { message: { case: 'transaction', value } }),
        ...(last ? { ackable: lsn } : {}),
      });
    });
    this.#lastQueuedLsn = lsn;
  }

  /** After a batch: end the handoff, end the catch-up, or note that a Progress is due. */
  #settle(): void {
    if (this.#handoff !== undefined && this.#cursor >= this.#handoff.snapshotLsn) this.#endHandoff();
    if (this.#handoff !== undefined || this.#cursor < this.#head) return;
    if (this.#catchingUp) {
      this.#catchingUp = false;
      this.#queueProgress(true);
    } else if (this.#cursor > this.#lastQueuedLsn) {
      this.#progressDue = true;
      this.flushProgress();
    }
  }

  #endHandoff(): void {
    const lsn = this.#handoff!.snapshotLsn;
    this.#handoff = undefined;
    this.#cursor = maxLsn(this.#cursor, lsn);
    this.#lastQueuedLsn = lsn;
    this.#hooks.endSnapshot(lsn);
  }

  #queueProgress(entersLive: boolean): void {
    const lsn = this.#cursor;
    const progress = create(ProgressSchema, { lsn, caughtUp: lsn >= this.#head });
    this.#ctx.outbox.enqueueProgress({
      message: create(ServerMessageSchema, { message: { case: 'progress', value: progress } }),
      ackable: lsn,
      ...(entersLive ? { entersLive } : {}),
    });
    this.#lastQueuedLsn = lsn;
  }

  #checkFloor(): void {
    // The log no longer holds what comes after the cursor (§10.4): the client must refetch.
    if (this.#active && this.#cursor < this.#floor) {
      throw new SyncError(ErrorCode.MUST_REFETCH, 'the client fell behind the retained change log');
    }
  }

  #scopedOf(shapeId: number) {
    const shape = this.#shapes.get(shapeId);
    if (shape === undefined) throw new SyncError(ErrorCode.INTERNAL, `log batch without shape ${shapeId}`);
    return this.#ctx.views.shape(shape)?.scoped;
  }

  #layout(shapeId: number): LayoutView {
    return this.#ctx.views.shape(this.#shapes.get(shapeId)!)!;
  }
}

function describeChange(c: ClientChange, layoutOf: (id: number) => LayoutView): string {
  if (c.kind === 'truncate' || c.kind === 'needs-row-fetch') return c.kind;
  const d = layoutOf(c.shapeId).table.descriptor;
  const key =
    c.kind === 'delete' ? c.oldKey : layoutOf(c.shapeId).scoped.keyIndices.map((i) => c.row[i] ?? null);
  return `${d.schema}.${d.name} row ${JSON.stringify(key)}`;
}
