/**
 * A conforming fake server for the client session's model test: from a fixed history of `items` transactions it
 * answers each Hello with the frames docs/protocol.md prescribes (§4.5 modes, §6 snapshot with handoff and
 * resume, §8 transactions split over frames, §8.8 Progress), holds data frames back without credit (§10), and
 * checks the client's Acks (§8.7). Test-only.
 */

import { create } from '@bufbuild/protobuf';
import {
  type ClientMessage,
  ErrorCode,
  type Lsn,
  type Row,
  RowSchema,
  type ServerMessage,
  SyncMode,
  UNCHANGED,
  type Value,
  ValueSchema,
} from '@vibestack/proto';
import type { TextChange, TextTransaction } from '../client-types.ts';
import { applyTransactions, type Items } from './memory-store.ts';
import {
  intValue,
  itemsRelation,
  msg,
  progress,
  relationFrame,
  serverError,
  snapshotBegin,
  snapshotChunk,
  snapshotEnd,
  textValue,
  welcome,
} from './server-frames.ts';

/** One change of the history. */
export type ModelChange =
  | { readonly op: 'insert'; readonly id: number; readonly title: string }
  | { readonly op: 'update'; readonly id: number; readonly title: string | undefined }
  | { readonly op: 'delete'; readonly id: number }
  | { readonly op: 'truncate' };

export interface ModelTransaction {
  readonly lsn: Lsn;
  readonly changes: readonly ModelChange[];
  /** Changes per frame (≥ 1). */
  readonly perFrame: number;
}

const UNCHANGED_VALUE: Value = create(ValueSchema, { kind: { case: 'unchanged', value: true } });
const row = (id: number, title: string | undefined): Row =>
  create(RowSchema, {
    values: [intValue(BigInt(id)), title === undefined ? UNCHANGED_VALUE : textValue(title)],
  });

function frames(t: ModelTransaction): ServerMessage[] {
  const out: ServerMessage[] = [];
  const parts = Math.max(1, Math.ceil(t.changes.length / t.perFrame));
  for (let i = 0; i < parts; i++) {
    const changes = t.changes.slice(i * t.perFrame, (i + 1) * t.perFrame).map((c) => {
      switch (c.op) {
        case 'insert':
          return { kind: { case: 'insert' as const, value: { relationId: 1, newRow: row(c.id, c.title) } } };
        case 'update':
          return { kind: { case: 'update' as const, value: { relationId: 1, newRow: row(c.id, c.title) } } };
        case 'delete':
          return {
            kind: {
              case: 'delete' as const,
              value: { relationId: 1, oldKey: create(RowSchema, { values: [intValue(BigInt(c.id))] }) },
            },
          };
        default:
          return { kind: { case: 'truncate' as const, value: { relationIds: [1] } } };
      }
    });
    out.push(
      msg({
        case: 'transaction',
        value: { commitLsn: t.lsn, frameIndex: i, hasMore: i < parts - 1, changes },
      }),
    );
  }
  return out;
}

/** The state of `items` after the first `count` transactions. */
export function stateAfter(history: readonly ModelTransaction[], count: number): Items {
  const relation = itemsRelation();
  const transactions = history.slice(0, count).map(
    (t): TextTransaction => ({
      commitLsn: t.lsn,
      changes: t.changes.map((c): TextChange => {
        if (c.op === 'insert') return { op: 'insert', relation, row: [String(c.id), c.title] };
        if (c.op === 'delete') return { op: 'delete', relation, key: [String(c.id)] };
        if (c.op === 'truncate') return { op: 'truncate', relations: [relation] };
        return { op: 'update', relation, row: [String(c.id), c.title ?? UNCHANGED] };
      }),
    }),
  );
  return applyTransactions(new Map(), transactions);
}

/** Server settings for one test run. */
export interface ModelWorld {
  readonly history: readonly ModelTransaction[];
  /** The snapshot covers `history[0, snapshotAt)`; the last `handoff` of those come as handoff transactions. */
  snapshotAt: number;
  /** Each snapshot is a fresh one, one transaction later than the previous (the client must discard staging). */
  readonly moving: boolean;
  readonly handoff: number;
  readonly rowsPerChunk: number;
  /** Answer a resuming Hello with MUST_REFETCH (once). */
  refetchOnce: boolean;
  /** On CATCH_UP, first resend the last two transactions the client already has (§8.9: it must skip them). */
  readonly duplicates: boolean;
}

/** The head: beyond the last commit, carried by the final Progress. */
export const headOf = (w: ModelWorld): Lsn => (w.history.at(-1)?.lsn ?? 100n) + 5n;

/** One connection's server side. */
export class ModelConnection {
  readonly outbox: ServerMessage[] = [];
  credit = 0;
  maxAckable: Lsn = 0n;
  lastAck: Lsn = 0n;
  snapshotEndSent = true;
  closed = false;
  readonly problems: string[];
  readonly #world: ModelWorld;

  /** @param problems where protocol violations by the client are reported. */
  constructor(world: ModelWorld, problems: string[]) {
    this.#world = world;
    this.problems = problems;
  }

  /** The frame to deliver next, if one may go now. */
  peek(): ServerMessage | undefined {
    const next = this.outbox[0];
    if (next === undefined || this.closed) return undefined;
    const c = next.message.case;
    const control = c === 'welcome' || c === 'error' || c === 'ping' || c === 'pong';
    return control || this.credit > 0 ? next : undefined;
  }

  take(): ServerMessage {
    const m = this.outbox.shift()!;
    const c = m.message;
    if (c.case !== 'welcome' && c.case !== 'error' && c.case !== 'ping' && c.case !== 'pong') this.credit--;
    if (c.case === 'transaction' && !c.value.hasMore && this.snapshotEndSent)
      this.maxAckable = c.value.commitLsn;
    if (c.case === 'snapshotEnd') {
      this.snapshotEndSent = true;
      this.maxAckable = c.value.lsn;
    }
    if (c.case === 'progress') this.maxAckable = c.value.lsn;
    if (c.case === 'error') this.closed = true;
    return m;
  }

  /** The server ends the connection with MUST_REFETCH before its next frame (e.g. after a schema change, §5). */
  refetch(): void {
    if (!this.closed) this.outbox.unshift(serverError(ErrorCode.MUST_REFETCH, true));
  }

  /** A client frame arrived. */
  receive(m: ClientMessage): void {
    const v = m.message;
    if (v.case === 'hello') {
      this.#hello(v.value.resumeLsn, v.value.initialCredit, v.value.snapshotResume);
      return;
    }
    if (v.case === 'credit') {
      this.credit += v.value.frames;
      if (this.credit > 65_535) this.problems.push('credit above 65 535');
    }
    if (v.case === 'ack') {
      if (!this.snapshotEndSent) this.problems.push('Ack before SnapshotEnd');
      if (v.value.lsn > this.maxAckable) this.problems.push(`Ack ${v.value.lsn} beyond ${this.maxAckable}`);
      if (v.value.lsn <= this.lastAck) this.problems.push(`Ack ${v.value.lsn} not increasing`);
      this.lastAck = v.value.lsn;
    }
    if (v.case === 'error') this.closed = true;
  }

  #hello(
    resumeLsn: Lsn,
    initialCredit: number,
    resume: { snapshotId: string; cursor: Uint8Array } | undefined,
  ) {
    const w = this.#world;
    this.credit = initialCredit === 0 ? 64 : initialCredit;
    const head = headOf(w);
    if (resumeLsn > 0n && w.refetchOnce) {
      w.refetchOnce = false;
      this.outbox.push(serverError(ErrorCode.MUST_REFETCH, true));
      return;
    }
    let after = resumeLsn;
    if (resumeLsn === 0n) {
      // A moving server never continues a snapshot: each one is taken a transaction later.
      if (w.moving && w.snapshotAt < w.history.length) w.snapshotAt++;
      const id = `snap-${w.snapshotAt}`;
      const resumed = resume?.snapshotId === id;
      let from = resumed ? Number(new TextDecoder().decode(resume.cursor)) : 0;
      const base = w.snapshotAt - w.handoff;
      const rows = [...stateAfter(w.history, base)].sort(([a], [b]) => Number(a) - Number(b));
      const lsn = w.history[w.snapshotAt - 1]?.lsn ?? 100n;
      this.snapshotEndSent = false;
      this.outbox.push(welcome(SyncMode.INITIAL), relationFrame(), snapshotBegin(id, [1], resumed));
      // A resume after the last chunk sends no chunk at all (§6.1).
      if (!(resumed && from >= rows.length && rows.length > 0)) {
        do {
          const part = rows.slice(from, from + w.rowsPerChunk);
          from += w.rowsPerChunk;
          const last = from >= rows.length;
          const wire = part.map(([rid, title]) => row(Number(rid), title ?? ''));
          this.outbox.push(snapshotChunk(1, wire, last, String(Math.min(from, rows.length))));
        } while (from < rows.length);
      }
      for (const t of w.history.slice(base, w.snapshotAt)) this.outbox.push(...frames(t));
      this.outbox.push(snapshotEnd(lsn, [BigInt(rows.length)]));
      after = lsn;
    } else {
      this.outbox.push(welcome(resumeLsn === head ? SyncMode.LIVE : SyncMode.CATCH_UP), relationFrame());
      if (w.duplicates)
        for (const t of w.history.filter((h) => h.lsn <= resumeLsn).slice(-2)) this.outbox.push(...frames(t));
    }
    for (const t of w.history) if (t.lsn > after) this.outbox.push(...frames(t));
    if (after < head) this.outbox.push(progress(head, true));
    this.maxAckable = resumeLsn;
    this.lastAck = 0n;
  }
}
