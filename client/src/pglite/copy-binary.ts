/**
 * Snapshot rows in Postgres's binary COPY format, written straight from wire values: the fast bulk path into
 * staging tables (`COPY … FROM '/dev/blob' WITH (FORMAT binary)`). Most wire encodings (docs/protocol.md §7.2)
 * already are the value Postgres stores — an int64 of microseconds for a timestamp, 16 bytes for a uuid — so
 * neither side formats or parses text. A table takes this path only when every column's local type is exactly
 * its described base type and that type (or, for an array, its element type) has a binary form here; anything
 * else (enums, vectors, intervals, arrays of those, a column stored as `text` locally) goes through COPY text, as
 * do rows with a numeric written in a form Postgres does not print (`1e5`). Rows must have been checked by
 * `checkFullRow`.
 */

import { type Column, PgOid, type Row, type Value, ValueEncoding } from '@vibestack/proto';

/** The binary layout of one column. */
const Field = {
  Bool: 0,
  Int2: 1,
  Int4: 2,
  Int8: 3,
  Oid: 4,
  Float4: 5,
  Float8: 6,
  /** timestamp, timestamptz: int64 microseconds since 2000-01-01 (the wire value). */
  Timestamp: 7,
  /** date: int32 days since 2000-01-01 (the wire value). */
  Date: 8,
  /** uuid, bytea: the bytes. */
  Bytes: 9,
  /** text, varchar, bpchar, json: the UTF-8 text. */
  Text: 10,
  /** jsonb: version byte 1, then the UTF-8 text. */
  Jsonb: 11,
  /** numeric: base-10000 digits (`numeric_recv`), from the canonical text; other text goes to COPY text. */
  Numeric: 12,
} as const;
type Field = (typeof Field)[keyof typeof Field];

/** The (wire encoding, local base type) pairs with a binary form, and their layout. */
const FIELDS: readonly (readonly [ValueEncoding, number, Field])[] = [
  [ValueEncoding.BOOL, PgOid.bool, Field.Bool],
  [ValueEncoding.INT, PgOid.int2, Field.Int2],
  [ValueEncoding.INT, PgOid.int4, Field.Int4],
  [ValueEncoding.INT, PgOid.int8, Field.Int8],
  [ValueEncoding.INT, PgOid.oid, Field.Oid],
  [ValueEncoding.FLOAT, PgOid.float4, Field.Float4],
  [ValueEncoding.FLOAT, PgOid.float8, Field.Float8],
  [ValueEncoding.TIMESTAMP, PgOid.timestamp, Field.Timestamp],
  [ValueEncoding.TIMESTAMP, PgOid.timestamptz, Field.Timestamp],
  [ValueEncoding.DATE, PgOid.date, Field.Date],
  [ValueEncoding.UUID, PgOid.uuid, Field.Bytes],
  [ValueEncoding.BYTES, PgOid.bytea, Field.Bytes],
  [ValueEncoding.TEXT, PgOid.text, Field.Text],
  [ValueEncoding.TEXT, PgOid.varchar, Field.Text],
  [ValueEncoding.TEXT, PgOid.bpchar, Field.Text],
  [ValueEncoding.TEXT, PgOid.json, Field.Text],
  [ValueEncoding.TEXT, PgOid.jsonb, Field.Jsonb],
  [ValueEncoding.TEXT, PgOid.numeric, Field.Numeric],
];
const fieldOf = (encoding: ValueEncoding, oid: number): Field | undefined =>
  FIELDS.find(([e, o]) => e === encoding && o === oid)?.[2];

/** How to write the rows of one table in binary, column by column. */
export interface BinaryCopyPlan {
  /** The layout of each column, or of each element for an array column. */
  readonly fields: readonly Field[];
  /** For an array column: its element type's OID (written in the array header); 0 otherwise. */
  readonly elementOids: readonly number[];
}

/**
 * The binary plan of a table, or `undefined` when some column has no binary form here.
 * @param columns the Relation's columns (wire encoding and base type OID);
 * @param localTypeOids the local column types (`pg_attribute.atttypid`), in the same order.
 */
export function binaryCopyPlan(
  columns: readonly Pick<Column, 'encoding' | 'baseTypeOid' | 'elementEncoding' | 'elementTypeOid'>[],
  localTypeOids: readonly number[],
): BinaryCopyPlan | undefined {
  if (columns.length !== localTypeOids.length) return undefined;
  const fields: Field[] = [];
  const elementOids: number[] = [];
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    // Built-in types have fixed OIDs, so the local array type with the described OID has the described element.
    if (localTypeOids[i] !== c.baseTypeOid) return undefined;
    const array = c.encoding === ValueEncoding.ARRAY;
    const field = array ? fieldOf(c.elementEncoding, c.elementTypeOid) : fieldOf(c.encoding, c.baseTypeOid);
    if (field === undefined) return undefined;
    fields.push(field);
    elementOids.push(array ? c.elementTypeOid : 0);
  }
  return { fields, elementOids };
}

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // "PGCOPY\n\377\r\n\0"
const HEADER_BYTES = SIGNATURE.length + 8; // flags, header extension length: both 0
const utf8 = new TextEncoder();

/** A growable output buffer. */
class Out {
  buf: Uint8Array<ArrayBuffer>;
  view: DataView;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(more: number): void {
    const need = this.pos + more;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A length-prefixed UTF-8 text, after `prefix` (the jsonb version byte) when given. */
  text(s: string, prefix?: number): void {
    this.ensure(5 + s.length * 3);
    const at = this.pos;
    let start = at + 4;
    if (prefix !== undefined) this.buf[start++] = prefix;
    const { written } = utf8.encodeInto(s, this.buf.subarray(start));
    this.view.setInt32(at, start - at - 4 + written);
    this.pos = start + written;
  }

  bytes(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.view.setInt32(this.pos, b.length);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }
}

/**
 * Thrown while writing a value that has no binary form here after all (a numeric text in a form Postgres accepts
 * but does not print, like `1e5`): the caller writes the rows as COPY text instead.
 */
export class NoBinaryForm extends Error {}
const NO_BINARY_FORM = new NoBinaryForm('a value without a binary form');

const NUMERIC_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;
/** `numeric_recv` refuses more base-10000 digits than this (NUMERIC_MAX_PRECISION). */
const NUMERIC_MAX_DIGITS = 1000;
/** The largest display scale a numeric can have (NUMERIC_DSCALE_MAX). */
const NUMERIC_MAX_DSCALE = 0x3fff;

/** A numeric in `numeric_recv`'s form, from the text Postgres prints for one. */
function writeNumeric(out: Out, text: string): void {
  let sign: number;
  let weight = 0;
  let dscale = 0;
  let digits: number[] = [];
  if (text === 'NaN') sign = NUMERIC_NAN;
  else if (text === 'Infinity') sign = NUMERIC_PINF;
  else if (text === '-Infinity') sign = NUMERIC_NINF;
  else {
    const m = NUMERIC_TEXT.exec(text);
    if (m === null) throw NO_BINARY_FORM;
    const whole = m[2]!;
    const fraction = m[3] ?? '';
    dscale = fraction.length;
    if (dscale > NUMERIC_MAX_DSCALE) throw NO_BINARY_FORM;
    // Groups of four decimal digits around the point: the whole part padded on the left, the fraction on the right.
    const left = whole.padStart(Math.ceil(whole.length / 4) * 4, '0');
    const right = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
    const all = left + right;
    for (let i = 0; i < all.length; i += 4) digits.push(Number(all.slice(i, i + 4)));
    weight = left.length / 4 - 1;
    let first = 0;
    while (first < digits.length && digits[first] === 0) first++;
    let end = digits.length;
    while (end > first && digits[end - 1] === 0) end--;
    weight -= first;
    digits = digits.slice(first, end);
    if (digits.length > NUMERIC_MAX_DIGITS) throw NO_BINARY_FORM;
    sign = m[1] === '-' && digits.length > 0 ? NUMERIC_NEG : NUMERIC_POS;
    if (digits.length === 0) weight = 0;
  }
  out.ensure(12 + 2 * digits.length);
  const v = out.view;
  const p = out.pos;
  v.setInt32(p, 8 + 2 * digits.length);
  v.setInt16(p + 4, digits.length);
  v.setInt16(p + 6, weight);
  v.setUint16(p + 8, sign);
  v.setInt16(p + 10, dscale);
  for (let i = 0; i < digits.length; i++) v.setInt16(p + 12 + 2 * i, digits[i]!);
  out.pos = p + 12 + 2 * digits.length;
}

function writeField(out: Out, field: Field, kind: Value['kind']): void {
  if (kind.case === 'null') {
    out.ensure(4);
    out.view.setInt32(out.pos, -1);
    out.pos += 4;
    return;
  }
  switch (field) {
    case Field.Text:
    case Field.Jsonb:
      out.text(kind.value as string, field === Field.Jsonb ? 1 : undefined);
      return;
    case Field.Bytes:
      out.bytes(kind.value as Uint8Array);
      return;
    case Field.Numeric:
      writeNumeric(out, kind.value as string);
      return;
  }
  out.ensure(12);
  // After `ensure`: it may have replaced the buffer and its view.
  const v = out.view;
  const p = out.pos;
  switch (field) {
    case Field.Bool:
      v.setInt32(p, 1);
      out.buf[p + 4] = kind.value ? 1 : 0;
      out.pos += 5;
      return;
    case Field.Int2:
      v.setInt32(p, 2);
      v.setInt16(p + 4, Number(kind.value as bigint));
      out.pos += 6;
      return;
    case Field.Int4:
      v.setInt32(p, 4);
      v.setInt32(p + 4, Number(kind.value as bigint));
      out.pos += 8;
      return;
    case Field.Oid:
      v.setInt32(p, 4);
      v.setUint32(p + 4, Number(kind.value as bigint));
      out.pos += 8;
      return;
    case Field.Int8:
    case Field.Timestamp:
      v.setInt32(p, 8);
      v.setBigInt64(p + 4, kind.value as bigint);
      out.pos += 12;
      return;
    case Field.Date:
      v.setInt32(p, 4);
      v.setInt32(p + 4, kind.value as number);
      out.pos += 8;
      return;
    case Field.Float4:
      v.setInt32(p, 4);
      v.setFloat32(p + 4, kind.value as number);
      out.pos += 8;
      return;
    case Field.Float8:
      v.setInt32(p, 8);
      v.setFloat64(p + 4, kind.value as number);
      out.pos += 12;
      return;
  }
}

/**
 * An array value (`array_recv`'s format): dimensions, a has-NULLs flag, the element type, each dimension's length
 * and lower bound, then the elements as fields. An array without elements has no dimensions.
 */
function writeArray(out: Out, element: Field, elementOid: number, kind: Value['kind']): void {
  if (kind.case !== 'arrayValue') {
    writeField(out, element, kind); // NULL (checked rows have no other case here)
    return;
  }
  const { elements, dims, lowerBounds } = kind.value;
  const shape = elements.length === 0 ? [] : dims.length === 0 ? [elements.length] : dims;
  out.ensure(16 + 8 * shape.length);
  const v = out.view;
  const start = out.pos;
  v.setInt32(start + 4, shape.length);
  v.setInt32(start + 8, elements.some((e) => e.kind.case === 'null') ? 1 : 0);
  v.setUint32(start + 12, elementOid);
  let p = start + 16;
  for (let d = 0; d < shape.length; d++) {
    v.setInt32(p, shape[d]!);
    v.setInt32(p + 4, lowerBounds[d] ?? 1);
    p += 8;
  }
  out.pos = p;
  for (const e of elements) writeField(out, element, e.kind);
  out.view.setInt32(start, out.pos - start - 4);
}

/**
 * The binary COPY data (header, one tuple per row, trailer) of `rows`, laid out by `plan`.
 * @throws NoBinaryForm when some value has no binary form after all: write these rows as COPY text.
 */
export function copyBinary(
  plan: BinaryCopyPlan,
  rows: Iterable<Row>,
  sizeHint = 1 << 16,
): Uint8Array<ArrayBuffer> {
  const { fields, elementOids } = plan;
  const out = new Out(Math.max(sizeHint, 64));
  out.buf.set(SIGNATURE);
  out.pos = HEADER_BYTES; // flags and extension length are zero, as the buffer is
  for (const row of rows) {
    out.ensure(2);
    out.view.setInt16(out.pos, fields.length);
    out.pos += 2;
    const values = row.values;
    for (let i = 0; i < fields.length; i++) {
      const elementOid = elementOids[i]!;
      if (elementOid === 0) writeField(out, fields[i]!, values[i]!.kind);
      else writeArray(out, fields[i]!, elementOid, values[i]!.kind);
    }
  }
  out.ensure(2);
  out.view.setInt16(out.pos, -1);
  out.pos += 2;
  return out.buf.subarray(0, out.pos);
}
