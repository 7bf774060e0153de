/**
 * A synchronous stand-in for the SyncDO shell: it answers the session's effects from an in-memory world (token
 * table, client records, catalog, snapshot rows, change log) and records what was sent. Test-only.
 */

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type ClientMessage,
  ClientMessageSchema,
  decodeServerFrame,
  ErrorCode,
  encodeClientFrame,
  HelloSchema,
  type Lsn,
  MAX_MAX_FRAME_BYTES,
  type ServerMessage,
  SyncError,
} from '@vibestack/proto';
import type { JwtClaims } from '../../auth/index.ts';
import type { Tuple } from '../../change.ts';
import type { RelationDescriptor } from '../relation-descriptor.ts';
import { parseSessionCheckpoint } from '../session-checkpoint.ts';
import type {
  ClientRecord,
  LogTransaction,
  SessionConfig,
  SessionEffect,
  SessionEvent,
} from '../session-types.ts';
import type { XidSnapshot } from '../snapshot-visibility.ts';
import { createSyncSession, restoreSyncSession, type SyncSession } from '../sync-session.ts';
import { CATALOG, SCOPE, SHAPES } from './fixtures.ts';

/** Everything the fake shell answers from. */
export interface World {
  floor: Lsn;
  head: Lsn;
  log: LogTransaction[];
  records: Map<string, ClientRecord>;
  catalog: readonly RelationDescriptor[];
  /** Snapshot contents per relation OID, full rows in descriptor column order. */
  snapshotRows: Map<number, Tuple[]>;
  snapshot: { lsn: Lsn; xids: XidSnapshot; handoffAfterLsn: Lsn };
  /** Current rows for `fetch-rows`, per relation OID, keyed by id. */
  current: Map<number, Map<string, Tuple>>;
  /** Store the log in chunks of this many changes and read at most `readMaxChunks` per read (like ChangeLog). */
  chunking?: { chunkChanges: number; readMaxChunks: number };
}

export const CLIENT_ID = '5b2f1f0e-8a43-4f1e-9d55-2a6b1c7d9e10';
export const T0 = 1_704_359_640_000;

/** Tokens are `ok:<sub>` (or `ok:<sub>:<exp seconds>`); anything else is rejected. */
export function claimsOf(token: string): JwtClaims | undefined {
  const [tag, sub, exp] = token.split(':');
  if (tag !== 'ok' || sub === undefined || sub === '') return undefined;
  return exp === undefined ? { sub } : { sub, exp: Number(exp) };
}

export function emptyWorld(): World {
  return {
    floor: 0n,
    head: 100n,
    log: [],
    records: new Map(),
    catalog: CATALOG,
    snapshotRows: new Map(),
    snapshot: { lsn: 100n, xids: { xmin: 1_000_000, xmax: 1_000_000, xip: [] }, handoffAfterLsn: 100n },
    current: new Map(),
  };
}

/** A Hello with sensible defaults. */
export function hello(fields: MessageInitShape<typeof HelloSchema> = {}): ClientMessage['message'] {
  return {
    case: 'hello',
    value: create(HelloSchema, {
      protocolVersions: [1],
      authToken: 'ok:user_42',
      clientId: CLIENT_ID,
      ...fields,
    }),
  };
}

const keyNum = (t: Tuple) => Number(t[0]);

/** Drives a session against a {@link World}. */
export class Driver {
  session: SyncSession;
  readonly config: SessionConfig;
  readonly world: World;
  now = T0;
  readonly sent: ServerMessage[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  readonly effects: SessionEffect[] = [];
  timerAt: number | undefined;
  /** Effect types not answered automatically; they collect in `held`. */
  readonly hold = new Set<SessionEffect['type']>();
  readonly held: SessionEffect[] = [];

  constructor(world: World = emptyWorld(), config: Partial<SessionConfig> = {}) {
    this.world = world;
    this.config = { clientId: CLIENT_ID, scope: SCOPE, ...config };
    this.session = createSyncSession(this.config);
  }

  /**
   * What a hibernating shell does: replaces the session by one restored from its checkpoint, passed through JSON
   * (as storage would). Returns false, and keeps the session, when it has no checkpoint.
   */
  hibernate(): boolean {
    const cp = this.session.checkpoint();
    if (cp === undefined) return false;
    const stored = parseSessionCheckpoint(JSON.parse(JSON.stringify(cp)));
    if (stored === undefined) throw new Error('the checkpoint did not survive JSON');
    this.session = restoreSyncSession(this.config, stored, this.world.catalog);
    return true;
  }

  /** Handles an event and, transitively, the answers to the effects it produced. */
  handle(event: SessionEvent): SessionEffect[] {
    const queue: SessionEvent[] = [event];
    const all: SessionEffect[] = [];
    for (let ev = queue.shift(); ev !== undefined; ev = queue.shift()) {
      for (const effect of this.session.handle(ev, this.now)) {
        all.push(effect);
        this.effects.push(effect);
        const answer = this.#answer(effect);
        if (answer !== undefined) queue.push(answer);
      }
    }
    return all;
  }

  /** The client sends a frame. */
  send(message: ClientMessage['message']): SessionEffect[] {
    return this.handle({ type: 'frame', data: encodeClientFrame(create(ClientMessageSchema, { message })) });
  }

  /** Time passes; the timer fires if it is due. */
  advance(ms: number): SessionEffect[] {
    this.now += ms;
    return this.timerAt !== undefined && this.timerAt <= this.now ? this.handle({ type: 'tick' }) : [];
  }

  /** Answers a held effect now. */
  release(effect: SessionEffect): SessionEffect[] {
    this.held.splice(this.held.indexOf(effect), 1);
    const answer = this.#answer(effect, true);
    return answer === undefined ? [] : this.handle(answer);
  }

  #answer(e: SessionEffect, force = false): SessionEvent | undefined {
    if (e.type === 'send') this.sent.push(decodeServerFrame(e.bytes, MAX_MAX_FRAME_BYTES));
    if (e.type === 'close') this.closes.push({ code: e.code, reason: e.reason });
    if (e.type === 'set-timer') this.timerAt = e.at;
    if (!force && this.hold.has(e.type)) {
      this.held.push(e);
      return undefined;
    }
    const w = this.world;
    switch (e.type) {
      case 'verify-token': {
        const claims = claimsOf(e.token);
        return claims === undefined
          ? { type: 'token-rejected', error: new SyncError(ErrorCode.UNAUTHENTICATED, 'bad token') }
          : { type: 'token-verified', claims };
      }
      case 'load-client':
        return {
          type: 'client-loaded',
          record: w.records.get(e.clientId),
          floor: w.floor,
          head: w.head,
          catalog: w.catalog,
        };
      case 'bind-client':
        w.records.set(e.clientId, { userId: e.userId, ackedLsn: 0n, lastMutationId: 0n });
        return undefined;
      case 'persist-ack': {
        const r = w.records.get(e.clientId)!;
        w.records.set(e.clientId, { ...r, ackedLsn: e.lsn });
        return { type: 'ack-persisted', lsn: e.lsn };
      }
      case 'persist-mutation-id': {
        const r = w.records.get(e.clientId)!;
        w.records.set(e.clientId, { ...r, lastMutationId: e.lastMutationId });
        return undefined;
      }
      case 'start-snapshot':
        return {
          type: 'snapshot-started',
          snapshotId: 's-1',
          resumed: e.resume?.snapshotId === 's-1',
          lsn: w.snapshot.lsn,
          xids: w.snapshot.xids,
          handoffAfterLsn: w.snapshot.handoffAfterLsn,
          estimates: e.tables.map((t) => ({
            relationOid: t.relationOid,
            rows: BigInt(w.snapshotRows.get(t.relationOid)?.length ?? 0),
            bytes: 0n,
          })),
        };
      case 'read-snapshot-rows': {
        const d = w.catalog.find((c) => c.relationOid === e.table.relationOid)!;
        const names = d.columns.map((c) => c.name);
        const all = [...(w.snapshotRows.get(e.table.relationOid) ?? [])].sort(
          (a, b) => keyNum(a) - keyNum(b),
        );
        const f = e.filter;
        const after = e.afterKey === undefined ? Number.NEGATIVE_INFINITY : Number(e.afterKey[0]);
        const matching = all.filter(
          (r) => keyNum(r) > after && (f === undefined || r[names.indexOf(f.column)] === f.equals),
        );
        const page = matching.slice(0, e.limit).map((r) => e.columns.map((c) => r[names.indexOf(c)] ?? null));
        return {
          type: 'snapshot-rows',
          relationOid: e.table.relationOid,
          rows: page,
          done: matching.length <= e.limit,
        };
      }
      case 'read-log': {
        if (w.chunking !== undefined) return { type: 'log-batch', batch: readChunked(w, e) };
        const after = w.log.filter((t) => t.header.commitLsn > e.afterLsn);
        const transactions = after.slice(0, e.limit);
        const throughLsn =
          after.length > e.limit ? transactions[transactions.length - 1]!.header.commitLsn : w.head;
        return {
          type: 'log-batch',
          batch: {
            requestId: e.requestId,
            afterLsn: e.afterLsn,
            throughLsn,
            transactions,
            shapes: SHAPES,
            head: w.head,
            floor: w.floor,
          },
        };
      }
      case 'fetch-rows': {
        const d = w.catalog.find((c) => c.relationOid === e.table.relationOid)!;
        const names = d.columns.map((c) => c.name);
        const rows = e.keys.map((k) => {
          const r = w.current.get(e.table.relationOid)?.get(String(k[0]));
          return r === undefined ? undefined : e.columns.map((c) => r[names.indexOf(c)] ?? null);
        });
        return { type: 'rows-fetched', requestId: e.requestId, rows };
      }
      default:
        return undefined;
    }
  }

  /** Frames of one case that were sent. */
  framesOf<K extends NonNullable<ServerMessage['message']['case']>>(
    kind: K,
  ): Extract<ServerMessage['message'], { case: K }>['value'][] {
    return this.sent.filter((m) => m.message.case === kind).map((m) => m.message.value as never);
  }

  /** Names of the sent frames, in order (`Transaction@lsn` for transactions). */
  trace(): string[] {
    return this.sent.map((m) => {
      const v = m.message;
      if (v.case === 'transaction') return `transaction@${v.value.commitLsn}#${v.value.frameIndex}`;
      if (v.case === 'error') return `error:${ErrorCode[v.value.code]}`;
      return v.case ?? 'none';
    });
  }
}

/** A `read-log` answer over a log stored in chunks, read within a chunk budget (the rules of ChangeLog.readBatch). */
function readChunked(w: World, e: Extract<SessionEffect, { type: 'read-log' }>) {
  const { chunkChanges, readMaxChunks } = w.chunking!;
  const chunksOf = (t: LogTransaction) => {
    const out: LogTransaction['changes'][] = [];
    for (let i = 0; i < t.changes.length; i += chunkChanges) out.push(t.changes.slice(i, i + chunkChanges));
    return out;
  };
  const transactions: LogTransaction[] = [];
  let used = 0;
  let through = e.afterLsn;
  const take = (t: LogTransaction, from: number): boolean => {
    const chunks = chunksOf(t);
    const n = Math.min(chunks.length - from, readMaxChunks - used);
    const more = from + n < chunks.length;
    transactions.push({
      header: t.header,
      changes: chunks.slice(from, from + n).flat(),
      fromChunk: from,
      chunkCount: n,
      more,
    });
    used += n;
    if (!more) through = t.header.commitLsn;
    return more;
  };
  const batch = (throughLsn: Lsn) => ({
    requestId: e.requestId,
    afterLsn: e.afterLsn,
    throughLsn,
    transactions,
    shapes: SHAPES,
    head: w.head,
    floor: w.floor,
  });
  if (e.continueAt !== undefined) {
    const t = w.log.find((x) => x.header.commitLsn === e.continueAt!.commitLsn);
    if (t !== undefined && take(t, e.continueAt.fromChunk)) return batch(through);
  }
  const wanted = e.limit - transactions.length;
  const after = w.log.filter((t) => t.header.commitLsn > through).slice(0, wanted);
  for (const t of after) {
    const n = chunksOf(t).length;
    if (used > 0 && used + n > readMaxChunks) return batch(through);
    if (take(t, 0)) return batch(through);
  }
  return batch(after.length < wanted ? w.head : through);
}
