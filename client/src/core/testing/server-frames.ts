/**
 * Server frames for the client-session tests, built from the generated messages and encoded like the server
 * encodes them, plus a driver that feeds a session and records its effects. Test-only.
 */

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type ClientMessage,
  type Column,
  ColumnSchema,
  ErrorCode,
  encodeServerFrame,
  encodeTextValue,
  type Lsn,
  type Relation,
  RelationSchema,
  type Row,
  RowSchema,
  type ServerMessage,
  ServerMessageSchema,
  SYNC_SUBPROTOCOL,
  type SyncMode,
  type Value,
  ValueEncoding,
  ValueSchema,
  valueTypeOfColumn,
} from '@vibestack/proto';
import { type ClientSession, createClientSession } from '../client-session.ts';
import type { ApplyWork, ClientConfig, ClientEffect, ClientEvent } from '../client-types.ts';

export const T0 = 1_704_359_640_000;
export const CLIENT_ID = 'client-1';
export const HEARTBEAT_MS = 15_000;

type Message = NonNullable<MessageInitShape<typeof ServerMessageSchema>['message']>;

/** A `ServerMessage` with one case. */
export const msg = (message: Message): ServerMessage => create(ServerMessageSchema, { message });

/** The Welcome of a test server. */
export function welcome(mode: SyncMode, fields: Record<string, unknown> = {}): ServerMessage {
  return msg({
    case: 'welcome',
    value: {
      protocolVersion: 1,
      mode,
      clientId: CLIENT_ID,
      serverLsn: 100n,
      heartbeatIntervalMs: HEARTBEAT_MS,
      maxFrameBytes: 65_536,
      maxRowsPerChunk: 100,
      ...fields,
    },
  });
}

const column = (name: string, encoding: ValueEncoding, typeName: string, baseTypeOid: number): Column =>
  create(ColumnSchema, { name, encoding, typeName, baseTypeName: typeName, baseTypeOid, typeModifier: -1 });

/** Relation `public.items (id bigint primary key, title text)` under `relationId`. */
export function itemsRelation(relationId = 1, name = 'items'): Relation {
  return create(RelationSchema, {
    relationId,
    schema: 'public',
    name,
    columns: [column('id', ValueEncoding.INT, 'bigint', 20), column('title', ValueEncoding.TEXT, 'text', 25)],
    primaryKey: [0],
  });
}

export const relationFrame = (relation: Relation = itemsRelation()): ServerMessage =>
  msg({ case: 'relation', value: relation });

export const intValue = (v: bigint): Value => create(ValueSchema, { kind: { case: 'intValue', value: v } });
export const textValue = (v: string): Value => create(ValueSchema, { kind: { case: 'textValue', value: v } });
export const itemRow = (id: bigint, title = `item ${id}`): Row =>
  create(RowSchema, { values: [intValue(id), textValue(title)] });

/** Wire rows of `relation` from rows written as Postgres text (`null` = NULL): test data for snapshot chunks. */
export function wireRows(relation: Relation, rows: readonly (readonly (string | null)[])[]): Row[] {
  const types = relation.columns.map(valueTypeOfColumn);
  return rows.map((r) => create(RowSchema, { values: r.map((t, i) => encodeTextValue(types[i]!, t)) }));
}

export const snapshotBegin = (snapshotId: string, tables: number[], resumed = false): ServerMessage =>
  msg({
    case: 'snapshotBegin',
    value: { snapshotId, resumed, tables: tables.map((relationId) => ({ relationId })) },
  });

export const snapshotChunk = (
  relationId: number,
  rows: Row[],
  lastInTable: boolean,
  cursor = 'c',
): ServerMessage =>
  msg({
    case: 'snapshotChunk',
    value: { relationId, rows, lastInTable, cursor: new TextEncoder().encode(cursor) },
  });

export const snapshotEnd = (lsn: Lsn, rowCounts: bigint[] = []): ServerMessage =>
  msg({ case: 'snapshotEnd', value: { lsn, rowCounts } });

/** A one-change Transaction frame inserting item `id` into relation 1. */
export function insertTx(
  commitLsn: Lsn,
  id: bigint,
  frame: { index?: number; more?: boolean } = {},
): ServerMessage {
  return msg({
    case: 'transaction',
    value: {
      commitLsn,
      frameIndex: frame.index ?? 0,
      hasMore: frame.more ?? false,
      changes: [{ kind: { case: 'insert', value: { relationId: 1, newRow: itemRow(id) } } }],
    },
  });
}

export const progress = (lsn: Lsn, caughtUp = false): ServerMessage =>
  msg({ case: 'progress', value: { lsn, caughtUp } });

export const serverError = (code: ErrorCode, fatal: boolean, retryAfterMs = 0): ServerMessage =>
  msg({ case: 'error', value: { code, fatal, message: 'test', retryAfterMs } });

/** A short trace of the effects that matter for transitions: frames sent, closes, token requests, connects, applies. */
export function traceOf(effects: readonly ClientEffect[]): string[] {
  const out: string[] = [];
  for (const e of effects) {
    if (e.type === 'send') {
      const m = e.message.message;
      out.push(m.case === 'error' ? `send:error:${ErrorCode[m.value.code]}` : `send:${m.case}`);
    } else if (e.type === 'close') out.push(`close:${e.code}`);
    else if (e.type === 'get-token') out.push(e.fresh ? 'get-token:fresh' : 'get-token');
    else if (e.type === 'connect') out.push('connect');
    else if (e.type === 'apply') out.push(`apply:${e.work.kind}`);
  }
  return out;
}

/** Feeds a session and keeps what it did. Applies are held until `applyDone`/`applyFailed`. */
export class Driver {
  readonly session: ClientSession;
  now = T0;
  effects: ClientEffect[] = [];
  readonly sent: ClientMessage[] = [];
  /** Applies handed out and not yet answered. */
  readonly applies: { id: number; work: ApplyWork }[] = [];

  constructor(config: Partial<ClientConfig> = {}) {
    this.session = createClientSession({ clientId: CLIENT_ID, random: () => 0.999, ...config });
  }

  handle(event: ClientEvent): ClientEffect[] {
    const effects = this.session.handle(event, this.now);
    for (const e of effects) {
      if (e.type === 'send') this.sent.push(e.message);
      if (e.type === 'apply') this.applies.push({ id: e.id, work: e.work });
    }
    this.effects.push(...effects);
    return effects;
  }

  server(message: ServerMessage): ClientEffect[] {
    return this.handle({ type: 'frame', data: encodeServerFrame(message) });
  }

  /** start + token + socket-open: Hello sent. */
  connect(token = 'token'): void {
    this.handle({ type: 'start' });
    this.open(token);
  }

  /** Answers `get-token` with `token`, then `connect` with an open socket (Hello sent). */
  open(token = 'token'): void {
    this.handle({ type: 'token', token });
    this.handle({ type: 'socket-open', subprotocol: SYNC_SUBPROTOCOL });
  }

  applyDone(): ClientEffect[] {
    const a = this.applies.shift();
    if (a === undefined) throw new Error('no apply in flight');
    return this.handle({ type: 'apply-done', id: a.id });
  }

  /** Answers every apply (including the ones handed out meanwhile) with `apply-done`. */
  applyAll(): void {
    while (this.applies.length > 0) this.applyDone();
  }
}
