/**
 * A table shape (a `TableShape`, or any tuple layout) prepared for scope decisions: where its primary key and scope column sit in its tuples.
 * The primary key comes from the catalog, not from pgoutput's key flags: under REPLICA IDENTITY FULL pgoutput
 * flags every column as part of the key.
 */

import type { ScopeRule, TableScope } from './scope-config.ts';

/** One table shape (one tuple layout) with its scope. */
export interface ScopedShape {
  readonly shapeId: number;
  readonly rule: ScopeRule;
  /** Positions of the primary key columns in the tuples, in key order. */
  readonly keyIndices: readonly number[];
  /** Position of the claim rule's column; -1 for a shared table. */
  readonly scopeIndex: number;
  /** The claim column is part of the primary key, so its old value travels with every key change. */
  readonly scopeInKey: boolean;
}

/**
 * Prepares a shape for {@link transformChange}.
 * @param primaryKey the table's primary key column names, in key order (from the catalog).
 * @throws RangeError when a key or scope column is missing from the shape, or a key column is server-only.
 */
export function scopeShape(
  shape: { readonly shapeId: number; readonly columns: readonly { readonly name: string }[] },
  primaryKey: readonly string[],
  table: TableScope,
): ScopedShape {
  const position = (name: string, what: string): number => {
    const i = shape.columns.findIndex((c) => c.name === name);
    if (i < 0)
      throw new RangeError(`${table.table}: ${what} column ${name} is not in shape ${shape.shapeId}`);
    return i;
  };
  if (primaryKey.length === 0) throw new RangeError(`${table.table} has no primary key and cannot be synced`);
  const serverOnly = new Set(table.serverOnlyColumns ?? []);
  for (const k of primaryKey) {
    if (serverOnly.has(k)) throw new RangeError(`${table.table}: key column ${k} cannot be server-only`);
  }
  const keyIndices = primaryKey.map((k) => position(k, 'key'));
  const scopeIndex = table.rule.kind === 'claim' ? position(table.rule.column, 'scope') : -1;
  return {
    shapeId: shape.shapeId,
    rule: table.rule,
    keyIndices,
    scopeIndex,
    scopeInKey: scopeIndex >= 0 && keyIndices.includes(scopeIndex),
  };
}
