/**
 * One live query over PGlite's `live` extension as a plain subscribe/unsubscribe pair, the lifecycle the React
 * hooks need and the extension leaves to its caller: a query closed before it has started is torn down once it
 * has, no listener is called after the close, and a start that fails is reported once instead of rejecting a
 * promise nobody awaits. No React here.
 */

import type { Results } from '@electric-sql/pglite';
import type { LiveNamespace } from '@electric-sql/pglite/live';
import { createIncrementalRows } from './incremental-rows.ts';

/** The part of a PGlite instance with the `live` extension that live queries use. */
export interface LiveDb {
  readonly live: LiveNamespace;
}

/** What to run. */
export interface LiveQuerySpec {
  /** One SQL statement (a SELECT); `$1`, `$2`… refer to `params`. */
  readonly sql: string;
  readonly params?: readonly unknown[] | undefined;
  /**
   * A column that identifies rows (a plain column name of the result, unique per row). When set, the query
   * runs as `db.live.changes`: PGlite diffs each new result against the last by this column and hands over only
   * the changed rows (cheaper for large results that change a few rows at a time), and rows no change touched
   * keep their object identity.
   */
  readonly key?: string | undefined;
}

/** Receives a live query's results. */
export interface LiveQueryListener<T> {
  /** Called with the first results and again after every committed change to a table the query reads. */
  onResults(results: Results<T>): void;
  /** Called once when the query cannot start (bad SQL, a missing table, a closed database). */
  onError(error: Error): void;
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

function release(query: { unsubscribe(): Promise<void> }): void {
  // Fails only when the database is closed already, and then there is nothing left to release.
  query.unsubscribe().catch(() => undefined);
}

/**
 * Starts a live query and returns the function that stops it. `listener.onResults` receives the first results
 * and every later change; after the returned function is called, neither listener method is called again and
 * the query's view, prepared statement and listeners are dropped (once the start has finished, if it has not).
 *
 * Live queries see committed changes to the tables they read, whoever writes them: the app, or the sync client
 * applying server changes. Every table the SQL names must exist when it starts.
 *
 * @example
 * const stop = subscribeLiveQuery(db, { sql: 'SELECT * FROM todos WHERE done = $1', params: [false] }, {
 *   onResults: (r) => render(r.rows),
 *   onError: (e) => console.error(e),
 * });
 * // later
 * stop();
 */
export function subscribeLiveQuery<T>(
  db: LiveDb,
  spec: LiveQuerySpec,
  listener: LiveQueryListener<T>,
): () => void {
  let closed = false;
  let started: { unsubscribe(): Promise<void> } | undefined;
  const params = spec.params === undefined ? null : [...spec.params];
  const deliver = (results: Results<T>): void => {
    if (!closed) listener.onResults(results);
  };
  // Callbacks are passed at creation (not via `subscribe` afterwards), so a change committed while the query
  // starts is not lost: the extension skips refreshes of a query that has no callback yet.
  let starting: Promise<{ unsubscribe(): Promise<void> }>;
  if (spec.key === undefined) {
    starting = db.live.query<T>({ query: spec.sql, params, callback: deliver });
  } else {
    const rows = createIncrementalRows<T>(spec.key);
    // The first change set arrives before the fields are known (they come with the started query).
    let fields: Results<T>['fields'] | undefined;
    starting = db.live
      .changes<T>({
        query: spec.sql,
        params,
        key: spec.key,
        callback: (changes) => {
          rows.apply(changes);
          if (fields !== undefined) deliver({ rows: [...rows.rows()], fields });
        },
      })
      .then((query) => {
        fields = query.fields;
        deliver({ rows: [...rows.rows()], fields });
        return query;
      });
  }
  starting.then(
    (query) => {
      if (closed) release(query);
      else started = query;
    },
    (error: unknown) => {
      if (!closed) listener.onError(toError(error));
    },
  );
  return () => {
    if (closed) return;
    closed = true;
    if (started !== undefined) release(started);
  };
}
