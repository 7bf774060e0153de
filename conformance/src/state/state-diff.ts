/**
 * Compares two states (expected, actual) and reports the first differences in canonical order, in words a person
 * can act on: which table, which row (by primary key), which column, what was expected and what was found.
 */

import type { RowState, State, TableState } from '../proto.ts';
import {
  canonicalState,
  cellText,
  compareKeys,
  compareTables,
  rowKey,
  type TableLayout,
} from './canonical-state.ts';

/** One difference between an expected and an actual state. */
export interface StateDifference {
  /** `schema.name` of the table. */
  readonly table: string;
  /** The row's primary key as texts, when the difference is about a row. */
  readonly key?: readonly (string | null)[];
  /** The column, when the difference is about one cell or column. */
  readonly column?: string;
  /** What is wrong, e.g. `missing row`, `unexpected row`, `value differs`. */
  readonly problem: string;
  /** Expected and actual cell text (`null` = NULL), for `value differs`. */
  readonly expected?: string | null;
  readonly actual?: string | null;
}

/** Options of {@link diffStates}. */
export interface DiffOptions {
  /** Stop after this many differences; default 10. */
  readonly limit?: number;
}

const label = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;
const show = (text: string | null | undefined) =>
  text === null || text === undefined ? 'NULL' : JSON.stringify(text);

/** A difference as one line, e.g. `public.items (1): column "v": expected "a", got NULL`. */
export function formatDifference(d: StateDifference): string {
  const where = `${d.table}${d.key ? ` (${d.key.map(show).join(', ')})` : ''}${d.column ? `, column ${JSON.stringify(d.column)}` : ''}`;
  const values = d.problem === 'value differs' ? `: expected ${show(d.expected)}, got ${show(d.actual)}` : '';
  return `${where}: ${d.problem}${values}`;
}

function keyIndexes(table: TableState, layout: TableLayout | undefined): number[] {
  if (!layout) return table.columns.map((_, i) => i);
  return layout.primaryKey.map((k) => table.columns.indexOf(k));
}

function diffTable(
  expected: TableState,
  actual: TableState,
  layout: TableLayout | undefined,
  out: StateDifference[],
  limit: number,
): void {
  const table = label(expected);
  for (const column of expected.columns) {
    if (!actual.columns.includes(column)) out.push({ table, column, problem: 'missing column' });
  }
  for (const column of actual.columns) {
    if (!expected.columns.includes(column)) out.push({ table, column, problem: 'unexpected column' });
  }
  const keysOf = (t: TableState) => keyIndexes(t, layout);
  const index = (t: TableState) => {
    const rows = new Map<string, RowState>();
    for (const row of t.rows) {
      const key = JSON.stringify(rowKey(row, keysOf(t)));
      if (rows.has(key) && out.length < limit) {
        out.push({ table, key: rowKey(row, keysOf(t)), problem: 'duplicate primary key' });
      }
      rows.set(key, row);
    }
    return rows;
  };
  const want = index(expected);
  const got = index(actual);
  // Walk both in canonical order (both tables are canonical), so the first differences come first.
  const encodings = (layout?.primaryKey ?? expected.columns).map(
    (k) => layout?.columns.find((c) => c.name === k)?.encoding,
  );
  const keys = [...new Set([...want.keys(), ...got.keys()])];
  keys.sort((a, b) => compareKeys(JSON.parse(a), JSON.parse(b), encodings));
  for (const key of keys) {
    if (out.length >= limit) return;
    const w = want.get(key);
    const g = got.get(key);
    const shownKey = JSON.parse(key) as (string | null)[];
    if (!g) {
      out.push({ table, key: shownKey, problem: 'missing row' });
      continue;
    }
    if (!w) {
      out.push({ table, key: shownKey, problem: 'unexpected row' });
      continue;
    }
    for (const [i, column] of expected.columns.entries()) {
      const j = actual.columns.indexOf(column);
      if (j < 0) continue;
      const e = w.cells[i];
      const a = g.cells[j];
      if (a?.kind.case === undefined) {
        out.push({ table, key: shownKey, column, problem: 'cell missing or unset' });
      } else if (e?.kind.case !== a.kind.case || cellText(e) !== cellText(a)) {
        out.push({
          table,
          key: shownKey,
          column,
          problem: 'value differs',
          expected: cellText(e),
          actual: cellText(a),
        });
      }
      if (out.length >= limit) return;
    }
  }
}

/**
 * The differences between `expected` and `actual` (both brought into canonical form first), at most
 * `options.limit`; empty when they are equal. Tables are matched by schema and name, columns by name, rows by
 * primary key.
 *
 * @example
 * const differences = diffStates(fixture.commits[2].state, dump.state, fixture.tables.map(layoutOf));
 * if (differences.length > 0) fail(differences.map(formatDifference).join('\n'));
 */
export function diffStates(
  expected: State,
  actual: State,
  layouts: readonly TableLayout[],
  options: DiffOptions = {},
): StateDifference[] {
  const limit = options.limit ?? 10;
  const want = canonicalState(expected, layouts).tables;
  const got = canonicalState(actual, layouts).tables;
  const out: StateDifference[] = [];
  const all = [...want, ...got.filter((t) => !want.some((w) => compareTables(w, t) === 0))].sort(
    compareTables,
  );
  for (const t of all) {
    if (out.length >= limit) break;
    const w = want.find((x) => compareTables(x, t) === 0);
    const g = got.find((x) => compareTables(x, t) === 0);
    if (!g) out.push({ table: label(t), problem: 'missing table' });
    else if (!w) out.push({ table: label(t), problem: 'unexpected table' });
    else
      diffTable(
        w,
        g,
        layouts.find((l) => compareTables(l, t) === 0),
        out,
        limit,
      );
  }
  return out.slice(0, limit);
}
