/**
 * The bounds-checked cursor the pgoutput decoder reads one message with: big-endian integers through a DataView,
 * NUL-terminated and length-prefixed UTF-8 strings through one shared TextDecoder, TupleData. Every read checks
 * the remaining length first, so a short buffer throws `truncated` at the exact offset instead of reading garbage.
 */

import { UNCHANGED_DATUM } from '../change.ts';
import { DATUM_KIND, POSTGRES_EPOCH_OFFSET_US } from './constants.ts';
import { PgoutputDecodeError } from './errors.ts';
import type { TupleData, TupleValue } from './messages.ts';

// Fatal: invalid UTF-8 is an error, never replacement characters. ignoreBOM: a value that starts with U+FEFF
// keeps it (the default would strip it). Postgres sends text in the session's client_encoding, which every
// driver we use sets to UTF8.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const PG_CATALOG = 'pg_catalog';

/**
 * A cursor over one message. Created per message; the methods bounds-check before every read so a short
 * buffer throws `truncated` at the exact offset instead of reading garbage.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly tag: number;
  offset = 1;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.tag = bytes[0]!;
  }

  fail(code: 'truncated' | 'invalid-value' | 'trailing-bytes', message: string, at = this.offset): never {
    throw new PgoutputDecodeError(code, message, at, this.tag);
  }

  need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      this.fail('truncated', `${what} needs ${n} byte(s), ${this.bytes.length - this.offset} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  /** Int16 count: negative counts are invalid. */
  count16(what: string): number {
    this.need(2, what);
    const value = this.view.getInt16(this.offset);
    if (value < 0) this.fail('invalid-value', `${what} is negative (${value})`);
    this.offset += 2;
    return value;
  }

  /** Int32 count or length: negative values are invalid. */
  count32(what: string): number {
    this.need(4, what);
    const value = this.view.getInt32(this.offset);
    if (value < 0) this.fail('invalid-value', `${what} is negative (${value})`);
    this.offset += 4;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  i32(what: string): number {
    this.need(4, what);
    const value = this.view.getInt32(this.offset);
    this.offset += 4;
    return value;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return value;
  }

  /** A Postgres timestamp (signed µs since 2000-01-01) as µs since 1970-01-01. */
  timestamp(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return value + POSTGRES_EPOCH_OFFSET_US;
  }

  /**
   * A copy of `[start, end)` as a plain Uint8Array. Not `bytes.slice()`: on a Node Buffer (what `pg` returns for
   * bytea) `slice` is a view that shares memory, and species would make the result a Buffer.
   */
  copy(start: number, end: number): Uint8Array {
    const out = new Uint8Array(end - start);
    out.set(this.bytes.subarray(start, end));
    return out;
  }

  text(start: number, end: number): string {
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch (error) {
      throw new PgoutputDecodeError('invalid-utf8', 'string is not valid UTF-8', start, this.tag, error);
    }
  }

  /** A NUL-terminated string. */
  cstring(what: string): string {
    const start = this.offset;
    const end = this.bytes.indexOf(0, start);
    if (end < 0) this.fail('truncated', `${what} has no terminating NUL`);
    this.offset = end + 1;
    return start === end ? '' : this.text(start, end);
  }

  namespace(): string {
    const namespace = this.cstring('namespace');
    return namespace === '' ? PG_CATALOG : namespace;
  }

  tuple(): TupleData {
    const columns = this.count16('tuple column count');
    // Every column takes at least its kind byte: reject impossible counts before allocating.
    this.need(columns, 'tuple columns');
    const values = new Array<TupleValue>(columns);
    for (let i = 0; i < columns; i++) {
      const kind = this.u8('tuple value kind');
      switch (kind) {
        case DATUM_KIND.text: {
          const length = this.count32('text length');
          this.need(length, 'text value');
          const start = this.offset;
          this.offset += length;
          values[i] = this.text(start, this.offset);
          break;
        }
        case DATUM_KIND.null:
          values[i] = null;
          break;
        case DATUM_KIND.unchangedToast:
          values[i] = UNCHANGED_DATUM;
          break;
        case DATUM_KIND.binary: {
          const length = this.count32('binary length');
          this.need(length, 'binary value');
          values[i] = this.copy(this.offset, this.offset + length);
          this.offset += length;
          break;
        }
        default:
          this.fail('invalid-value', `unknown tuple value kind 0x${kind.toString(16)}`, this.offset - 1);
      }
    }
    return values;
  }

  done(): void {
    if (this.offset !== this.bytes.length) {
      this.fail('trailing-bytes', `${this.bytes.length - this.offset} byte(s) after the message`);
    }
  }
}
