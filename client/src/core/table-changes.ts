/**
 * Per-table change notifications: what a committed apply work changed in the synced tables, so an application
 * can refresh only what it shows from those tables. Computed from the work alone (no database access).
 */

import type { Lsn, Relation } from '@vibestack/proto';
import type { ApplyWork } from './client-types.ts';

/** What one committed local transaction did to one synced table. */
export interface TableChange {
  /** The table's schema, as on the server (`public`). */
  readonly schema: string;
  /** The table's name, as on the server. */
  readonly name: string;
  /** Rows inserted, updated and deleted (counts of changes, not of distinct rows). */
  readonly inserts: number;
  readonly updates: number;
  readonly deletes: number;
  /** The table was truncated (before any of the counted changes that followed). */
  readonly truncated: boolean;
  /** The table's content was replaced by a new snapshot (initial sync or refetch); counts are then 0. */
  readonly replaced: boolean;
}

/** One notification: the changed tables of one committed local transaction and the applied LSN it reached. */
export interface TablesChangedEvent {
  /** The applied LSN after the commit. */
  readonly lsn: Lsn;
  /** The tables the transaction changed, each once, in the order first touched. */
  readonly tables: readonly TableChange[];
}

interface Counts {
  schema: string;
  name: string;
  inserts: number;
  updates: number;
  deletes: number;
  truncated: boolean;
  replaced: boolean;
}

/**
 * The tables a committed work changed, or `undefined` when it changed no synced table (snapshot staging, the
 * handoff into staging, a Progress-only LSN advance).
 */
export function tablesChangedBy(work: ApplyWork): TablesChangedEvent | undefined {
  const byTable = new Map<string, Counts>();
  const entry = (r: Relation): Counts => {
    const key = `${r.schema}\u0000${r.name}`;
    let c = byTable.get(key);
    if (c === undefined) {
      c = {
        schema: r.schema,
        name: r.name,
        inserts: 0,
        updates: 0,
        deletes: 0,
        truncated: false,
        replaced: false,
      };
      byTable.set(key, c);
    }
    return c;
  };
  let lsn: Lsn;
  switch (work.kind) {
    case 'transactions':
      lsn = work.lsn;
      for (const t of work.transactions) {
        for (const change of t.changes) {
          if (change.op === 'truncate') for (const r of change.relations) entry(r).truncated = true;
          else if (change.op === 'insert') entry(change.relation).inserts++;
          else if (change.op === 'update') entry(change.relation).updates++;
          else entry(change.relation).deletes++;
        }
      }
      break;
    case 'snapshot-commit':
      lsn = work.lsn;
      for (const r of work.tables) entry(r).replaced = true;
      break;
    default:
      return undefined;
  }
  if (byTable.size === 0) return undefined;
  return { lsn, tables: [...byTable.values()] };
}
