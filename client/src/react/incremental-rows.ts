/**
 * The rows of a keyed live query, kept up to date from the change sets of PGlite's `db.live.changes`: each set
 * holds the rows inserted, updated (only the changed columns) and deleted since the last one, each row with
 * `__after__`, the key of the row before it in the query's order.
 *
 * Why not `db.live.incrementalQuery`, which does the same: in @electric-sql/pglite 0.5.14 it drops a row when
 * one change set both deletes a row and inserts another right after the same predecessor (it unlinks the new
 * row while removing the old one). Here the changes are applied first and the order is rebuilt from every
 * row's `__after__` afterwards, so the order of changes within a set does not matter.
 */

import type { Change } from '@electric-sql/pglite/live';
import { paramsKey } from './params-key.ts';

/** The rows of a keyed live query, updated by change sets. */
export interface IncrementalRows<T> {
  /** Applies one change set (in any order within the set). */
  apply(changes: readonly Change<T>[]): void;
  /**
   * The rows in the query's order. A row that no change touched is the same object as in the last call, so
   * memoized row components can skip it; the array is new after every `apply`.
   */
  rows(): readonly T[];
}

interface Entry<T> {
  /** The key of the row before this one (`null` for the first row). */
  readonly after: unknown;
  readonly row: T;
}

const META = new Set(['__op__', '__after__', '__changed_columns__']);

/** A Map key for a key value: primitives as they are, dates and byte arrays by value. */
const mapKey = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? paramsKey([value]) : value;

function withoutMeta<T>(change: object): T {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(change)) if (!META.has(k)) row[k] = v;
  return row as T;
}

/**
 * Starts empty; feed it every change set of one `db.live.changes` query (the first one inserts the initial
 * rows).
 *
 * @param key The query's key column: unique per row.
 * @example
 * const rows = createIncrementalRows<Todo>('id');
 * await db.live.changes({ query: 'SELECT * FROM todos ORDER BY id', key: 'id', callback: (changes) => {
 *   rows.apply(changes);
 *   show(rows.rows());
 * } });
 */
export function createIncrementalRows<T>(key: string): IncrementalRows<T> {
  const entries = new Map<unknown, Entry<T>>();
  let ordered: readonly T[] = [];

  const rebuild = (): void => {
    const next = new Map<unknown, Entry<T>>(); // predecessor's key → entry
    for (const entry of entries.values()) next.set(mapKey(entry.after), entry);
    const rows: T[] = [];
    const placed = new Set<Entry<T>>();
    for (let entry = next.get(null); entry !== undefined && !placed.has(entry); ) {
      rows.push(entry.row);
      placed.add(entry);
      entry = next.get(mapKey((entry.row as Record<string, unknown>)[key]));
    }
    // Defensive: a chain that misses rows (only possible with a key that is not unique) must not hide them.
    if (placed.size < entries.size) for (const e of entries.values()) if (!placed.has(e)) rows.push(e.row);
    ordered = rows;
  };

  return {
    apply(changes) {
      for (const change of changes) {
        const c = change as Change<T> & Record<string, unknown>;
        const id = mapKey(c[key]);
        switch (c.__op__) {
          case 'RESET':
            entries.clear();
            break;
          case 'DELETE':
            entries.delete(id);
            break;
          case 'INSERT':
            entries.set(id, { after: c.__after__ ?? null, row: withoutMeta<T>(c) });
            break;
          case 'UPDATE': {
            const old = entries.get(id);
            const row = { ...(old?.row ?? { [key]: c[key] }) } as Record<string, unknown>;
            let after = old?.after ?? null;
            for (const column of c.__changed_columns__) {
              if (column === '__after__') after = c.__after__ ?? null;
              else row[column] = c[column];
            }
            entries.set(id, { after, row: row as T });
            break;
          }
        }
      }
      rebuild();
    },
    rows: () => ordered,
  };
}
