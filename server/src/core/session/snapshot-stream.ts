/**
 * Initial sync (docs/protocol.md §6): Relations and SnapshotBegin, then each table's rows in key order as
 * SnapshotChunks of at most `max_rows_per_chunk` rows and `max_frame_bytes` bytes, each with a resumable
 * cursor; then the handoff (run by the log stream) and SnapshotEnd. Rows are read from the shell in pages of
 * one chunk's worth, only while the outbox is below its low-water mark.
 */

import { create } from '@bufbuild/protobuf';
import {
  ErrorCode,
  type Lsn,
  ServerMessageSchema,
  SnapshotBeginSchema,
  SnapshotChunkSchema,
  SnapshotEndSchema,
  type SnapshotResume,
  SnapshotTableSchema,
  SyncError,
} from '@vibestack/proto';
import type { Tuple } from '../change.ts';
import { claimText, datumVisibility } from '../scope/index.ts';
import { chunkRows, rowFieldSize } from './framing.ts';
import { orderByForeignKeys } from './relation-descriptor.ts';
import { encodeRow } from './row-codec.ts';
import type { SessionEvent, TableRef } from './session-types.ts';
import {
  decodeSnapshotCursor,
  encodeSnapshotCursor,
  MAX_CURSOR_BYTES,
  type SnapshotPosition,
} from './snapshot-cursor.ts';
import { snapshotFingerprint } from './snapshot-fingerprint.ts';
import type { XidSnapshot } from './snapshot-visibility.ts';
import type { StreamContext } from './stream-context.ts';
import type { LayoutView, TableView } from './table-views.ts';

type Started = Extract<SessionEvent, { type: 'snapshot-started' }>;
type Rows = Extract<SessionEvent, { type: 'snapshot-rows' }>;

/** Where the rows end and the handoff begins. */
export interface HandoffStart {
  readonly snapshotLsn: Lsn;
  readonly xids: XidSnapshot;
  readonly afterLsn: Lsn;
}

function refOf(t: TableView): TableRef {
  const { relationOid, schema, name } = t.descriptor;
  return { relationOid, schema, name };
}

/** The snapshot of one connection. */
export class SnapshotStream {
  readonly #ctx: StreamContext;
  readonly #onRowsDone: (handoff: HandoffStart) => void;
  #phase: 'starting' | 'rows' | 'handoff' = 'starting';
  #tables: TableView[] = [];
  #layouts: LayoutView[] = [];
  #started: Started | undefined;
  #resume: SnapshotPosition | undefined;
  #tableIndex = 0;
  #afterKey: Tuple | undefined;
  #rowCounts: number[] = [];
  #reading = false;

  constructor(ctx: StreamContext, onRowsDone: (handoff: HandoffStart) => void) {
    this.#ctx = ctx;
    this.#onRowsDone = onRowsDone;
  }

  /** Asks the shell for a snapshot (continuing `resume` when its cursor is one of ours). */
  start(resume: SnapshotResume | undefined): void {
    this.#tables = orderByForeignKeys(this.#ctx.views.syncedTables()).map(
      (d) => this.#ctx.views.table(d.relationOid)!,
    );
    this.#layouts = this.#tables.map((t) =>
      this.#ctx.views.layout(
        t,
        this.#readColumns(t).map((name) => ({ name })),
      ),
    );
    this.#resume = resume === undefined ? undefined : decodeSnapshotCursor(resume.cursor);
    const canResume =
      resume !== undefined && this.#resume !== undefined && this.#resume.tableIndex < this.#tables.length;
    this.#ctx.emit({
      type: 'start-snapshot',
      tables: this.#tables.map(refOf),
      fingerprint: snapshotFingerprint(this.#tables, (t) => this.#readColumns(t), this.#ctx.claims),
      ...(canResume ? { resume: { snapshotId: resume.snapshotId } } : {}),
    });
  }

  /** The shell opened the snapshot: describe the tables and begin. */
  onStarted(ev: Started): void {
    if (this.#phase !== 'starting' || this.#started !== undefined) return;
    this.#started = ev;
    const position = ev.resumed ? this.#resume : undefined;
    if (ev.resumed && (position === undefined || position.tableIndex >= this.#tables.length)) {
      throw new SyncError(ErrorCode.INTERNAL, 'the shell resumed a snapshot the cursor does not fit');
    }
    this.#rowCounts = this.#tables.map((_, i) => position?.rowCounts[i] ?? 0);
    this.#tableIndex = position === undefined ? 0 : position.tableIndex + (position.tableDone ? 1 : 0);
    this.#afterKey = position?.tableDone === false ? position.afterKey : undefined;
    for (const t of this.#tables) this.#describe(t);
    const estimate = (oid: number) => ev.estimates?.find((e) => e.relationOid === oid);
    const begin = create(SnapshotBeginSchema, {
      snapshotId: ev.snapshotId,
      resumed: ev.resumed,
      tables: this.#tables.map((t) =>
        create(SnapshotTableSchema, {
          relationId: t.relationId,
          estimatedRows: estimate(t.descriptor.relationOid)?.rows ?? 0n,
          estimatedBytes: estimate(t.descriptor.relationOid)?.bytes ?? 0n,
        }),
      ),
    });
    this.#ctx.outbox.enqueue({
      message: create(ServerMessageSchema, { message: { case: 'snapshotBegin', value: begin } }),
    });
    this.#phase = 'rows';
    this.#nextTable();
  }

  /** Requests the next page of rows when the outbox has room. */
  maybeRequest(): void {
    while (this.#phase === 'rows' && !this.#reading && this.#ctx.outbox.length < this.#ctx.limits.lowWater) {
      const t = this.#tables[this.#tableIndex]!;
      const rule = t.scope.rule;
      const claim = rule.kind === 'claim' ? claimText(this.#ctx.claims, rule.claim) : null;
      if (rule.kind === 'claim' && claim === null) {
        // No row can match a missing claim: the table is empty for this user, no need to read it.
        this.#chunk([], true);
        continue;
      }
      this.#reading = true;
      this.#ctx.emit({
        type: 'read-snapshot-rows',
        snapshotId: this.#started!.snapshotId,
        table: refOf(t),
        columns: this.#readColumns(t),
        keyColumns: t.descriptor.primaryKey,
        ...(this.#afterKey === undefined ? {} : { afterKey: this.#afterKey }),
        limit: this.#ctx.limits.snapshotReadRows,
        ...(rule.kind === 'claim' && claim !== null
          ? { filter: { column: rule.column, equals: claim } }
          : {}),
      });
    }
  }

  /** A page of rows arrived. */
  onRows(ev: Rows): void {
    const t = this.#tables[this.#tableIndex];
    if (this.#phase !== 'rows' || !this.#reading || t?.descriptor.relationOid !== ev.relationOid) {
      throw new SyncError(
        ErrorCode.INTERNAL,
        `snapshot rows of relation ${ev.relationOid} were not requested`,
      );
    }
    this.#reading = false;
    this.#chunk(ev.rows, ev.done || ev.rows.length === 0);
  }

  /** The SnapshotEnd that closes the handoff. */
  endMessage() {
    const end = create(SnapshotEndSchema, {
      lsn: this.#started!.lsn,
      rowCounts: this.#rowCounts.map(BigInt),
    });
    return create(ServerMessageSchema, { message: { case: 'snapshotEnd', value: end } });
  }

  /** Releases the shell's snapshot when the connection ends before the rows were read. */
  abort(): void {
    if (this.#started !== undefined && this.#phase === 'rows')
      this.#ctx.emit({ type: 'end-snapshot', snapshotId: this.#started.snapshotId });
    this.#phase = 'handoff';
  }

  /** The visible columns, plus the scope column when it is server-only (needed to re-check the rule). */
  #readColumns(t: TableView): string[] {
    const names = t.visible.map((i) => t.descriptor.columns[i]!.name);
    const rule = t.scope.rule;
    if (rule.kind === 'claim' && !names.includes(rule.column)) names.push(rule.column);
    return names;
  }

  #describe(t: TableView): void {
    const relation = this.#ctx.views.takeRelation(t);
    if (relation === undefined) return;
    this.#ctx.outbox.enqueue({
      message: create(ServerMessageSchema, { message: { case: 'relation', value: relation } }),
    });
  }

  #chunk(rows: readonly Tuple[], done: boolean): void {
    const i = this.#tableIndex;
    const layout = this.#layouts[i]!;
    const t = layout.table;
    const { scoped } = layout;
    const claim = t.scope.rule.kind === 'claim' ? claimText(this.#ctx.claims, t.scope.rule.claim) : null;
    const keyOf = (row: Tuple): Tuple => scoped.keyIndices.map((k) => row[k] ?? null);
    const visible =
      scoped.scopeIndex < 0
        ? rows
        : rows.filter((r) => datumVisibility(r[scoped.scopeIndex], claim) === 'visible');
    const encoded = visible.map((r) => encodeRow(layout, r));
    const name = `${t.descriptor.schema}.${t.descriptor.name}`;
    const ranges = chunkRows(
      encoded.map(rowFieldSize),
      {
        maxFrameBytes: this.#ctx.limits.maxFrameBytes,
        maxRows: this.#ctx.limits.maxRowsPerChunk,
        cursorBytes: MAX_CURSOR_BYTES,
      },
      (r) => `${name} row ${JSON.stringify(keyOf(visible[r]!))}`,
    );
    if (ranges.length === 0 && done) ranges.push([0, 0]);
    const lastRead = rows.length > 0 ? keyOf(rows[rows.length - 1]!) : this.#afterKey;
    if (ranges.length > 0) this.#describe(t);
    ranges.forEach(([start, end], k) => {
      const last = k === ranges.length - 1;
      this.#rowCounts[i]! += end - start;
      const lastInTable = last && done;
      const afterKey = last ? lastRead : keyOf(visible[end - 1]!);
      const cursor = encodeSnapshotCursor({
        tableIndex: i,
        tableDone: lastInTable,
        rowCounts: this.#rowCounts.slice(0, i + 1),
        ...(lastInTable || afterKey === undefined ? {} : { afterKey }),
      });
      const chunk = create(SnapshotChunkSchema, {
        relationId: t.relationId,
        rows: encoded.slice(start, end),
        cursor,
        lastInTable,
      });
      this.#ctx.outbox.enqueue({
        message: create(ServerMessageSchema, { message: { case: 'snapshotChunk', value: chunk } }),
      });
    });
    this.#afterKey = lastRead;
    if (done) {
      this.#tableIndex++;
      this.#afterKey = undefined;
      this.#nextTable();
    }
  }

  #nextTable(): void {
    if (this.#tableIndex < this.#tables.length) return;
    const s = this.#started!;
    this.#phase = 'handoff';
    this.#ctx.emit({ type: 'end-snapshot', snapshotId: s.snapshotId });
    this.#onRowsDone({ snapshotLsn: s.lsn, xids: s.xids, afterLsn: s.handoffAfterLsn });
  }
}
