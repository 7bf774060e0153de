/**
 * Converts between Postgres text values (what pgoutput, a text-format query or COPY give and take) and wire
 * `Value`s, per column {@link ValueType}. `decodeValueText(t, encodeTextValue(t, x))` gives back `x` for every
 * text Postgres prints for the type (its canonical output), and the value Postgres would store for any other
 * text it accepts.
 */

import { create } from '@bufbuild/protobuf';
import { MAX_VECTOR_DIMENSIONS } from '../constants.ts';
import { ErrorCode } from '../gen/vibestack/sync/v1/error_pb.ts';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import type { ArrayValue, Value } from '../gen/vibestack/sync/v1/value_pb.ts';
import { ArrayValueSchema, ValueSchema, VectorValueSchema } from '../gen/vibestack/sync/v1/value_pb.ts';
import { SyncError } from '../sync-error.ts';
import { formatPgArray, parsePgArray } from './pg-array.ts';
import { formatPgBytea, formatPgUuid, parsePgBytea, parsePgUuid } from './pg-bytes.ts';
import {
  formatPgDate,
  formatPgTimestamp,
  isPgDate,
  isPgTimestamp,
  parsePgDate,
  parsePgTimestamp,
} from './pg-datetime.ts';
import { formatPgFloat4, formatPgFloat8, isPgFloat4, parsePgFloat } from './pg-float.ts';
import { formatPgVector, parsePgVector } from './pg-vector.ts';
import type { ScalarValueType, ValueType } from './value-type.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_TEXT = /^\s*[+-]?\d+\s*$/;

/** The SQL NULL value. */
export const NULL_VALUE: Value = Object.freeze(create(ValueSchema, { kind: { case: 'null', value: true } }));
/** The "unchanged column" marker (only in `Update.new_row`). */
export const UNCHANGED_VALUE: Value = Object.freeze(
  create(ValueSchema, { kind: { case: 'unchanged', value: true } }),
);

/** Returned by {@link decodeValueText} for the unchanged-column marker. */
export const UNCHANGED: unique symbol = Symbol('unchanged column');

function invalid(type: ValueType, text: string): SyncError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return new SyncError(
    ErrorCode.INVALID_VALUE,
    `${JSON.stringify(shown)} is not a valid ${ValueEncoding[type.encoding]} value`,
  );
}

/**
 * A Value message. Built as the plain object `create(ValueSchema, { kind })` returns (protobuf-es v2 messages are
 * plain objects): this is on the hot path of every row, and `create` costs a reflection walk per call.
 */
function value(kind: Value['kind']): Value {
  return { $typeName: ValueSchema.typeName, kind } as Value;
}

function encodeScalar(type: ScalarValueType, text: string): Value {
  switch (type.encoding) {
    case ValueEncoding.TEXT:
      return value({ case: 'textValue', value: text });
    case ValueEncoding.BOOL: {
      const t = text.trim().toLowerCase();
      if (['t', 'true', 'y', 'yes', 'on', '1'].includes(t)) return value({ case: 'boolValue', value: true });
      if (['f', 'false', 'n', 'no', 'off', '0'].includes(t))
        return value({ case: 'boolValue', value: false });
      throw invalid(type, text);
    }
    case ValueEncoding.INT: {
      if (!INT_TEXT.test(text)) throw invalid(type, text);
      const n = BigInt(text.trim());
      if (n < INT64_MIN || n > INT64_MAX) throw invalid(type, text);
      return value({ case: 'intValue', value: n });
    }
    case ValueEncoding.FLOAT: {
      const f = parsePgFloat(text, type.single);
      if (f === undefined) throw invalid(type, text);
      return value({ case: 'floatValue', value: f });
    }
    case ValueEncoding.BYTES: {
      const b = parsePgBytea(text);
      if (b === undefined) throw invalid(type, text);
      return value({ case: 'bytesValue', value: b });
    }
    case ValueEncoding.UUID: {
      const b = parsePgUuid(text);
      if (b === undefined) throw invalid(type, text);
      return value({ case: 'uuidValue', value: b });
    }
    case ValueEncoding.TIMESTAMP: {
      const us = parsePgTimestamp(text, type.withTimeZone);
      if (us === undefined) throw invalid(type, text);
      return value({ case: 'timestampValue', value: us });
    }
    case ValueEncoding.DATE: {
      const d = parsePgDate(text);
      if (d === undefined) throw invalid(type, text);
      return value({ case: 'dateValue', value: d });
    }
    case ValueEncoding.VECTOR: {
      const v = parsePgVector(text);
      if (v === undefined || v.length > MAX_VECTOR_DIMENSIONS) throw invalid(type, text);
      return value({ case: 'vectorValue', value: create(VectorValueSchema, { values: v }) });
    }
  }
}

/**
 * Encodes a Postgres text value (or SQL NULL as `null`) for the wire.
 * @throws SyncError INVALID_VALUE when the text is not a value of the type.
 */
export function encodeTextValue(type: ValueType, text: string | null): Value {
  if (text === null) return NULL_VALUE;
  if (type.encoding !== ValueEncoding.ARRAY) return encodeScalar(type, text);
  const parsed = parsePgArray(text);
  if (parsed === undefined) throw invalid(type, text);
  return value({
    case: 'arrayValue',
    value: create(ArrayValueSchema, {
      elements: parsed.elements.map((el) => (el === null ? NULL_VALUE : encodeScalar(type.element, el))),
      // One dimension with lower bound 1 is the default and is left out.
      dims: parsed.dims.length === 1 && parsed.lowerBounds[0] === 1 ? [] : parsed.dims,
      lowerBounds: parsed.lowerBounds.every((lb) => lb === 1) ? [] : parsed.lowerBounds,
    }),
  });
}

function wrongCase(type: ValueType, v: Value): SyncError {
  return new SyncError(
    ErrorCode.INVALID_VALUE,
    `a ${ValueEncoding[type.encoding]} column got a value of case ${v.kind.case ?? 'unset'}`,
  );
}

/** True when `k` is a value of the scalar `type` that Postgres can store: the one definition of validity. */
function isScalarOf(type: ScalarValueType, k: Value['kind']): boolean {
  switch (type.encoding) {
    case ValueEncoding.TEXT:
      return k.case === 'textValue';
    case ValueEncoding.BOOL:
      return k.case === 'boolValue';
    case ValueEncoding.INT:
      return k.case === 'intValue';
    case ValueEncoding.FLOAT:
      return k.case === 'floatValue' && (!type.single || isPgFloat4(k.value));
    case ValueEncoding.BYTES:
      return k.case === 'bytesValue';
    case ValueEncoding.UUID:
      return k.case === 'uuidValue' && k.value.length === 16;
    case ValueEncoding.TIMESTAMP:
      return k.case === 'timestampValue' && isPgTimestamp(k.value);
    case ValueEncoding.DATE:
      return k.case === 'dateValue' && isPgDate(k.value);
    case ValueEncoding.VECTOR:
      return (
        k.case === 'vectorValue' &&
        k.value.values.length <= MAX_VECTOR_DIMENSIONS &&
        k.value.values.every(Number.isFinite)
      );
  }
}

function decodeScalar(type: ScalarValueType, v: Value): string {
  const k = v.kind;
  if (!isScalarOf(type, k)) throw wrongCase(type, v);
  switch (type.encoding) {
    case ValueEncoding.TEXT:
      return k.value as string;
    case ValueEncoding.BOOL:
      return k.value ? 't' : 'f';
    case ValueEncoding.INT:
      return (k.value as bigint).toString();
    case ValueEncoding.FLOAT:
      return type.single ? formatPgFloat4(k.value as number) : formatPgFloat8(k.value as number);
    case ValueEncoding.BYTES:
      return formatPgBytea(k.value as Uint8Array);
    case ValueEncoding.UUID:
      return formatPgUuid(k.value as Uint8Array);
    case ValueEncoding.TIMESTAMP:
      return formatPgTimestamp(k.value as bigint, type.withTimeZone);
    case ValueEncoding.DATE:
      return formatPgDate(k.value as number);
    case ValueEncoding.VECTOR:
      return formatPgVector((k.value as { values: number[] }).values);
  }
}

/**
 * The shape of an array value (one length per dimension; none for an empty array).
 * @throws SyncError INVALID_VALUE when the dimensions or lower bounds do not match the elements.
 */
function arrayShape(array: ArrayValue): number[] {
  const { elements, dims, lowerBounds } = array;
  const shape = dims.length === 0 ? (elements.length === 0 ? [] : [elements.length]) : dims;
  const count = shape.reduce((a, b) => a * b, shape.length === 0 ? 0 : 1);
  if (count !== elements.length || (lowerBounds.length !== 0 && lowerBounds.length !== shape.length)) {
    throw new SyncError(ErrorCode.INVALID_VALUE, 'array dimensions do not match its elements');
  }
  return shape;
}

/**
 * Checks a wire value against its column type exactly as {@link decodeValueText} does, without building its text:
 * it throws for the same values with the same code, so a checked value can later be converted (to text, or to
 * Postgres binary form for the bulk path) without failing.
 * @throws SyncError INVALID_VALUE when the value's case does not match the type, or it is out of range.
 */
export function checkValue(type: ValueType, v: Value): void {
  const k = v.kind;
  if (k.case === 'null' || k.case === 'unchanged') return;
  if (type.encoding !== ValueEncoding.ARRAY) {
    if (!isScalarOf(type, k)) throw wrongCase(type, v);
    return;
  }
  if (k.case !== 'arrayValue') throw wrongCase(type, v);
  arrayShape(k.value);
  for (const el of k.value.elements) {
    if (el.kind.case !== 'null' && !isScalarOf(type.element, el.kind)) throw wrongCase(type.element, el);
  }
}

/**
 * Decodes a wire value into the Postgres text form of its type (`null` for SQL NULL, {@link UNCHANGED}
 * for the unchanged-column marker), ready for a text-format query parameter or COPY.
 * @throws SyncError INVALID_VALUE when the value's case does not match the type, or it is out of range.
 */
export function decodeValueText(type: ValueType, v: Value): string | null | typeof UNCHANGED {
  const k = v.kind;
  if (k.case === 'null') return null;
  if (k.case === 'unchanged') return UNCHANGED;
  if (type.encoding !== ValueEncoding.ARRAY) return decodeScalar(type, v);
  if (k.case !== 'arrayValue') throw wrongCase(type, v);
  const { elements, lowerBounds } = k.value;
  const shape = arrayShape(k.value);
  return formatPgArray({
    elements: elements.map((el) => {
      if (el.kind.case === 'null') return null;
      return decodeScalar(type.element, el);
    }),
    dims: shape,
    lowerBounds: lowerBounds.length === 0 ? shape.map(() => 1) : lowerBounds,
  });
}
