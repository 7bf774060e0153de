/**
 * A strict model client for the session's model-based test: it applies what the server sends (docs/protocol.md
 * §6, §8.4) and checks the server's side of the protocol on the way — credit, frame order, LSN order, Progress
 * rules, and that a fatal Error is the last frame. Test-only.
 */

import {
  decodeValueText,
  type ErrorCode,
  type Lsn,
  type Relation,
  type Row,
  type ServerMessage,
  UNCHANGED,
  valueTypeOfColumn,
} from '@vibestack/proto';

type Rows = Map<string, Map<string, (string | null)[]>>;

function copy(rows: Rows): Rows {
  return new Map([...rows].map(([t, m]) => [t, new Map([...m].map(([k, v]) => [k, [...v]]))]));
}

/** The client: synced state, staging, and every check. */
export class ModelClient {
  credit: number;
  mode: 'await' | 'snapshot' | 'stream' = 'await';
  synced: Rows = new Map();
  applied: Lsn;
  /** Commit LSNs of the transactions received outside a snapshot handoff, in order. */
  readonly received: Lsn[] = [];
  readonly problems: string[] = [];
  fatal: ErrorCode | undefined;
  #relations = new Map<number, Relation>();
  #staging: Rows = new Map();
  #open: { lsn: Lsn; next: number; changes: (() => void)[] } | undefined;
  #lastTxLsn: Lsn = 0n;
  #lastProgress: Lsn = 0n;
  #handoffLsn: Lsn = 0n;

  constructor(initialCredit: number, resumeLsn: Lsn, synced: Rows) {
    this.credit = initialCredit;
    this.applied = resumeLsn;
    this.synced = synced;
    this.#lastTxLsn = resumeLsn;
  }

  #problem(text: string): void {
    this.problems.push(text);
  }

  receive(m: ServerMessage): void {
    const v = m.message;
    if (this.fatal !== undefined) {
      this.#problem(`frame ${v.case} after the fatal error`);
      return;
    }
    const data = [
      'relation',
      'snapshotBegin',
      'snapshotChunk',
      'snapshotEnd',
      'transaction',
      'progress',
    ].includes(v.case ?? '');
    if (data) {
      if (this.credit <= 0) this.#problem(`data frame ${v.case} without credit`);
      this.credit--;
    }
    if (this.#open !== undefined && data && v.case !== 'relation' && v.case !== 'transaction') {
      this.#problem(`${v.case} inside a transaction`);
    }
    switch (v.case) {
      case 'welcome':
        this.mode = v.value.mode === 1 ? 'snapshot' : 'stream';
        return;
      case 'relation':
        this.#relations.set(v.value.relationId, v.value);
        return;
      case 'snapshotBegin':
        if (this.mode !== 'snapshot') this.#problem('SnapshotBegin outside INITIAL');
        this.#staging = new Map();
        return;
      case 'snapshotChunk':
        for (const row of v.value.rows) this.#upsert(this.#staging, v.value.relationId, row);
        return;
      case 'snapshotEnd':
        if (this.mode !== 'snapshot') this.#problem('SnapshotEnd outside INITIAL');
        if (v.value.lsn < this.#handoffLsn) this.#problem('SnapshotEnd below a handoff transaction');
        this.synced = this.#staging;
        this.applied = v.value.lsn;
        this.#lastTxLsn = v.value.lsn;
        this.mode = 'stream';
        return;
      case 'transaction':
        this.#transaction(v.value);
        return;
      case 'progress':
        if (this.mode !== 'stream') this.#problem('Progress before SnapshotEnd');
        if (v.value.lsn < this.#lastTxLsn || v.value.lsn < this.#lastProgress)
          this.#problem('Progress went backwards');
        this.#lastProgress = v.value.lsn;
        return;
      case 'error':
        if (v.value.fatal) this.fatal = v.value.code;
        return;
      default:
        return;
    }
  }

  #transaction(t: Extract<ServerMessage['message'], { case: 'transaction' }>['value']): void {
    if (this.#open === undefined) {
      if (t.frameIndex !== 0) this.#problem('a transaction starts with frame_index ≠ 0');
      if (this.mode === 'stream') {
        if (t.commitLsn <= this.#lastTxLsn || t.commitLsn <= this.#lastProgress) {
          this.#problem(`transaction ${t.commitLsn} not above ${this.#lastTxLsn}/${this.#lastProgress}`);
        }
        this.received.push(t.commitLsn);
      } else if (this.mode === 'snapshot') {
        if (t.commitLsn <= this.#handoffLsn) this.#problem('handoff transactions out of order');
        this.#handoffLsn = t.commitLsn;
      } else this.#problem('transaction before Welcome');
      this.#open = { lsn: t.commitLsn, next: 0, changes: [] };
    }
    const open = this.#open;
    if (t.commitLsn !== open.lsn || t.frameIndex !== open.next)
      this.#problem('transaction frames out of sequence');
    open.next++;
    const target = () => (this.mode === 'snapshot' ? this.#staging : this.synced);
    for (const c of t.changes) open.changes.push(() => this.#apply(target(), c.kind));
    if (t.hasMore) return;
    for (const apply of open.changes) apply();
    this.#open = undefined;
    if (this.mode === 'stream') {
      this.#lastTxLsn = t.commitLsn;
      this.applied = t.commitLsn;
    }
  }

  #decode(relationId: number, row: Row, key: boolean): (string | null | typeof UNCHANGED)[] {
    const r = this.#relations.get(relationId);
    if (r === undefined) {
      this.#problem(`relation ${relationId} used before it was described`);
      return [];
    }
    const cols = key ? r.primaryKey.map((i) => r.columns[i]!) : r.columns;
    if (row.values.length !== cols.length) this.#problem('a row of the wrong length');
    return row.values.map((v, i) => decodeValueText(valueTypeOfColumn(cols[i]!), v));
  }

  #table(rows: Rows, relationId: number): Map<string, (string | null)[]> {
    const name = this.#relations.get(relationId)?.name ?? '?';
    const t = rows.get(name) ?? new Map<string, (string | null)[]>();
    rows.set(name, t);
    return t;
  }

  #keyOf(relationId: number, values: readonly unknown[]): string {
    const r = this.#relations.get(relationId)!;
    return JSON.stringify(r.primaryKey.map((i) => values[i]));
  }

  #upsert(rows: Rows, relationId: number, row: Row): void {
    const values = this.#decode(relationId, row, false);
    if (values.includes(UNCHANGED)) this.#problem('unchanged value in a full row');
    this.#table(rows, relationId).set(this.#keyOf(relationId, values), values as (string | null)[]);
  }

  #apply(
    rows: Rows,
    kind: Extract<ServerMessage['message'], { case: 'transaction' }>['value']['changes'][number]['kind'],
  ): void {
    switch (kind.case) {
      case 'insert':
        this.#upsert(rows, kind.value.relationId, kind.value.newRow!);
        return;
      case 'update': {
        const id = kind.value.relationId;
        const table = this.#table(rows, id);
        const values = this.#decode(id, kind.value.newRow!, false);
        const key = this.#keyOf(id, values);
        const oldKey =
          kind.value.oldKey === undefined
            ? undefined
            : JSON.stringify(this.#decode(id, kind.value.oldKey, true));
        let base = table.get(key);
        if (oldKey !== undefined && table.has(oldKey)) {
          base = table.get(oldKey);
          table.delete(oldKey);
        }
        if (base === undefined) {
          if (!values.includes(UNCHANGED)) table.set(key, values as (string | null)[]);
          return;
        }
        table.set(
          key,
          values.map((v, i) => (v === UNCHANGED ? base[i]! : v)),
        );
        return;
      }
      case 'delete': {
        const id = kind.value.relationId;
        this.#table(rows, id).delete(JSON.stringify(this.#decode(id, kind.value.oldKey!, true)));
        return;
      }
      case 'truncate':
        for (const id of kind.value.relationIds) this.#table(rows, id).clear();
        return;
      default:
        this.#problem('a change with no case');
    }
  }

  /** The synced state as plain data, tables sorted, empty tables left out. */
  state(): Record<string, [string, (string | null)[]][]> {
    const out: Record<string, [string, (string | null)[]][]> = {};
    for (const [t, m] of [...copy(this.synced)].sort(([a], [b]) => a.localeCompare(b))) {
      if (m.size > 0) out[t] = [...m].sort(([a], [b]) => a.localeCompare(b));
    }
    return out;
  }
}
