/**
 * TEST-ONLY pgoutput encoder: the inverse of {@link decodePgoutputMessage}, for building byte buffers in unit and
 * property tests. Not exported from index.ts; the server never writes pgoutput.
 */

import { UNCHANGED_DATUM } from '../change.ts';
import { DATUM_KIND, MESSAGE_TAG, POSTGRES_EPOCH_OFFSET_US, TUPLE_TAG } from './constants.ts';
import type { PgoutputMessage, TupleData } from './messages.ts';

const utf8 = new TextEncoder();

/** A little big-endian byte writer. */
export class ByteWriter {
  private bytes: number[] = [];

  u8(value: number): this {
    this.bytes.push(value & 0xff);
    return this;
  }

  i16(value: number): this {
    return this.u8(value >> 8).u8(value);
  }

  u32(value: number): this {
    return this.u8(value >>> 24)
      .u8(value >>> 16)
      .u8(value >>> 8)
      .u8(value);
  }

  u64(value: bigint): this {
    const v = BigInt.asUintN(64, value);
    return this.u32(Number(v >> 32n)).u32(Number(v & 0xffffffffn));
  }

  /** Postgres timestamp from µs since 1970. */
  timestamp(us: bigint): this {
    return this.u64(us - POSTGRES_EPOCH_OFFSET_US);
  }

  raw(bytes: Uint8Array | readonly number[]): this {
    for (const byte of bytes) this.bytes.push(byte);
    return this;
  }

  cstring(value: string): this {
    return this.raw(utf8.encode(value)).u8(0);
  }

  char(value: string): this {
    return this.u8(value.charCodeAt(0));
  }

  tuple(tuple: TupleData): this {
    this.i16(tuple.length);
    for (const value of tuple) {
      if (value === null) this.u8(DATUM_KIND.null);
      else if (value === UNCHANGED_DATUM) this.u8(DATUM_KIND.unchangedToast);
      else if (typeof value === 'string') {
        const bytes = utf8.encode(value);
        this.u8(DATUM_KIND.text).u32(bytes.length).raw(bytes);
      } else this.u8(DATUM_KIND.binary).u32(value.length).raw(value);
    }
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const namespaceOnWire = (namespace: string): string => (namespace === 'pg_catalog' ? '' : namespace);

/** Encodes a message exactly as pgoutput would (xid written iff the message has one). */
export function encodePgoutputMessage(message: PgoutputMessage): Uint8Array {
  const w = new ByteWriter();
  const xid = (): void => {
    if ('xid' in message && message.xid !== undefined) w.u32(message.xid);
  };
  switch (message.type) {
    case 'begin':
      w.u8(MESSAGE_TAG.begin).u64(message.finalLsn).timestamp(message.commitTimeUs).u32(message.xid);
      break;
    case 'commit':
      w.u8(MESSAGE_TAG.commit)
        .u8(message.flags)
        .u64(message.commitLsn)
        .u64(message.endLsn)
        .timestamp(message.commitTimeUs);
      break;
    case 'origin':
      w.u8(MESSAGE_TAG.origin).u64(message.originLsn).cstring(message.name);
      break;
    case 'relation':
      w.u8(MESSAGE_TAG.relation);
      xid();
      w.u32(message.relationOid)
        .cstring(namespaceOnWire(message.namespace))
        .cstring(message.name)
        .char(message.replicaIdentity)
        .i16(message.columns.length);
      for (const column of message.columns) {
        w.u8(column.flags).cstring(column.name).u32(column.typeOid).u32(column.typeModifier);
      }
      break;
    case 'type':
      w.u8(MESSAGE_TAG.type);
      xid();
      w.u32(message.typeOid).cstring(namespaceOnWire(message.namespace)).cstring(message.name);
      break;
    case 'insert':
      w.u8(MESSAGE_TAG.insert);
      xid();
      w.u32(message.relationOid).u8(TUPLE_TAG.new).tuple(message.newTuple);
      break;
    case 'update':
      w.u8(MESSAGE_TAG.update);
      xid();
      w.u32(message.relationOid);
      if (message.old)
        w.u8(message.old.kind === 'key' ? TUPLE_TAG.key : TUPLE_TAG.old).tuple(message.old.tuple);
      w.u8(TUPLE_TAG.new).tuple(message.newTuple);
      break;
    case 'delete':
      w.u8(MESSAGE_TAG.delete);
      xid();
      w.u32(message.relationOid)
        .u8(message.old.kind === 'key' ? TUPLE_TAG.key : TUPLE_TAG.old)
        .tuple(message.old.tuple);
      break;
    case 'truncate':
      w.u8(MESSAGE_TAG.truncate);
      xid();
      w.u32(message.relationOids.length).u8(message.options);
      for (const oid of message.relationOids) w.u32(oid);
      break;
    case 'message':
      w.u8(MESSAGE_TAG.message);
      xid();
      w.u8(message.flags)
        .u64(message.lsn)
        .cstring(message.prefix)
        .u32(message.content.length)
        .raw(message.content);
      break;
    case 'stream-start':
      w.u8(MESSAGE_TAG.streamStart)
        .u32(message.xid)
        .u8(message.firstSegment ? 1 : 0);
      break;
    case 'stream-stop':
      w.u8(MESSAGE_TAG.streamStop);
      break;
    case 'stream-commit':
      w.u8(MESSAGE_TAG.streamCommit)
        .u32(message.xid)
        .u8(message.flags)
        .u64(message.commitLsn)
        .u64(message.endLsn)
        .timestamp(message.commitTimeUs);
      break;
    case 'stream-abort':
      w.u8(MESSAGE_TAG.streamAbort).u32(message.xid).u32(message.subxid);
      if (message.abortLsn !== undefined) w.u64(message.abortLsn).timestamp(message.abortTimeUs ?? 0n);
      break;
  }
  return w.finish();
}
