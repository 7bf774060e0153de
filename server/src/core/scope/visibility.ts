/**
 * Row and column visibility for one user. Values are compared in Postgres text form, the form the change log
 * keeps (`Tuple`), so `uuid`, `text`, `bigint` … scope columns all work when the claim holds the column's
 * canonical text output (e.g. a lower-case uuid).
 */

import { type Datum, type Tuple, UNCHANGED_DATUM } from '../change.ts';
import type { ScopeRule, TableScope } from './scope-config.ts';

/** Whether a row is in a user's scope; `unknown` when the scope column's value is not in the tuple. */
export type RowVisibility = 'visible' | 'hidden' | 'unknown';

/** The claims of a user: the verified token's payload. */
export type Claims = Readonly<Record<string, unknown>>;

/**
 * The text a claim is compared as: a string as is, a safe integer in decimal; `null` (never matches) for a
 * missing claim, other numbers, booleans, objects and arrays.
 */
export function claimText(claims: Claims, claim: string): string | null {
  const v = claims[claim];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return null;
}

/** Visibility of a row by its scope column's value against the claim's text (NULL never matches). */
export function datumVisibility(datum: Datum | undefined, claim: string | null): RowVisibility {
  if (datum === UNCHANGED_DATUM || datum === undefined) return 'unknown';
  return datum !== null && claim !== null && datum === claim ? 'visible' : 'hidden';
}

/**
 * Visibility of a row under a rule. `columns` names the tuple's positions.
 * @throws RangeError when a claim rule names a column the tuple does not have.
 */
export function rowVisibility(
  row: Tuple,
  columns: readonly { readonly name: string }[],
  rule: ScopeRule,
  claims: Claims,
): RowVisibility {
  if (rule.kind === 'shared') return 'visible';
  const i = columns.findIndex((c) => c.name === rule.column);
  if (i < 0) throw new RangeError(`the scope column ${rule.column} is not a column of the row`);
  return datumVisibility(row[i], claimText(claims, rule.claim));
}

/**
 * Whether a user may see a row. A row whose scope column is unknown (the unchanged-TOAST marker) is not
 * known to be visible and counts as not visible here; `transformChange` handles that case precisely.
 *
 * @example
 * rowVisible(['t1', 'user_42'], [{ name: 'id' }, { name: 'owner_id' }],
 *   { kind: 'claim', column: 'owner_id', claim: 'sub' }, { sub: 'user_42' }); // true
 */
export function rowVisible(
  row: Tuple,
  columns: readonly { readonly name: string }[],
  rule: ScopeRule,
  claims: Claims,
): boolean {
  return rowVisibility(row, columns, rule, claims) === 'visible';
}

/**
 * The positions of the columns a user may see, in order: every column but the table's server-only ones.
 *
 * @example
 * visibleColumns([{ name: 'id' }, { name: 'password_hash' }, { name: 'email' }], usersScope); // [0, 2]
 */
export function visibleColumns(
  columns: readonly { readonly name: string }[],
  table: Pick<TableScope, 'serverOnlyColumns'>,
): readonly number[] {
  const hidden = new Set(table.serverOnlyColumns ?? []);
  const out: number[] = [];
  columns.forEach((c, i) => {
    if (!hidden.has(c.name)) out.push(i);
  });
  return out;
}
