/**
 * pgoutput decoder: one message (the `data` bytea of a `pg_logical_slot_peek_binary_changes` row, or the
 * payload of an XLogData frame) → one typed {@link PgoutputMessage}. Sans-IO and allocation-light: a DataView
 * over the caller's bytes, one shared TextDecoder, strict bounds checks. Malformed input always throws a
 * {@link PgoutputDecodeError}; a message is never partially decoded. Field reads live in {@link ByteReader}.
 */

import { ByteReader } from './byte-reader.ts';
import {
  COLUMN_FLAG_KEY,
  MESSAGE_FLAG_TRANSACTIONAL,
  MESSAGE_TAG,
  TRUNCATE_OPTION,
  TUPLE_TAG,
} from './constants.ts';
import { PgoutputDecodeError } from './errors.ts';
import type { PgoutputMessage, RelationColumn, RelationMessage, UpdateMessage } from './messages.ts';

/** Options of {@link decodePgoutputMessage}. */
export interface DecodeOptions {
  /**
   * Whether the message is inside a protocol-v2 stream block (after Stream Start, before Stream Stop): data
   * messages then begin with an xid. Default `false`. {@link createPgoutputDecoder} tracks this for you.
   */
  readonly inStream?: boolean;
}

function replicaIdentity(reader: ByteReader): RelationMessage['replicaIdentity'] {
  const at = reader.offset;
  const value = reader.u8('replica identity');
  // 'd' default, 'n' nothing, 'f' full, 'i' index
  if (value === 0x64) return 'd';
  if (value === 0x6e) return 'n';
  if (value === 0x66) return 'f';
  if (value === 0x69) return 'i';
  return reader.fail('invalid-value', `unknown replica identity 0x${value.toString(16)}`, at);
}

function decodeRelation(reader: ByteReader, xid: number | undefined): RelationMessage {
  const relationOid = reader.u32('relation oid');
  const namespace = reader.namespace();
  const name = reader.cstring('relation name');
  const identity = replicaIdentity(reader);
  const count = reader.count16('column count');
  // flags (1) + name (>= 1) + type oid (4) + typmod (4) per column.
  reader.need(count * 10, 'relation columns');
  const columns = new Array<RelationColumn>(count);
  for (let i = 0; i < count; i++) {
    const flags = reader.u8('column flags');
    columns[i] = {
      flags,
      isKey: (flags & COLUMN_FLAG_KEY) !== 0,
      name: reader.cstring('column name'),
      typeOid: reader.u32('column type oid'),
      typeModifier: reader.i32('column type modifier'),
    };
  }
  const base = {
    type: 'relation',
    relationOid,
    namespace,
    name,
    replicaIdentity: identity,
    columns,
  } as const;
  return xid === undefined ? base : { ...base, xid };
}

function oldTupleKind(tag: number): 'key' | 'full' | undefined {
  if (tag === TUPLE_TAG.key) return 'key';
  if (tag === TUPLE_TAG.old) return 'full';
  return undefined;
}

function decodeUpdate(reader: ByteReader, xid: number | undefined): UpdateMessage {
  const relationOid = reader.u32('relation oid');
  let at = reader.offset;
  let tag = reader.u8('tuple tag');
  let old: UpdateMessage['old'];
  const kind = oldTupleKind(tag);
  if (kind !== undefined) {
    old = { kind, tuple: reader.tuple() };
    at = reader.offset;
    tag = reader.u8('tuple tag');
  }
  if (tag !== TUPLE_TAG.new) reader.fail('invalid-value', `expected 'N', got 0x${tag.toString(16)}`, at);
  const newTuple = reader.tuple();
  const message: { -readonly [K in keyof UpdateMessage]: UpdateMessage[K] } = {
    type: 'update',
    relationOid,
    newTuple,
  };
  if (xid !== undefined) message.xid = xid;
  if (old !== undefined) message.old = old;
  return message;
}

function withXid<T extends object>(message: T, xid: number | undefined): T & { xid?: number } {
  return xid === undefined ? message : { ...message, xid };
}

function decodeBody(reader: ByteReader, inStream: boolean): PgoutputMessage {
  const tag = reader.tag;
  switch (tag) {
    case MESSAGE_TAG.begin:
      return {
        type: 'begin',
        finalLsn: reader.u64('final lsn'),
        commitTimeUs: reader.timestamp('commit timestamp'),
        xid: reader.u32('xid'),
      };
    case MESSAGE_TAG.commit:
      return {
        type: 'commit',
        flags: reader.u8('flags'),
        commitLsn: reader.u64('commit lsn'),
        endLsn: reader.u64('end lsn'),
        commitTimeUs: reader.timestamp('commit timestamp'),
      };
    case MESSAGE_TAG.origin:
      return { type: 'origin', originLsn: reader.u64('origin lsn'), name: reader.cstring('origin name') };
    case MESSAGE_TAG.streamStart: {
      const xid = reader.u32('xid');
      const at = reader.offset;
      const first = reader.u8('first segment');
      if (first > 1) reader.fail('invalid-value', `first-segment flag ${first}`, at);
      return { type: 'stream-start', xid, firstSegment: first === 1 };
    }
    case MESSAGE_TAG.streamStop:
      return { type: 'stream-stop' };
    case MESSAGE_TAG.streamCommit:
      return {
        type: 'stream-commit',
        xid: reader.u32('xid'),
        flags: reader.u8('flags'),
        commitLsn: reader.u64('commit lsn'),
        endLsn: reader.u64('end lsn'),
        commitTimeUs: reader.timestamp('commit timestamp'),
      };
    case MESSAGE_TAG.streamAbort: {
      const xid = reader.u32('xid');
      const subxid = reader.u32('subxid');
      // Protocol v4 with streaming = parallel appends abort LSN and time.
      if (reader.offset === reader.bytes.length) return { type: 'stream-abort', xid, subxid };
      return {
        type: 'stream-abort',
        xid,
        subxid,
        abortLsn: reader.u64('abort lsn'),
        abortTimeUs: reader.timestamp('abort timestamp'),
      };
    }
    default:
      break;
  }

  // Data messages: an xid first inside a stream block.
  const xid = inStream ? reader.u32('xid') : undefined;
  switch (tag) {
    case MESSAGE_TAG.relation:
      return decodeRelation(reader, xid);
    case MESSAGE_TAG.type:
      return withXid(
        {
          type: 'type',
          typeOid: reader.u32('type oid'),
          namespace: reader.namespace(),
          name: reader.cstring('type name'),
        } as const,
        xid,
      );
    case MESSAGE_TAG.insert: {
      const relationOid = reader.u32('relation oid');
      const at = reader.offset;
      const tupleTag = reader.u8('tuple tag');
      if (tupleTag !== TUPLE_TAG.new) {
        reader.fail('invalid-value', `expected 'N', got 0x${tupleTag.toString(16)}`, at);
      }
      return withXid({ type: 'insert', relationOid, newTuple: reader.tuple() } as const, xid);
    }
    case MESSAGE_TAG.update:
      return decodeUpdate(reader, xid);
    case MESSAGE_TAG.delete: {
      const relationOid = reader.u32('relation oid');
      const at = reader.offset;
      const tupleTag = reader.u8('tuple tag');
      const kind = oldTupleKind(tupleTag);
      if (kind === undefined) {
        reader.fail('invalid-value', `expected 'K' or 'O', got 0x${tupleTag.toString(16)}`, at);
      }
      return withXid({ type: 'delete', relationOid, old: { kind, tuple: reader.tuple() } } as const, xid);
    }
    case MESSAGE_TAG.truncate: {
      const count = reader.count32('relation count');
      const options = reader.u8('options');
      reader.need(count * 4, 'relation oids');
      const relationOids = new Array<number>(count);
      for (let i = 0; i < count; i++) relationOids[i] = reader.u32('relation oid');
      return withXid(
        {
          type: 'truncate',
          options,
          cascade: (options & TRUNCATE_OPTION.cascade) !== 0,
          restartIdentity: (options & TRUNCATE_OPTION.restartIdentity) !== 0,
          relationOids,
        } as const,
        xid,
      );
    }
    case MESSAGE_TAG.message: {
      const flags = reader.u8('flags');
      const lsn = reader.u64('lsn');
      const prefix = reader.cstring('prefix');
      const length = reader.count32('content length');
      reader.need(length, 'content');
      const content = reader.copy(reader.offset, reader.offset + length);
      reader.offset += length;
      return withXid(
        {
          type: 'message',
          flags,
          transactional: (flags & MESSAGE_FLAG_TRANSACTIONAL) !== 0,
          lsn,
          prefix,
          content,
        } as const,
        xid,
      );
    }
    default:
      return reader.fail('invalid-value', `unknown message tag 0x${tag.toString(16)}`, 0);
  }
}

/**
 * Decodes one pgoutput message. The input is not retained: strings are decoded, binary values and message
 * contents are copied.
 *
 * @throws PgoutputDecodeError when the bytes are empty, truncated, followed by trailing bytes, or hold a value
 *   the protocol does not define.
 * @example
 * const { rows } = await client.query("SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, " +
 *   "'proto_version', '1', 'publication_names', $2)", [slot, publication]);
 * const messages = rows.map((row) => decodePgoutputMessage(row.data));
 */
export function decodePgoutputMessage(data: Uint8Array, options: DecodeOptions = {}): PgoutputMessage {
  if (data.length === 0) throw new PgoutputDecodeError('truncated', 'empty message', 0, -1);
  const reader = new ByteReader(data);
  const message = decodeBody(reader, options.inStream ?? false);
  reader.done();
  return message;
}

/** A decoder that remembers whether it is inside a stream block. See {@link createPgoutputDecoder}. */
export interface PgoutputDecoder {
  /** Decodes the next message of the session, in order. */
  decode(data: Uint8Array): PgoutputMessage;
  /** Whether the last decoded message left a stream block open. */
  readonly inStream: boolean;
}

/**
 * Creates a decoder for one replication session: it tracks Stream Start / Stream Stop so data messages inside a
 * stream block are decoded with their xid. Feed it every message of the session in order.
 *
 * @example
 * const decoder = createPgoutputDecoder();
 * for (const row of rows) assembler.push(decoder.decode(row.data));
 */
export function createPgoutputDecoder(): PgoutputDecoder {
  let inStream = false;
  return {
    decode(data) {
      const message = decodePgoutputMessage(data, { inStream });
      if (message.type === 'stream-start') inStream = true;
      else if (message.type === 'stream-stop') inStream = false;
      return message;
    },
    get inStream() {
      return inStream;
    },
  };
}
