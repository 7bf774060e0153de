/**
 * Postgres values (as their text output) to JSON text, losslessly (docs/cli.md, "query output"). Only values
 * with an exact JSON form become JSON numbers, booleans, arrays or documents; everything else — int8, numeric,
 * money, dates and times, bytea, uuid, ranges, enums, composites — is a JSON string holding the Postgres text,
 * so no digit is lost on the way through a float64 JSON parser. Pure: the type catalog is passed in.
 */

import { PgOid, parsePgArray } from '@vibestack/proto';

/** How the values of one type become JSON. */
export type ValueMapping =
  /** `t` / `f` → `true` / `false`. */
  | { readonly kind: 'boolean' }
  /** int2, int4, oid: the digits as a JSON number (always exact in a float64). */
  | { readonly kind: 'integer' }
  /** float4, float8: the digits as a JSON number; `NaN`, `Infinity`, `-Infinity` as strings. */
  | { readonly kind: 'float' }
  /** json, jsonb: the document itself, embedded verbatim (insignificant whitespace removed). */
  | { readonly kind: 'json' }
  /** A one-based array: a (nested) JSON array of its elements; other arrays stay strings. */
  | { readonly kind: 'array'; readonly element: ValueMapping }
  /** Everything else: the Postgres text as a JSON string. */
  | { readonly kind: 'string' };

/** The columns of `pg_type` the mapping needs (see {@link PG_TYPE_QUERY}). */
export interface PgTypeRow {
  readonly oid: number;
  /** `typtype`: `b` base, `d` domain, `e` enum, `c` composite, `r` range, … */
  readonly typtype: string;
  /** `typcategory`: `A` for arrays. */
  readonly typcategory: string;
  /** `typelem`: the element type of an array, else 0. */
  readonly typelem: number;
  /** `typdelim`: the element delimiter in array text of this type (`,` for all but a few geometric types). */
  readonly typdelim: string;
  /** `typbasetype`: the type a domain is over, else 0. */
  readonly typbasetype: number;
}

/** Reads every type of the database (built-in and user-defined) for {@link createTypeMapper}. */
export const PG_TYPE_QUERY = 'SELECT oid, typtype, typcategory, typelem, typdelim, typbasetype FROM pg_type';

const STRING: ValueMapping = { kind: 'string' };
const BY_OID: ReadonlyMap<number, ValueMapping> = new Map<number, ValueMapping>([
  [PgOid.bool, { kind: 'boolean' }],
  [PgOid.int2, { kind: 'integer' }],
  [PgOid.int4, { kind: 'integer' }],
  [PgOid.oid, { kind: 'integer' }],
  [PgOid.float4, { kind: 'float' }],
  [PgOid.float8, { kind: 'float' }],
  [PgOid.json, { kind: 'json' }],
  [PgOid.jsonb, { kind: 'json' }],
]);
/** Domains over domains over arrays of domains… are followed this deep, then the value is a string. */
const MAX_TYPE_DEPTH = 16;

/**
 * Returns the mapping of each type OID: built-in scalars by OID, domains as their base type, arrays by their
 * element type; unknown OIDs (e.g. a type created after the catalog was read) map to strings.
 */
export function createTypeMapper(types: readonly PgTypeRow[]): (oid: number) => ValueMapping {
  const byOid = new Map(types.map((t) => [t.oid, t]));
  const cache = new Map<number, ValueMapping>();
  const resolve = (oid: number, depth: number): ValueMapping => {
    const known = BY_OID.get(oid);
    if (known !== undefined) return known;
    const t = byOid.get(oid);
    if (t === undefined || depth >= MAX_TYPE_DEPTH) return STRING;
    if (t.typtype === 'd' && t.typbasetype !== 0) return resolve(t.typbasetype, depth + 1);
    if (t.typcategory === 'A' && t.typelem !== 0) {
      // Array text of a type with another delimiter (box uses `;`) is left as it is.
      if (byOid.get(t.typelem)?.typdelim !== ',') return STRING;
      return { kind: 'array', element: resolve(t.typelem, depth + 1) };
    }
    return STRING;
  };
  return (oid) => {
    let mapping = cache.get(oid);
    if (mapping === undefined) {
      mapping = resolve(oid, 0);
      cache.set(oid, mapping);
    }
    return mapping;
  };
}

/** The JSON number grammar (RFC 8259 §6); Postgres prints int and float values in it, except the specials. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Removes the whitespace outside strings from valid JSON text (`json` keeps its input's layout). */
export function compactJson(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r') {
      out += ch;
    }
  }
  return out;
}

/** A one-based array literal as a nested JSON array, or `undefined` when it has other bounds or is malformed. */
function arrayToJson(text: string, element: ValueMapping): string | undefined {
  const array = parsePgArray(text);
  if (array === undefined || array.lowerBounds.some((b) => b !== 1)) return undefined;
  let next = 0;
  const level = (depth: number): string => {
    const items: string[] = [];
    for (let i = 0; i < array.dims[depth]!; i++) {
      items.push(
        depth + 1 < array.dims.length
          ? level(depth + 1)
          : valueToJson(array.elements[next++] ?? null, element),
      );
    }
    return `[${items.join(',')}]`;
  };
  return array.dims.length === 0 ? '[]' : level(0);
}

/**
 * One value as JSON text.
 *
 * @param text the value in Postgres text output form; `null` for SQL NULL.
 * @example
 * valueToJson('9007199254740993', { kind: 'string' }); // → '"9007199254740993"' (an int8)
 * valueToJson('{1,NULL}', { kind: 'array', element: { kind: 'integer' } }); // → '[1,null]'
 */
export function valueToJson(text: string | null, mapping: ValueMapping): string {
  if (text === null) return 'null';
  switch (mapping.kind) {
    case 'boolean':
      if (text === 't' || text === 'f') return text === 't' ? 'true' : 'false';
      break;
    case 'integer':
    case 'float':
      if (JSON_NUMBER.test(text)) return text;
      break;
    case 'json':
      return compactJson(text);
    case 'array':
      return arrayToJson(text, mapping.element) ?? JSON.stringify(text);
    case 'string':
      break;
  }
  return JSON.stringify(text);
}

/** A result column: its name and how its values map. */
export interface JsonColumn {
  readonly name: string;
  readonly mapping: ValueMapping;
}

/**
 * Rows as a JSON array of objects, one row per line (`[]` when there are none). Keys are the column names in
 * result order; a repeated column name is repeated as a key (most JSON parsers keep the last).
 */
export function rowsToJson(
  columns: readonly JsonColumn[],
  rows: readonly (readonly (string | null)[])[],
): string {
  if (rows.length === 0) return '[]';
  const keys = columns.map((c) => `${JSON.stringify(c.name)}:`);
  const lines = rows.map(
    (row) => `{${columns.map((c, i) => keys[i] + valueToJson(row[i] ?? null, c.mapping)).join(',')}}`,
  );
  return `[\n${lines.join(',\n')}\n]`;
}
