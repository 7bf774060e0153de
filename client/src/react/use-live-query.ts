/**
 * `useLiveQuery` and `useLiveIncrementalQuery`: the rows of a SQL query over the local database, kept current
 * by PGlite's `live` extension as the app writes and as the sync client applies server changes.
 */

import type { Results } from '@electric-sql/pglite';
import { useEffect, useState } from 'react';
import { subscribeLiveQuery } from './live-subscription.ts';
import { paramsKey } from './params-key.ts';
import { useSyncContext } from './sync-provider.tsx';

/** A column of a live query's result. */
export interface LiveQueryField {
  readonly name: string;
  /** The column type's OID. */
  readonly dataTypeID: number;
}

/** What the live-query hooks return. */
export interface LiveQueryResult<T> {
  /**
   * The rows of the latest results. `[]` before the first results; while a changed query (new SQL or
   * parameters) starts, the previous query's rows stay (with `loading` true) so lists do not flash empty.
   */
  readonly rows: readonly T[];
  /** The result columns, in order (`[]` before the first results). */
  readonly fields: readonly LiveQueryField[];
  /** True until the current query's first results (or its error) arrive; false for a skipped query. */
  readonly loading: boolean;
  /** Why the current query could not start (bad SQL, a missing table; `rows` is then `[]`), else `undefined`. */
  readonly error: Error | undefined;
}

interface Latest<T> {
  /** Which query these are the results of (see `queryId`). */
  readonly id: string | undefined;
  readonly rows: readonly T[];
  readonly fields: readonly LiveQueryField[];
  readonly error: Error | undefined;
}

const NONE: Latest<never> = { id: undefined, rows: [], fields: [], error: undefined };
const SKIPPED: LiveQueryResult<never> = { rows: [], fields: [], loading: false, error: undefined };

function queryId(sql: string, params: string, key: string | undefined): string {
  return JSON.stringify([sql, params, key ?? null]);
}

function useLive<T>(
  hook: string,
  sql: string | null,
  params: readonly unknown[] | undefined,
  key: string | undefined,
): LiveQueryResult<T> {
  const { db } = useSyncContext(hook);
  const id = sql === null ? undefined : queryId(sql, paramsKey(params), key);
  // The parameters of the running query: replaced only when their values change (React's "adjust state while
  // rendering" pattern), so the effect below restarts for new values, not for a new array of the same ones.
  const [current, setCurrent] = useState({ id, params });
  if (current.id !== id) setCurrent({ id, params });
  const runningParams = current.params;
  const [latest, setLatest] = useState<Latest<T>>(NONE);

  useEffect(() => {
    if (sql === null) return;
    return subscribeLiveQuery<T>(
      db,
      { sql, params: runningParams, key },
      {
        onResults: (r: Results<T>) => setLatest({ id, rows: r.rows, fields: r.fields, error: undefined }),
        onError: (error) => setLatest({ id, rows: [], fields: [], error }),
      },
    );
  }, [db, sql, runningParams, key, id]);

  if (id === undefined) return SKIPPED;
  const settled = latest.id === id;
  return {
    rows: latest.rows,
    fields: latest.fields,
    loading: !settled,
    error: settled ? latest.error : undefined,
  };
}

/**
 * The rows of `sql` over the {@link SyncProvider}'s database, re-rendered after every committed change to a
 * table the query reads (`db.live.query`). The query restarts when `sql` or the values of `params` change, and
 * stops when the component unmounts. Pass `null` as `sql` to run nothing (e.g. until the synced tables exist).
 *
 * Synced tables are created locally by the sync client during the first sync, so a query over them fails
 * with "relation does not exist" before; wait for synced state, e.g.
 * `useSyncStatus((s) => s.appliedLsn > 0n)`.
 *
 * @param sql One SQL statement (a SELECT); `$1`, `$2`… refer to `params`.
 * @param params Parameter values; compared by value, so an inline `[id]` is fine.
 * @throws Error outside a `SyncProvider`.
 * @example
 * function Todos({ listId }: { listId: number }) {
 *   const { rows, loading, error } = useLiveQuery<{ id: number; title: string }>(
 *     'SELECT id, title FROM todos WHERE list_id = $1 ORDER BY id',
 *     [listId],
 *   );
 *   if (error) return <p>{error.message}</p>;
 *   if (loading) return <p>Loading…</p>;
 *   return <ul>{rows.map((t) => <li key={t.id}>{t.title}</li>)}</ul>;
 * }
 */
export function useLiveQuery<T = Record<string, unknown>>(
  sql: string | null,
  params?: readonly unknown[],
): LiveQueryResult<T> {
  return useLive<T>('useLiveQuery', sql, params, undefined);
}

/**
 * Like {@link useLiveQuery}, but PGlite works out each new result as a diff against the last one by the `key`
 * column (`db.live.changes`) and hands over only the changed rows: cheaper for large results of which a few
 * rows change at a time. Rows that did not change keep their object identity, so `memo` row components skip
 * re-rendering.
 *
 * @param key A column of the result that is unique per row (a plain column name, e.g. the primary key).
 * @throws Error outside a `SyncProvider`.
 * @example
 * const { rows } = useLiveIncrementalQuery<Todo>('SELECT * FROM todos ORDER BY id', [], 'id');
 */
export function useLiveIncrementalQuery<T = Record<string, unknown>>(
  sql: string | null,
  params: readonly unknown[] | undefined,
  key: string,
): LiveQueryResult<T> {
  return useLive<T>('useLiveIncrementalQuery', sql, params, key);
}
