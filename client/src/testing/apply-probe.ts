/**
 * An exactly-once probe for the client's apply pipeline, through the store's `beforeCommit` test seam: every
 * server transaction the client applies is recorded in `probe.applied` inside the same local transaction —
 * keyed by its commit LSN, so a transaction applied twice fails on the key, and one lost is missing from the
 * table. Records the first column of the rows it inserted into one chosen table, and which run applied it.
 * Test-only.
 */

import { formatLsn } from '@vibestack/proto';
import type { ApplyWork } from '../core/client-types.ts';
import type { SqlRunner } from '../pglite/sql.ts';

/** Creates the probe table (idempotent); run it on the local database before the client starts. */
export const PROBE_SETUP_SQL = `CREATE SCHEMA IF NOT EXISTS probe;
  CREATE TABLE IF NOT EXISTS probe.applied (
    commit_lsn pg_lsn PRIMARY KEY, inserted_ids text[] NOT NULL, run int NOT NULL)`;

/** The probe rows in commit order: commit LSN, inserted ids (`{1,2}`), run — as text. */
export const PROBE_QUERY =
  'SELECT commit_lsn::text, inserted_ids::text, run::text FROM probe.applied ORDER BY commit_lsn';

/** The first column of every row each transaction of `work` inserts into `table` (unqualified name). */
export function insertedKeys(work: ApplyWork, table: string): string[][] {
  if (work.kind !== 'transactions') return [];
  return work.transactions.map((t) =>
    t.changes.flatMap((c) => (c.op === 'insert' && c.relation.name === table ? [c.row[0] ?? ''] : [])),
  );
}

/** A `beforeCommit` that records each applied transaction of `work` (see the file comment). */
export function probeBeforeCommit(table: string, run: number) {
  return async (work: ApplyWork, tx: SqlRunner): Promise<void> => {
    if (work.kind !== 'transactions') return;
    const ids = insertedKeys(work, table);
    for (const [i, t] of work.transactions.entries()) {
      await tx.query('INSERT INTO probe.applied VALUES ($1::pg_lsn, $2::text[], $3)', [
        formatLsn(t.commitLsn),
        ids[i],
        run,
      ]);
    }
  };
}
