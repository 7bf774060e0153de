/**
 * A real in-memory PGlite with the `live` extension for the live-query tests, with counters of the live queries
 * started and of the results they delivered, and a count of the live-query views still in the database. Test-only.
 */

import { PGlite } from '@electric-sql/pglite';
import { type LiveNamespace, live, type PGliteWithLive } from '@electric-sql/pglite/live';

/** A live database and what its live queries did so far. */
export interface CountingDb {
  readonly db: PGliteWithLive & PGlite;
  /** Live queries started (`query` and `changes`). */
  readonly starts: () => number;
  /** Results (or change sets) delivered to live-query callbacks. */
  readonly deliveries: () => number;
  /** Live-query views that exist (one per running live query; dropped on unsubscribe). */
  readonly views: () => Promise<number>;
}

type LiveOptions = { callback?: (results: never) => void };

/** A fresh database (cold start takes seconds: create one per test file). */
export async function createCountingDb(): Promise<CountingDb> {
  const db = await PGlite.create({ extensions: { live } });
  let starts = 0;
  let deliveries = 0;
  const counted = (options: LiveOptions): LiveOptions => {
    starts++;
    const callback = options.callback;
    return {
      ...options,
      callback: (results: never) => {
        deliveries++;
        callback?.(results);
      },
    };
  };
  // The hooks pass an options object; wrap its callback.
  const { query, changes } = db.live;
  const wrapped: Pick<LiveNamespace, 'query' | 'changes'> = {
    query: ((options: LiveOptions) =>
      query.call(db.live, counted(options) as never)) as LiveNamespace['query'],
    changes: ((options: LiveOptions) =>
      changes.call(db.live, counted(options) as never)) as LiveNamespace['changes'],
  };
  Object.assign(db.live, wrapped);
  return {
    db,
    starts: () => starts,
    deliveries: () => deliveries,
    async views() {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'v' AND relname LIKE 'live\\_query\\_%'",
      );
      return rows[0]!.n;
    },
  };
}
