/**
 * Which tables are synced and which rows and columns of them each user sees. A table not listed is not synced
 * at all; a listed table is either shared (every user sees every row) or scoped by a claim (a row is visible
 * when one of its columns equals a claim of the user's token). Server-only columns are never sent.
 */

/** Every user sees every row. */
export interface SharedRule {
  readonly kind: 'shared';
}

/**
 * A row is visible when `column`'s Postgres text value equals the text of the token claim `claim` (e.g.
 * `owner_id = sub`). NULL never matches; a missing or non-scalar claim matches nothing.
 */
export interface ClaimRule {
  readonly kind: 'claim';
  readonly column: string;
  readonly claim: string;
}

/** How the rows of one table are filtered per user. */
export type ScopeRule = SharedRule | ClaimRule;

/** The scope of one synced table. */
export interface TableScope {
  /** Schema-qualified, unquoted: `public.tasks`. The first `.` separates schema and name. */
  readonly table: string;
  readonly rule: ScopeRule;
  /** Columns never sent to clients (e.g. `password_hash`). Primary key columns cannot be server-only. */
  readonly serverOnlyColumns?: readonly string[];
}

/** The scope of every synced table, with an index by qualified name. Build it with {@link createScopeConfig}. */
export interface ScopeConfig {
  readonly tables: readonly TableScope[];
  readonly byName: ReadonlyMap<string, TableScope>;
}

/** `schema.name` as used in {@link TableScope.table}. */
export function qualifiedName(schema: string, name: string): string {
  return `${schema}.${name}`;
}

/** Splits `schema.name` at its first dot. @throws RangeError when there is no schema or name. */
export function splitQualifiedName(table: string): { readonly schema: string; readonly name: string } {
  const dot = table.indexOf('.');
  if (dot <= 0 || dot === table.length - 1) {
    throw new RangeError(`table ${JSON.stringify(table)} must be schema-qualified, e.g. "public.tasks"`);
  }
  return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

/**
 * Validates a list of table scopes and indexes it.
 * @throws RangeError on an unqualified or duplicate table, or a claim rule without column or claim.
 *
 * @example
 * const scope = createScopeConfig([
 *   { table: 'public.projects', rule: { kind: 'shared' } },
 *   { table: 'public.tasks', rule: { kind: 'claim', column: 'owner_id', claim: 'sub' } },
 *   { table: 'public.users', rule: { kind: 'shared' }, serverOnlyColumns: ['password_hash'] },
 * ]);
 */
export function createScopeConfig(tables: readonly TableScope[]): ScopeConfig {
  const byName = new Map<string, TableScope>();
  for (const t of tables) {
    splitQualifiedName(t.table);
    if (byName.has(t.table)) throw new RangeError(`table ${t.table} is listed twice`);
    if (t.rule.kind === 'claim' && (t.rule.column === '' || t.rule.claim === '')) {
      throw new RangeError(`table ${t.table}: a claim rule needs a column and a claim`);
    }
    byName.set(t.table, t);
  }
  return { tables, byName };
}

/** The scope of a table, or `undefined` when the table is not synced. */
export function tableScopeOf(config: ScopeConfig, schema: string, name: string): TableScope | undefined {
  return config.byName.get(qualifiedName(schema, name));
}

/**
 * The tables whose setup must be `REPLICA IDENTITY FULL`: every table with a claim rule. Without it pgoutput
 * sends no old row for an UPDATE that keeps the primary key, so the scope column's old value is unknown and a
 * row moving out of a user's scope cannot be told from one that was never in it (see `transformChange`).
 * The setup must run `ALTER TABLE … REPLICA IDENTITY FULL` on these (or refuse to start).
 */
export function requiresReplicaIdentityFull(config: ScopeConfig): readonly string[] {
  return config.tables.filter((t) => t.rule.kind === 'claim').map((t) => t.table);
}
