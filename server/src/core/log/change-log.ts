/**
 * The durable change log: committed transactions keyed by commit LSN, their changes in chunks, the table shapes
 * they refer to, and the log's head and floor. Pure logic over a synchronous SQLite port (a Durable Object's
 * storage in production). Idempotent by design: the replication reader may re-read the same WAL after a crash
 * and write the same chunks again; a transaction already committed in the log is never rewritten.
 */

import type { LoggedChange, TableShape, TransactionHeader } from '../change.ts';
import { decodeChunk, encodeChunk } from './chunk-codec.ts';
import { lsnFromKey, lsnKey, type SqlPort } from './sql-port.ts';

/** Retention bounds of the log. */
export interface RetentionOptions {
  /** Keep at most this many bytes of change payload (oldest transactions go first). */
  readonly maxBytes: number;
  /** Drop transactions logged longer ago than this, in milliseconds. */
  readonly maxAgeMs: number;
}

/** A committed transaction's header plus how its changes are stored. */
export interface LoggedTransaction extends TransactionHeader {
  readonly changeCount: number;
  readonly chunkCount: number;
  readonly bytes: number;
}

/** Sizes and positions of the log. */
export interface ChangeLogStats {
  /** Every transaction that committed up to here is in the log (or was before the floor). */
  readonly head: bigint;
  /** Transactions at or below this LSN may have been dropped by retention. */
  readonly floor: bigint;
  readonly transactions: number;
  readonly bytes: number;
  readonly oldestLoggedAtMs: number | null;
}

type ShapeWithoutId = Omit<TableShape, 'shapeId'>;

/** Where a read continues a transaction that an earlier read returned in part. */
export interface LogContinuation {
  readonly commitLsn: bigint;
  /** The first chunk not yet read. */
  readonly fromChunk: number;
}

/** Bounds of one {@link ChangeLog.readBatch}. */
export interface LogReadLimits {
  /** Most transactions (or parts of one) per read. */
  readonly maxTransactions: number;
  /** Most chunks per read; a transaction with more is returned in parts. At least 1. */
  readonly maxChunks: number;
}

/** A transaction, or a run of its chunks, in a {@link LogRead}. */
export interface LogReadPart {
  readonly tx: LoggedTransaction;
  /** The index of the first chunk in `payloads` (0 unless the read continued the transaction). */
  readonly fromChunk: number;
  /** Encoded chunks (`decodeChunk`), in order. */
  readonly payloads: string[];
  /** More chunks of this transaction follow: read them with a {@link LogContinuation}. */
  readonly more: boolean;
}

/**
 * The result of a read: `parts` hold, in commit order, every transaction with a commit LSN in
 * (`afterLsn`, `throughLsn`] plus possibly the beginning (or the next chunks) of the transaction after
 * `throughLsn` — that one is the last part and has `more` set. `throughLsn` is the head when the read reached it.
 */
export interface LogRead {
  readonly afterLsn: bigint;
  readonly throughLsn: bigint;
  readonly parts: LogReadPart[];
  readonly head: bigint;
  readonly floor: bigint;
}

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS log_shapes (shape_id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, shape TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS log_tx (commit_lsn TEXT PRIMARY KEY, end_lsn TEXT NOT NULL, xid INTEGER NOT NULL,
     commit_time_us INTEGER NOT NULL, change_count INTEGER NOT NULL, chunk_count INTEGER NOT NULL,
     bytes INTEGER NOT NULL, logged_at_ms INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS log_chunks (commit_lsn TEXT NOT NULL, seq INTEGER NOT NULL, change_count INTEGER NOT NULL,
     payload TEXT NOT NULL, PRIMARY KEY (commit_lsn, seq))`,
];

const META_HEAD = 'head';
const META_FLOOR = 'floor';

/** The change log over `sql`. Call {@link ChangeLog.open} once per storage. */
export class ChangeLog {
  readonly #sql: SqlPort;
  readonly #shapes = new Map<number, TableShape>();

  private constructor(sql: SqlPort) {
    this.#sql = sql;
  }

  /**
   * Opens (creating if needed) the log in `sql`. `startLsn` is where a new log begins (the slot's confirmed
   * position: every transaction committing at or after it will be logged), so a new log's head and floor are
   * `startLsn - 1`. It is ignored for an existing log. Chunks of transactions that never committed are dropped: the reader will
   * read them again from the slot.
   */
  static open(sql: SqlPort, startLsn: bigint): ChangeLog {
    for (const statement of SCHEMA) sql.exec(statement);
    const log = new ChangeLog(sql);
    if (log.#meta(META_HEAD) === undefined) {
      const before = startLsn > 0n ? startLsn - 1n : 0n;
      log.#setMeta(META_HEAD, before);
      log.#setMeta(META_FLOOR, before);
    }
    sql.exec('DELETE FROM log_chunks WHERE commit_lsn NOT IN (SELECT commit_lsn FROM log_tx)');
    for (const row of sql.exec<{ shape_id: number; shape: string }>(
      'SELECT shape_id, shape FROM log_shapes',
    )) {
      log.#shapes.set(row.shape_id, { ...(JSON.parse(row.shape) as ShapeWithoutId), shapeId: row.shape_id });
    }
    return log;
  }

  /** Whether `sql` already holds a change log. */
  static exists(sql: SqlPort): boolean {
    const table = sql.exec("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'log_meta'");
    return table.length > 0 && sql.exec('SELECT 1 AS x FROM log_meta LIMIT 1').length > 0;
  }

  #meta(key: string): bigint | undefined {
    const row = this.#sql.exec<{ value: string }>('SELECT value FROM log_meta WHERE key = ?', key)[0];
    return row ? lsnFromKey(row.value) : undefined;
  }

  #setMeta(key: string, lsn: bigint): void {
    this.#sql.exec('INSERT OR REPLACE INTO log_meta (key, value) VALUES (?, ?)', key, lsnKey(lsn));
  }

  /** The id of a table shape, interning it on first sight. Equal shapes always get the same id. */
  internShape(shape: ShapeWithoutId): number {
    const { relationOid, schema, name, replicaIdentity, columns } = shape;
    const canonical: ShapeWithoutId = { relationOid, schema, name, replicaIdentity, columns };
    const fingerprint = JSON.stringify(canonical);
    const found = this.#sql.exec<{ shape_id: number }>(
      'SELECT shape_id FROM log_shapes WHERE fingerprint = ?',
      fingerprint,
    )[0];
    if (found) return found.shape_id;
    const row = this.#sql.exec<{ shape_id: number }>(
      'INSERT INTO log_shapes (fingerprint, shape) VALUES (?, ?) RETURNING shape_id',
      fingerprint,
      fingerprint,
    )[0]!;
    this.#shapes.set(row.shape_id, { ...canonical, shapeId: row.shape_id });
    return row.shape_id;
  }

  /** A shape by id. @throws RangeError for an unknown id. */
  shape(shapeId: number): TableShape {
    const s = this.#shapes.get(shapeId);
    if (!s) throw new RangeError(`unknown shape ${shapeId}`);
    return s;
  }

  #isCommitted(commitLsn: bigint): boolean {
    return this.#sql.exec('SELECT 1 AS x FROM log_tx WHERE commit_lsn = ?', lsnKey(commitLsn)).length > 0;
  }

  /** Stores chunk `seq` of the transaction committing at `commitLsn` (idempotent; a no-op once committed). */
  appendChunk(commitLsn: bigint, seq: number, changes: readonly LoggedChange[]): void {
    if (this.#isCommitted(commitLsn)) return;
    this.#sql.exec(
      'INSERT OR REPLACE INTO log_chunks (commit_lsn, seq, change_count, payload) VALUES (?, ?, ?, ?)',
      lsnKey(commitLsn),
      seq,
      changes.length,
      encodeChunk(changes),
    );
  }

  /**
   * Marks the transaction committed once all `chunkCount` chunks are stored, and moves the head. Idempotent:
   * returns false (and changes nothing) when the transaction was already committed.
   * @throws Error when a chunk is missing (a reader bug: committing would lose changes).
   */
  commit(header: TransactionHeader, chunkCount: number, nowMs: number): boolean {
    const key = lsnKey(header.commitLsn);
    if (this.#isCommitted(header.commitLsn)) return false;
    this.#sql.exec('DELETE FROM log_chunks WHERE commit_lsn = ? AND seq >= ?', key, chunkCount);
    const stats = this.#sql.exec<{ n: number; changes: number | null; bytes: number | null }>(
      'SELECT count(*) AS n, sum(change_count) AS changes, sum(length(payload)) AS bytes FROM log_chunks WHERE commit_lsn = ?',
      key,
    )[0]!;
    if (stats.n !== chunkCount) {
      throw new Error(`transaction ${key}: ${stats.n} of ${chunkCount} chunks stored; refusing to commit`);
    }
    this.#sql.exec(
      `INSERT INTO log_tx (commit_lsn, end_lsn, xid, commit_time_us, change_count, chunk_count, bytes, logged_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      key,
      lsnKey(header.endLsn),
      header.xid,
      Number(header.commitTimeUs),
      stats.changes ?? 0,
      chunkCount,
      stats.bytes ?? 0,
      nowMs,
    );
    this.advanceHead(header.commitLsn);
    return true;
  }

  /**
   * Records that every transaction committing at or below `lsn` is in the log (e.g. the reader consumed the WAL
   * up to `lsn` and only unpublished tables changed). Never moves backwards.
   */
  advanceHead(lsn: bigint): void {
    if (lsn > this.head()) this.#setMeta(META_HEAD, lsn);
  }

  /** The head: the log holds every transaction committed at or below it (above the floor). */
  head(): bigint {
    return this.#meta(META_HEAD) ?? 0n;
  }

  /**
   * The floor: the log holds every transaction committed above it (up to the head). A client whose resume LSN
   * is below it has missed transactions (dropped by retention, or from before the log began).
   */
  floor(): bigint {
    return this.#meta(META_FLOOR) ?? 0n;
  }

  #toTransaction(r: Record<string, unknown>): LoggedTransaction {
    return {
      commitLsn: lsnFromKey(r.commit_lsn as string),
      endLsn: lsnFromKey(r.end_lsn as string),
      xid: r.xid as number,
      commitTimeUs: BigInt(r.commit_time_us as number),
      changeCount: r.change_count as number,
      chunkCount: r.chunk_count as number,
      bytes: r.bytes as number,
    };
  }

  /** Up to `limit` committed transactions with a commit LSN above `afterLsn`, in commit order. */
  transactionsAfter(afterLsn: bigint, limit: number): LoggedTransaction[] {
    return this.#sql
      .exec('SELECT * FROM log_tx WHERE commit_lsn > ? ORDER BY commit_lsn LIMIT ?', lsnKey(afterLsn), limit)
      .map((r) => this.#toTransaction(r));
  }

  /**
   * Reads what follows `afterLsn` (or continues the transaction `continueAt`, whose commit LSN is above
   * `afterLsn`) within `limits`, so the memory a read needs is bounded whatever the transactions' sizes: a
   * transaction with more chunks than `maxChunks` is returned in parts, each continued by the next read. A
   * transaction that retention dropped meanwhile is simply absent; the floor then says so.
   */
  readBatch(afterLsn: bigint, limits: LogReadLimits, continueAt?: LogContinuation): LogRead {
    const head = this.head();
    const floor = this.floor();
    const maxChunks = Math.max(1, limits.maxChunks);
    const parts: LogReadPart[] = [];
    let chunks = 0;
    let through = afterLsn;
    const done = (throughLsn: bigint): LogRead => ({ afterLsn, throughLsn, parts, head, floor });
    const take = (tx: LoggedTransaction, fromChunk: number): boolean => {
      const n = Math.min(tx.chunkCount - fromChunk, maxChunks - chunks);
      const more = fromChunk + n < tx.chunkCount;
      parts.push({ tx, fromChunk, payloads: this.readChunkPayloads(tx.commitLsn, fromChunk, n), more });
      chunks += n;
      if (!more) through = tx.commitLsn;
      return more;
    };
    if (continueAt !== undefined) {
      const tx = this.#transactionAt(continueAt.commitLsn);
      if (tx === undefined || continueAt.commitLsn <= afterLsn) return done(afterLsn);
      if (take(tx, continueAt.fromChunk)) return done(through);
    }
    const wanted = limits.maxTransactions - parts.length;
    if (wanted <= 0) return done(through);
    const txs = this.transactionsAfter(through, wanted);
    for (const tx of txs) {
      // Never split a transaction that fits a read of its own: stop before it instead.
      if (chunks > 0 && chunks + tx.chunkCount > maxChunks) return done(through);
      if (take(tx, 0)) return done(through);
    }
    return done(txs.length < wanted ? head : through);
  }

  #transactionAt(commitLsn: bigint): LoggedTransaction | undefined {
    const row = this.#sql.exec('SELECT * FROM log_tx WHERE commit_lsn = ?', lsnKey(commitLsn))[0];
    return row === undefined ? undefined : this.#toTransaction(row);
  }

  /** The changes of chunks `fromSeq` .. `fromSeq + count - 1` of a committed transaction, in order. */
  readChunks(commitLsn: bigint, fromSeq: number, count: number): LoggedChange[][] {
    return this.readChunkPayloads(commitLsn, fromSeq, count).map(decodeChunk);
  }

  /** The stored (encoded) payloads of chunks, for handing to another isolate; decode with `decodeChunk`. */
  readChunkPayloads(commitLsn: bigint, fromSeq: number, count: number): string[] {
    return this.#sql
      .exec<{ payload: string }>(
        'SELECT payload FROM log_chunks WHERE commit_lsn = ? AND seq >= ? ORDER BY seq LIMIT ?',
        lsnKey(commitLsn),
        fromSeq,
        count,
      )
      .map((r) => r.payload);
  }

  /** Every shape ever interned. */
  shapes(): TableShape[] {
    return [...this.#shapes.values()];
  }

  /**
   * Starts the log over at `lsn` after the replication slot was lost and re-created: everything logged is
   * dropped and the floor is raised above every position a client could have acknowledged, so every client
   * re-syncs (MUST_REFETCH) instead of silently missing the changes the lost slot never delivered.
   */
  restartAt(lsn: bigint): void {
    this.#sql.exec('DELETE FROM log_chunks');
    this.#sql.exec('DELETE FROM log_tx');
    // Complete above lsn - 1 (the new slot's position), and above every position a client could hold.
    const floor = lsn - 1n > this.head() ? lsn - 1n : this.head() + 1n;
    this.#setMeta(META_FLOOR, floor);
    this.#setMeta(META_HEAD, floor);
  }

  /** All changes of a committed transaction (use {@link readChunks} for large ones). */
  readTransaction(tx: LoggedTransaction): LoggedChange[] {
    return this.readChunks(tx.commitLsn, 0, tx.chunkCount).flat();
  }

  /**
   * Where a snapshot's handoff replay starts: just below the smallest commit LSN of a logged transaction whose
   * xid is not below `xmin32` (32-bit modular comparison) — every transaction the snapshot may have missed is
   * at or above it. Returns `head()` when there is none.
   */
  replayStartForSnapshot(xmin32: number): bigint {
    const row = this.#sql.exec<{ lsn: string | null }>(
      'SELECT min(commit_lsn) AS lsn FROM log_tx WHERE ((xid - ?) & 4294967295) < 2147483648',
      xmin32,
    )[0];
    if (!row?.lsn) return this.head();
    return lsnFromKey(row.lsn) - 1n;
  }

  /** Drops the oldest transactions beyond the retention bounds and raises the floor. Returns how many it dropped. */
  enforceRetention(options: RetentionOptions, nowMs: number): number {
    let dropped = 0;
    for (;;) {
      const totals = this.#sql.exec<{ bytes: number | null }>('SELECT sum(bytes) AS bytes FROM log_tx')[0]!;
      const oldest = this.#sql.exec<{ commit_lsn: string; bytes: number; logged_at_ms: number }>(
        'SELECT commit_lsn, bytes, logged_at_ms FROM log_tx ORDER BY commit_lsn LIMIT 1',
      )[0];
      if (!oldest) break;
      const tooBig = (totals.bytes ?? 0) > options.maxBytes;
      const tooOld = oldest.logged_at_ms < nowMs - options.maxAgeMs;
      if (!tooBig && !tooOld) break;
      this.#sql.exec('DELETE FROM log_chunks WHERE commit_lsn = ?', oldest.commit_lsn);
      this.#sql.exec('DELETE FROM log_tx WHERE commit_lsn = ?', oldest.commit_lsn);
      const lsn = lsnFromKey(oldest.commit_lsn);
      if (lsn > this.floor()) this.#setMeta(META_FLOOR, lsn);
      dropped++;
    }
    return dropped;
  }

  /** Sizes and positions, for `/health`. */
  stats(): ChangeLogStats {
    const row = this.#sql.exec<{ n: number; bytes: number | null; oldest: number | null }>(
      'SELECT count(*) AS n, sum(bytes) AS bytes, min(logged_at_ms) AS oldest FROM log_tx',
    )[0]!;
    return {
      head: this.head(),
      floor: this.floor(),
      transactions: row.n,
      bytes: row.bytes ?? 0,
      oldestLoggedAtMs: row.oldest,
    };
  }
}
