/**
 * `SYNC_SCOPES`: the JSON text of the synced tables and their rules, checked entry by entry so that a mistake is
 * reported as one line naming the entry and the key (a typo such as `serverOnlyColumn` would otherwise send a
 * column that was meant to stay on the server).
 */

import { createScopeConfig, type ScopeConfig, type TableScope } from '../core/scope/scope-config.ts';
import { ConfigError, shownValue } from './config-error.ts';

/** The environment variable this file reads. */
export const SYNC_SCOPES_VAR = 'SYNC_SCOPES';

const ENTRY_KEYS = ['table', 'rule', 'serverOnlyColumns'] as const;
const RULE_KEYS = { shared: ['kind'], claim: ['kind', 'column', 'claim'] } as const;
const EXAMPLE = '[{"table":"public.tasks","rule":{"kind":"claim","column":"owner_id","claim":"sub"}}]';

function fail(problem: string): never {
  throw new ConfigError(SYNC_SCOPES_VAR, problem);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${shownValue(String(value))}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function checkKeys(record: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(record).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    fail(`${where}unknown key ${shownValue(unknown)} (known: ${known.join(', ')})`);
  }
}

function parseEntry(value: unknown, position: number): TableScope {
  let where = `entry ${position}: `;
  if (!isRecord(value)) fail(`${where}must be an object like ${EXAMPLE.slice(1, -1)}, got ${kindOf(value)}`);
  const { table, rule, serverOnlyColumns } = value;
  const dot = typeof table === 'string' ? table.indexOf('.') : -1;
  if (typeof table !== 'string' || dot <= 0 || dot === table.length - 1) {
    fail(
      `${where}"table" must be a schema-qualified table name such as "public.tasks", got ${kindOf(table)}`,
    );
  }
  where = `entry ${position} (${table}): `;
  checkKeys(value, ENTRY_KEYS, where);
  if (!isRecord(rule)) fail(`${where}"rule" must be an object with a "kind", got ${kindOf(rule)}`);
  const kind = rule.kind;
  if (kind !== 'shared' && kind !== 'claim') {
    fail(`${where}"rule.kind" must be "shared" or "claim", got ${kindOf(kind)}`);
  }
  checkKeys(rule, RULE_KEYS[kind], `${where}"rule": `);
  let parsedRule: TableScope['rule'] = { kind: 'shared' };
  if (kind === 'claim') {
    if (!nonEmptyString(rule.column))
      fail(`${where}"rule.column" must be a column name, got ${kindOf(rule.column)}`);
    if (!nonEmptyString(rule.claim))
      fail(`${where}"rule.claim" must be a token claim name, got ${kindOf(rule.claim)}`);
    parsedRule = { kind, column: rule.column, claim: rule.claim };
  }
  if (serverOnlyColumns === undefined) return { table, rule: parsedRule };
  if (!Array.isArray(serverOnlyColumns) || !serverOnlyColumns.every(nonEmptyString)) {
    fail(`${where}"serverOnlyColumns" must be an array of column names, got ${kindOf(serverOnlyColumns)}`);
  }
  return { table, rule: parsedRule, serverOnlyColumns: serverOnlyColumns as string[] };
}

/**
 * Parses and checks `SYNC_SCOPES` (entries are numbered from 1 in messages).
 * @throws ConfigError naming the entry and key, e.g. `SYNC_SCOPES: entry 2 (public.tasks): "rule.kind" must be
 * "shared" or "claim", got string "owner"`.
 *
 * @example
 * const scope = parseSyncScopes('[{"table":"public.users","rule":{"kind":"shared"}}]');
 */
export function parseSyncScopes(text: string): ScopeConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    fail(
      `is not valid JSON (${error instanceof Error ? error.message : String(error)}); expected e.g. ${EXAMPLE}`,
    );
  }
  if (!Array.isArray(parsed)) fail(`must be a JSON array of table scopes, got ${kindOf(parsed)}`);
  if (parsed.length === 0) fail('must list at least one table');
  const tables = parsed.map((entry, i) => parseEntry(entry, i + 1));
  const seen = new Map<string, number>();
  for (const [i, t] of tables.entries()) {
    const first = seen.get(t.table);
    if (first !== undefined) fail(`entry ${i + 1}: table ${t.table} is already listed in entry ${first}`);
    seen.set(t.table, i + 1);
  }
  try {
    return createScopeConfig(tables);
  } catch (error) {
    // Anything the core adds later still comes out as one line naming the setting.
    return fail(error instanceof Error ? error.message : String(error));
  }
}
