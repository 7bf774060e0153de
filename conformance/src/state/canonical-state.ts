/**
 * The canonical form of a state dump (proto `State`, conformance/README.md "The state dump"): tables by schema and
 * name, columns in the table's Relation order, rows by primary key. Adapters may dump in any order; the runner and
 * the recorder bring every state into this form, so that equal states are equal messages.
 */

import { create } from '@bufbuild/protobuf';
import { ValueEncoding } from '@vibestack/proto';
import {
  type Cell,
  CellSchema,
  type FixtureTable,
  type RowState,
  RowStateSchema,
  type State,
  StateSchema,
  type TableState,
  TableStateSchema,
} from '../proto.ts';

/** What ordering a table's rows needs: its columns with their encodings, and its primary key. */
export interface TableLayout {
  readonly schema: string;
  readonly name: string;
  /** Column names and wire encodings, in Relation order. */
  readonly columns: readonly { readonly name: string; readonly encoding: ValueEncoding }[];
  /** Primary key column names, in key order. */
  readonly primaryKey: readonly string[];
}

/** The layout of a fixture table. */
export function layoutOf(table: FixtureTable): TableLayout {
  return {
    schema: table.schema,
    name: table.name,
    columns: table.columns.map((c) => ({ name: c.name, encoding: c.encoding })),
    primaryKey: table.primaryKey,
  };
}

/** A NULL cell. */
export const NULL_CELL: Cell = Object.freeze(create(CellSchema, { kind: { case: 'null', value: true } }));

/** A cell holding Postgres text, or NULL for `null`. */
export function cellOf(text: string | null): Cell {
  return text === null ? NULL_CELL : create(CellSchema, { kind: { case: 'text', value: text } });
}

/** A cell's text, `null` for NULL (and for an unset cell, which a valid dump never has). */
export function cellText(cell: Cell | undefined): string | null {
  return cell?.kind.case === 'text' ? cell.kind.value : null;
}

/** Compares two strings by code point, which is the order of their UTF-8 bytes (`<` compares UTF-16 units). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const INTEGER = /^-?\d+$/;

function compareKeyText(a: string | null, b: string | null, encoding: ValueEncoding | undefined): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (encoding === ValueEncoding.INT && INTEGER.test(a) && INTEGER.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  return compareUtf8(a, b);
}

/**
 * Compares two primary keys (texts in key order) in canonical order: a key column with encoding
 * VALUE_ENCODING_INT as signed integers, any other bytewise. `encodings[i]` belongs to key column `i`.
 */
export function compareKeys(
  a: readonly (string | null)[],
  b: readonly (string | null)[],
  encodings: readonly (ValueEncoding | undefined)[],
): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = compareKeyText(a[i] ?? null, b[i] ?? null, encodings[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** Compares two tables by schema, then name. */
export function compareTables(a: { schema: string; name: string }, b: { schema: string; name: string }) {
  return compareUtf8(a.schema, b.schema) || compareUtf8(a.name, b.name);
}

/** The key of a row as texts (a key cell is never NULL in a valid dump; NULL sorts first here). */
export function rowKey(row: RowState, keyIndexes: readonly number[]): (string | null)[] {
  return keyIndexes.map((i) => cellText(row.cells[i]));
}

function tableKey(t: { schema: string; name: string }): string {
  return JSON.stringify([t.schema, t.name]);
}

/**
 * Puts one table in canonical form. With a layout: columns in layout order (columns the layout lacks follow,
 * by name), rows by primary key. Without one (a table the fixture does not know): columns by name, rows by all
 * their cells bytewise.
 */
export function canonicalTable(table: TableState, layout: TableLayout | undefined): TableState {
  const known = layout?.columns.map((c) => c.name).filter((name) => table.columns.includes(name)) ?? [];
  const extra = table.columns.filter((name) => !known.includes(name)).sort(compareUtf8);
  const columns = [...known, ...extra];
  const from = columns.map((name) => table.columns.indexOf(name));
  const rows = table.rows.map((row) =>
    create(RowStateSchema, { cells: from.map((i) => row.cells[i] ?? NULL_CELL) }),
  );
  const encodings = columns.map((name) => layout?.columns.find((c) => c.name === name)?.encoding);
  const order = layout
    ? layout.primaryKey.map((k) => columns.indexOf(k)).filter((i) => i >= 0)
    : columns.map((_, i) => i);
  const orderEncodings = order.map((i) => encodings[i]);
  rows.sort((a, b) => compareKeys(rowKey(a, order), rowKey(b, order), orderEncodings));
  return create(TableStateSchema, { schema: table.schema, name: table.name, columns, rows });
}

/** Puts a whole state in canonical form (see `State` in state.proto). Does not modify `state`. */
export function canonicalState(state: State, layouts: readonly TableLayout[]): State {
  const byName = new Map(layouts.map((l) => [tableKey(l), l] as const));
  const tables = state.tables.map((t) => canonicalTable(t, byName.get(tableKey(t))));
  tables.sort(compareTables);
  return create(StateSchema, { tables });
}
