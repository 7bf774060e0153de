/**
 * Which rows a case's client sees: the server's scope rules built from the case's `scoped_tables` (every other
 * table shared), and the same filter applied to the fixture's recorded states, which hold every user's rows.
 */

import { create } from '@bufbuild/protobuf';
import { createScopeConfig, type ScopeConfig } from '../../../server/src/core/scope/index.ts';
import { CONFORMANCE_USER } from '../constants.ts';
import { type Fixture, type ScopedTable, type State, StateSchema, TableStateSchema } from '../proto.ts';
import { cellText } from '../state/canonical-state.ts';

/** The claims of the user every reference-server token is issued for. */
export const CONFORMANCE_CLAIMS: Readonly<Record<string, string>> = Object.freeze({ sub: CONFORMANCE_USER });

/**
 * The scope of a case: claim rules for `scoped`, every other fixture table shared.
 * @throws RangeError for a scoped table or column the fixture does not have.
 */
export function caseScope(fixture: Fixture, scoped: readonly ScopedTable[]): ScopeConfig {
  for (const s of scoped) {
    const table = fixture.tables.find((t) => `${t.schema}.${t.name}` === s.table);
    if (table === undefined) throw new RangeError(`scoped table ${s.table} is not in the fixture`);
    if (!table.columns.some((c) => c.name === s.column)) {
      throw new RangeError(`scoped table ${s.table} has no column ${s.column}`);
    }
  }
  return createScopeConfig(
    fixture.tables.map((t) => {
      const table = `${t.schema}.${t.name}`;
      const rule = scoped.find((s) => s.table === table);
      return {
        table,
        rule: rule
          ? { kind: 'claim' as const, column: rule.column, claim: rule.claim }
          : { kind: 'shared' as const },
      };
    }),
  );
}

/** `state` as the conformance user sees it: rows of scoped tables whose column does not match the claim dropped. */
export function visibleState(state: State, scoped: readonly ScopedTable[]): State {
  if (scoped.length === 0) return state;
  return create(StateSchema, {
    tables: state.tables.map((t) => {
      const rule = scoped.find((s) => s.table === `${t.schema}.${t.name}`);
      if (rule === undefined) return t;
      const i = t.columns.indexOf(rule.column);
      const claim = CONFORMANCE_CLAIMS[rule.claim];
      return create(TableStateSchema, {
        ...t,
        rows: t.rows.filter((row) => claim !== undefined && cellText(row.cells[i]) === claim),
      });
    }),
  });
}
