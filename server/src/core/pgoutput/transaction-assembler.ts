/**
 * Transaction assembler: decoded pgoutput messages (in session order) → committed transactions as bounded
 * chunks of {@link LoggedChange}s, plus the table shapes they refer to. Sans-IO: {@link TransactionAssembler.push}
 * returns the events a message produced; the caller writes them to the change log.
 *
 * Memory is bounded by one chunk: changes are handed out every `maxChunkChanges` changes, so a transaction of
 * any size passes through with at most `maxChunkChanges` changes held.
 *
 * Protocol v2 streaming (`streaming 'on'`): an in-progress transaction arrives in stream blocks interleaved with
 * other transactions; its changes are handed out as `stream-chunk` events keyed by top-level xid (chunk seq
 * counts on across blocks), and its `begin`/`commit` pair (with the commit LSN) is emitted on Stream Commit.
 * Subtransaction aborts: each streamed change carries the xid of the (sub)transaction that made it, and a
 * `stream-chunk` lists it per change in `subxids`, so on `{ type: 'abort', xid, subxid }` with `subxid !== xid`
 * the caller drops exactly the stored changes of that subxact. Postgres sends one Stream Abort per aborted
 * subxact that had streamed changes (nested subxacts included), so no nesting knowledge is needed here.
 *
 * Session boundaries (each peek is a new decoding session): Postgres re-streams a still-open transaction from
 * its first change in every new session, so a `stream-chunk` with `seq` 0 for an xid means "discard what you
 * kept for it". A transaction that aborted before the session decoded it is dropped by Postgres (16+) without
 * any stream messages; a Stream Abort only follows stream blocks of the same session. Per-xid state here is a
 * counter and a relation overlay; an xid streamed but never committed or aborted in the session (the session
 * ended first) is forgotten with the assembler.
 */

import type { LoggedChange, TableShape, Tuple } from '../change.ts';
import type { AssemblerEvent, OpenTransactionHeader } from './assembler-events.ts';
import { PgoutputProtocolError } from './errors.ts';
import type { PgoutputDataMessage, PgoutputMessage, RelationMessage, TupleData } from './messages.ts';

export type { AssemblerEvent, OpenTransactionHeader } from './assembler-events.ts';

/** Options of {@link createTransactionAssembler}. */
export interface TransactionAssemblerOptions {
  /** Chunk size in changes (≥ 1). The assembler never holds more changes than this. */
  readonly maxChunkChanges: number;
  /**
   * Returns the shape id of a relation's current shape (the change log interns shapes, so an unchanged shape
   * keeps its id). Called synchronously for every Relation message.
   */
  readonly shapeFor: (relation: RelationMessage) => number;
}

/** See {@link createTransactionAssembler}. */
export interface TransactionAssembler {
  /**
   * Feeds the next decoded message of the session and returns the events it produced (often none).
   *
   * @throws PgoutputProtocolError on an order violation: a change outside Begin/Commit or a stream block,
   *   Commit with a commit LSN other than Begin's final LSN, an unknown relation OID, a tuple that does not
   *   match its relation, or an inconsistent stream block.
   */
  push(message: PgoutputMessage): readonly AssemblerEvent[];
  /** Changes held right now (always ≤ `maxChunkChanges`). */
  readonly bufferedChanges: number;
  /** Whether a Begin (non-streamed transaction) or a stream block is open. After a throw, discard the assembler. */
  readonly busy: boolean;
  /** Streamed transactions started and not yet committed or aborted. */
  readonly openStreams: number;
}

interface RelationEntry {
  readonly shape: TableShape;
}

interface StreamState {
  seq: number;
  changes: number;
  /** Relations described inside this transaction's stream blocks; they apply to the rest only on commit. */
  readonly relations: Map<number, RelationEntry>;
}

type OpenState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'transaction'; readonly header: OpenTransactionHeader; seq: number; changes: number }
  | { readonly kind: 'stream'; readonly xid: number; readonly state: StreamState };

const NO_EVENTS: readonly AssemblerEvent[] = Object.freeze([]);
const IDLE: OpenState = { kind: 'idle' };

function shapeOf(shapeId: number, relation: RelationMessage): TableShape {
  return {
    shapeId,
    relationOid: relation.relationOid,
    schema: relation.namespace,
    name: relation.name,
    replicaIdentity: relation.replicaIdentity,
    columns: relation.columns.map((column) => ({
      name: column.name,
      typeOid: column.typeOid,
      typeModifier: column.typeModifier,
      isKey: column.isKey,
    })),
  };
}

function describe(message: PgoutputMessage): string {
  return 'xid' in message && message.xid !== undefined
    ? `${message.type} (xid ${message.xid})`
    : message.type;
}

/**
 * Creates an assembler for one replication session (one peek, or one streaming connection). Relation messages
 * are cached per session, exactly as pgoutput re-sends them.
 *
 * @example
 * const assembler = createTransactionAssembler({ maxChunkChanges: 1000, shapeFor: (r) => log.internShape(r) });
 * const decoder = createPgoutputDecoder();
 * for (const row of rows) {
 *   for (const event of assembler.push(decoder.decode(row.data))) await log.apply(event);
 * }
 */
export function createTransactionAssembler(options: TransactionAssemblerOptions): TransactionAssembler {
  const { maxChunkChanges, shapeFor } = options;
  if (!Number.isInteger(maxChunkChanges) || maxChunkChanges < 1) {
    throw new RangeError(`maxChunkChanges must be a positive integer, got ${maxChunkChanges}`);
  }
  const relations = new Map<number, RelationEntry>();
  const streams = new Map<number, StreamState>();
  let open: OpenState = IDLE;
  let pending: LoggedChange[] = [];
  let pendingSubxids: number[] = [];
  let events: AssemblerEvent[] | undefined;

  const emit = (event: AssemblerEvent): void => {
    if (events === undefined) events = [event];
    else events.push(event);
  };

  const unexpected = (message: PgoutputMessage, why: string): PgoutputProtocolError =>
    new PgoutputProtocolError('unexpected-message', `${describe(message)} ${why}`);

  const flush = (): void => {
    if (pending.length === 0) return;
    if (open.kind === 'transaction') {
      emit({ type: 'chunk', commitLsn: open.header.commitLsn, seq: open.seq++, changes: pending });
      pending = [];
    } else if (open.kind === 'stream') {
      emit({
        type: 'stream-chunk',
        xid: open.xid,
        seq: open.state.seq++,
        changes: pending,
        subxids: pendingSubxids,
      });
      pending = [];
      pendingSubxids = [];
    }
  };

  const lookup = (relationOid: number): RelationEntry => {
    const entry =
      (open.kind === 'stream' ? open.state.relations.get(relationOid) : undefined) ??
      relations.get(relationOid);
    if (entry === undefined) {
      throw new PgoutputProtocolError(
        'unknown-relation',
        `relation ${relationOid} was not described by a Relation message`,
      );
    }
    return entry;
  };

  const toTuple = (values: TupleData, entry: RelationEntry): Tuple => {
    if (values.length !== entry.shape.columns.length) {
      throw new PgoutputProtocolError(
        'column-count-mismatch',
        `${entry.shape.schema}.${entry.shape.name} has ${entry.shape.columns.length} columns, tuple has ${values.length}`,
      );
    }
    for (const value of values) {
      if (value instanceof Uint8Array) {
        throw new PgoutputProtocolError(
          'binary-value',
          `binary value in ${entry.shape.schema}.${entry.shape.name}`,
        );
      }
    }
    // Checked above: no binary values, so the decoded array already is a Tuple.
    return values as Tuple;
  };

  /** Where a data message belongs: its subxid inside a stream block, 0 inside a transaction. */
  const requireOpen = (message: PgoutputDataMessage): number => {
    if (open.kind === 'transaction') {
      if (message.xid !== undefined) throw unexpected(message, 'carries an xid outside a stream block');
      return 0;
    }
    if (open.kind === 'stream') {
      if (message.xid === undefined) throw unexpected(message, 'has no xid inside a stream block');
      return message.xid;
    }
    throw unexpected(message, 'outside a transaction');
  };

  const add = (change: LoggedChange, subxid: number): void => {
    pending.push(change);
    if (open.kind === 'stream') {
      pendingSubxids.push(subxid);
      open.state.changes++;
    } else if (open.kind === 'transaction') {
      open.changes++;
    }
    if (pending.length >= maxChunkChanges) flush();
  };

  const onRelation = (message: RelationMessage): void => {
    if (open.kind === 'transaction' && message.xid !== undefined)
      throw unexpected(message, 'carries an xid outside a stream block');
    if (open.kind === 'stream' && message.xid === undefined)
      throw unexpected(message, 'has no xid inside a stream block');
    const cache = open.kind === 'stream' ? open.state.relations : relations;
    const current =
      (open.kind === 'stream' ? cache.get(message.relationOid) : undefined) ??
      relations.get(message.relationOid);
    const shapeId = shapeFor(message);
    // The same shape id means the same shape (the log interns shapes); keep the cached entry and stay quiet.
    if (current !== undefined && current.shape.shapeId === shapeId) {
      if (cache !== relations) cache.set(message.relationOid, current);
      return;
    }
    const shape = shapeOf(shapeId, message);
    cache.set(message.relationOid, { shape });
    emit({ type: 'shape', shape });
  };

  const onChange = (message: PgoutputDataMessage): void => {
    switch (message.type) {
      case 'insert': {
        const subxid = requireOpen(message);
        const entry = lookup(message.relationOid);
        add({ kind: 'insert', shapeId: entry.shape.shapeId, row: toTuple(message.newTuple, entry) }, subxid);
        return;
      }
      case 'update': {
        const subxid = requireOpen(message);
        const entry = lookup(message.relationOid);
        const row = toTuple(message.newTuple, entry);
        const shapeId = entry.shape.shapeId;
        add(
          message.old === undefined
            ? { kind: 'update', shapeId, row }
            : {
                kind: 'update',
                shapeId,
                row,
                old: { kind: message.old.kind, row: toTuple(message.old.tuple, entry) },
              },
          subxid,
        );
        return;
      }
      case 'delete': {
        const subxid = requireOpen(message);
        const entry = lookup(message.relationOid);
        add(
          {
            kind: 'delete',
            shapeId: entry.shape.shapeId,
            old: { kind: message.old.kind, row: toTuple(message.old.tuple, entry) },
          },
          subxid,
        );
        return;
      }
      case 'truncate': {
        const subxid = requireOpen(message);
        const shapeIds = message.relationOids.map((oid) => lookup(oid).shape.shapeId);
        add(
          { kind: 'truncate', shapeIds, cascade: message.cascade, restartIdentity: message.restartIdentity },
          subxid,
        );
        return;
      }
      case 'message': {
        if (message.transactional) {
          requireOpen(message);
          // Hand out the changes before the message so the consumer sees them in their order.
          flush();
        }
        emit({ type: 'message', message });
        return;
      }
      case 'relation':
        onRelation(message);
        return;
      case 'type':
        // Type names are informational: values stay Postgres text, the type OID is in the shape.
        return;
    }
  };

  const handle = (message: PgoutputMessage): void => {
    switch (message.type) {
      case 'begin': {
        if (open.kind !== 'idle') throw unexpected(message, `while a ${open.kind} is open`);
        const header: OpenTransactionHeader = {
          commitLsn: message.finalLsn,
          xid: message.xid,
          commitTimeUs: message.commitTimeUs,
        };
        open = { kind: 'transaction', header, seq: 0, changes: 0 };
        emit({ type: 'begin', header, streamed: false });
        return;
      }
      case 'commit': {
        if (open.kind !== 'transaction') throw unexpected(message, 'without a Begin');
        if (message.commitLsn !== open.header.commitLsn) {
          throw new PgoutputProtocolError(
            'commit-lsn-mismatch',
            `Commit LSN ${message.commitLsn} differs from Begin final LSN ${open.header.commitLsn} (xid ${open.header.xid})`,
          );
        }
        flush();
        emit({
          type: 'commit',
          header: { ...open.header, endLsn: message.endLsn },
          chunks: open.seq,
          changes: open.changes,
        });
        open = IDLE;
        return;
      }
      case 'origin':
        return;
      case 'stream-start': {
        if (open.kind !== 'idle') throw unexpected(message, `while a ${open.kind} is open`);
        let state = streams.get(message.xid);
        if (message.firstSegment !== (state === undefined)) {
          throw new PgoutputProtocolError(
            'stream-mismatch',
            `Stream Start of xid ${message.xid} says first segment ${message.firstSegment}, but the xid was ${state === undefined ? 'never' : 'already'} streamed`,
          );
        }
        if (state === undefined) {
          state = { seq: 0, changes: 0, relations: new Map() };
          streams.set(message.xid, state);
        }
        open = { kind: 'stream', xid: message.xid, state };
        return;
      }
      case 'stream-stop': {
        if (open.kind !== 'stream') throw unexpected(message, 'without a Stream Start');
        flush();
        open = IDLE;
        return;
      }
      case 'stream-commit': {
        if (open.kind !== 'idle') throw unexpected(message, `while a ${open.kind} is open`);
        const state = streams.get(message.xid);
        if (state === undefined) {
          throw new PgoutputProtocolError(
            'stream-mismatch',
            `Stream Commit of xid ${message.xid}, which was never streamed`,
          );
        }
        streams.delete(message.xid);
        // Relations described in the stream now describe the table for everyone (as the apply worker does when
        // it replays the spooled stream at commit).
        for (const [oid, entry] of state.relations) relations.set(oid, entry);
        const header: OpenTransactionHeader = {
          commitLsn: message.commitLsn,
          xid: message.xid,
          commitTimeUs: message.commitTimeUs,
        };
        emit({ type: 'begin', header, streamed: true });
        emit({
          type: 'commit',
          header: { ...header, endLsn: message.endLsn },
          chunks: state.seq,
          changes: state.changes,
        });
        return;
      }
      case 'stream-abort': {
        if (open.kind !== 'idle') throw unexpected(message, `while a ${open.kind} is open`);
        if (message.subxid === message.xid) streams.delete(message.xid);
        emit({ type: 'abort', xid: message.xid, subxid: message.subxid });
        return;
      }
      default:
        onChange(message);
    }
  };

  return {
    push(message) {
      events = undefined;
      handle(message);
      const produced = events ?? NO_EVENTS;
      events = undefined;
      return produced;
    },
    get bufferedChanges() {
      return pending.length;
    },
    get busy() {
      return open.kind !== 'idle';
    },
    get openStreams() {
      return streams.size;
    },
  };
}
