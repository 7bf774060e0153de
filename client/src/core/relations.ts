/**
 * The relations described on one connection (docs/protocol.md §5) and the conversion of wire rows into Postgres
 * text rows (§7), with the row rules of §7.1 and §8.1: lengths, key rows, where `unchanged` may appear, and the
 * integer ranges of `smallint`/`integer`/`oid` columns.
 */

import {
  checkValue,
  decodeValueText,
  ErrorCode,
  PgOid,
  type Relation,
  type Row,
  SyncError,
  UNCHANGED,
  type Value,
  ValueEncoding,
  type ValueType,
  valueTypeOfColumn,
} from '@vibestack/proto';
import type { TextRow, UpdateRow } from './client-types.ts';

/** A described relation with the wire type of each column. */
export interface KnownRelation {
  readonly relation: Relation;
  readonly types: readonly ValueType[];
  /**
   * Integer bounds per column, for INT columns narrower than 64 bits and arrays of them (§7.2: the range comes
   * from `base_type_oid`, inside arrays from `element_type_oid`).
   */
  readonly intRanges: readonly (readonly [bigint, bigint] | undefined)[];
  readonly isKey: readonly boolean[];
}

const INT_RANGES: ReadonlyMap<number, readonly [bigint, bigint]> = new Map([
  [PgOid.int2, [-32_768n, 32_767n] as const],
  [PgOid.int4, [-2_147_483_648n, 2_147_483_647n] as const],
  [PgOid.oid, [0n, 4_294_967_295n] as const],
]);

const malformed = (message: string) => new SyncError(ErrorCode.MALFORMED_FRAME, message);
const invalid = (message: string) => new SyncError(ErrorCode.INVALID_VALUE, message);

/** Checks a Relation descriptor (§5) and derives the column wire types. @throws SyncError MALFORMED_FRAME. */
export function describeRelation(relation: Relation): KnownRelation {
  const { columns, primaryKey } = relation;
  if (relation.relationId < 1) throw malformed('relation_id 0');
  if (columns.length === 0) throw malformed(`relation ${relation.relationId} has no columns`);
  if (primaryKey.length === 0) throw malformed(`relation ${relation.relationId} has no primary key`);
  if (new Set(primaryKey).size !== primaryKey.length || primaryKey.some((i) => i >= columns.length)) {
    throw malformed(`relation ${relation.relationId} has a bad primary key`);
  }
  const types = columns.map((c) => {
    if (c.name === '') throw malformed(`relation ${relation.relationId} has a column without a name`);
    if (!(c.encoding in ValueEncoding) || c.encoding === ValueEncoding.UNSPECIFIED) {
      throw malformed(`column ${c.name} has encoding ${c.encoding}`);
    }
    try {
      return valueTypeOfColumn(c);
    } catch (cause) {
      throw new SyncError(ErrorCode.MALFORMED_FRAME, `column ${c.name}: bad element encoding`, { cause });
    }
  });
  const intRanges = columns.map((c) =>
    c.encoding === ValueEncoding.INT
      ? INT_RANGES.get(c.baseTypeOid)
      : c.encoding === ValueEncoding.ARRAY && c.elementEncoding === ValueEncoding.INT
        ? INT_RANGES.get(c.elementTypeOid)
        : undefined,
  );
  const isKey = columns.map((_, i) => primaryKey.includes(i));
  return { relation, types, intRanges, isKey };
}

function checkRange(known: KnownRelation, column: number, value: Value): void {
  const range = known.intRanges[column];
  if (range === undefined) return;
  const outOfRange = (v: Value) =>
    v.kind.case === 'intValue' && (v.kind.value < range[0] || v.kind.value > range[1])
      ? v.kind.value
      : undefined;
  const bad =
    value.kind.case === 'arrayValue'
      ? value.kind.value.elements.map(outOfRange).find((n) => n !== undefined)
      : outOfRange(value);
  if (bad !== undefined) {
    throw invalid(`${bad} is out of range for column ${known.relation.columns[column]!.name}`);
  }
}

function text(known: KnownRelation, column: number, row: Row): string | null | typeof UNCHANGED {
  checkRange(known, column, row.values[column]!);
  return decodeValueText(known.types[column]!, row.values[column]!);
}

function checkLength(known: KnownRelation, row: Row | undefined, length: number, what: string): Row {
  if (row === undefined) throw malformed(`${what} missing`);
  if (row.values.length !== length) {
    throw malformed(`${what} of relation ${known.relation.relationId} has ${row.values.length} values`);
  }
  return row;
}

/** A full row (Insert, snapshot rows): no `unchanged`, no NULL key. */
export function fullRow(known: KnownRelation, row: Row | undefined): TextRow {
  const r = checkLength(known, row, known.types.length, 'row');
  const out: (string | null)[] = new Array(r.values.length);
  for (let i = 0; i < out.length; i++) {
    const t = text(known, i, r);
    if (t === UNCHANGED) throw invalid('unchanged outside Update.new_row');
    if (t === null && known.isKey[i]) throw invalid('NULL in a primary key column');
    out[i] = t;
  }
  return out;
}

/**
 * Checks a full row (snapshot rows) exactly as {@link fullRow} does, without converting it: the row can then go
 * to the bulk path as it is, or through {@link textOfRow}, and neither can fail.
 */
export function checkFullRow(known: KnownRelation, row: Row | undefined): Row {
  const r = checkLength(known, row, known.types.length, 'row');
  for (let i = 0; i < r.values.length; i++) {
    checkRange(known, i, r.values[i]!);
    const k = r.values[i]!.kind.case;
    if (k === 'unchanged') throw invalid('unchanged outside Update.new_row');
    if (k === 'null' && known.isKey[i]) throw invalid('NULL in a primary key column');
    checkValue(known.types[i]!, r.values[i]!);
  }
  return r;
}

/** The text values of a row checked by {@link checkFullRow}, given its relation's column wire types. */
export function textOfRow(types: readonly ValueType[], row: Row): TextRow {
  const out: (string | null)[] = new Array(row.values.length);
  for (let i = 0; i < out.length; i++) out[i] = decodeValueText(types[i]!, row.values[i]!) as string | null;
  return out;
}

/** `Update.new_row`: `unchanged` allowed in non-key columns only. */
export function updateRow(known: KnownRelation, row: Row | undefined): UpdateRow {
  const r = checkLength(known, row, known.types.length, 'new_row');
  const out: (string | null | typeof UNCHANGED)[] = new Array(r.values.length);
  for (let i = 0; i < out.length; i++) {
    const t = text(known, i, r);
    if ((t === UNCHANGED || t === null) && known.isKey[i]) throw invalid('NULL or unchanged key column');
    out[i] = t;
  }
  return out;
}

/** A key row (`old_key`): one value per key column, never NULL or `unchanged`. */
export function keyRow(known: KnownRelation, row: Row | undefined): TextRow {
  const pk = known.relation.primaryKey;
  const r = checkLength(known, row, pk.length, 'key row');
  return pk.map((column, i) => {
    const value = r.values[i]!;
    checkRange(known, column, value);
    const t = decodeValueText(known.types[column]!, value);
    if (t === null || t === UNCHANGED) throw invalid('NULL or unchanged in a key row');
    return t;
  });
}

/** The relations of one connection, by relation id (§5 rule 2: never persisted). */
export class RelationRegistry {
  readonly #byId = new Map<number, KnownRelation>();

  /** Records (or replaces, §5 rule 3) a descriptor. */
  record(relation: Relation): void {
    this.#byId.set(relation.relationId, describeRelation(relation));
  }

  /** @throws SyncError UNKNOWN_RELATION for an id not described on this connection. */
  get(relationId: number): KnownRelation {
    const known = this.#byId.get(relationId);
    if (known === undefined) {
      throw new SyncError(ErrorCode.UNKNOWN_RELATION, `relation ${relationId} was never described`);
    }
    return known;
  }
}
