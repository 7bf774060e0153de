/**
 * What an initial sync's result depends on besides the database: the tables in order, their keys, the columns
 * read with their types, and each table's scope rule with the user's claim value. A snapshot may be resumed only
 * under the same fingerprint (docs/protocol.md §6.5: "MUST NOT resume when the result could differ from a fresh
 * snapshot"); the shell stores it with the snapshot and compares.
 */

import type { Claims } from '../scope/index.ts';
import { claimText } from '../scope/index.ts';
import type { TableView } from './table-views.ts';

/** The fingerprint of a snapshot of `tables` (in SnapshotBegin order) reading `columnsOf(t)`, for `claims`. */
export function snapshotFingerprint(
  tables: readonly TableView[],
  columnsOf: (t: TableView) => readonly string[],
  claims: Claims,
): string {
  return JSON.stringify(
    tables.map((t) => {
      const d = t.descriptor;
      const rule = t.scope.rule;
      const columns = columnsOf(t).map((name) => {
        const c = d.columns.find((col) => col.name === name);
        return [name, c?.typeName ?? null, c?.typeOid ?? null, c?.typeModifier ?? null];
      });
      return {
        table: [d.schema, d.name, d.relationOid],
        key: d.primaryKey,
        columns,
        rule: rule.kind === 'claim' ? [rule.column, rule.claim, claimText(claims, rule.claim)] : rule.kind,
      };
    }),
  );
}
