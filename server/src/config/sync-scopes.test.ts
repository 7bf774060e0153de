import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseSyncScopes } from './sync-scopes.ts';

/** The error `parseSyncScopes(text)` throws (fails the test when it does not throw one). */
function errorOf(text: string): ConfigError {
  try {
    parseSyncScopes(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`accepted ${text}`);
}

const shared = (table: string) => ({ table, rule: { kind: 'shared' } });

describe('parseSyncScopes', () => {
  it('accepts shared and claim rules with server-only columns', () => {
    const scope = parseSyncScopes(
      JSON.stringify([
        { ...shared('public.users'), serverOnlyColumns: ['password_hash'] },
        { table: 'public.tasks', rule: { kind: 'claim', column: 'owner_id', claim: 'sub' } },
      ]),
    );
    expect(scope.tables).toEqual([
      { table: 'public.users', rule: { kind: 'shared' }, serverOnlyColumns: ['password_hash'] },
      { table: 'public.tasks', rule: { kind: 'claim', column: 'owner_id', claim: 'sub' } },
    ]);
    expect(scope.byName.get('public.tasks')?.rule.kind).toBe('claim');
  });

  it('names the setting, the entry and the key in one line', () => {
    const cases: [unknown, string][] = [
      [{ tables: [] }, 'SYNC_SCOPES: must be a JSON array of table scopes, got an object'],
      [[], 'SYNC_SCOPES: must list at least one table'],
      [[shared('public.a'), 'public.b'], 'SYNC_SCOPES: entry 2: must be an object like'],
      [
        [{ table: 'tasks', rule: { kind: 'shared' } }],
        'SYNC_SCOPES: entry 1: "table" must be a schema-qualified',
      ],
      [[{ table: 'public.tasks' }], 'SYNC_SCOPES: entry 1 (public.tasks): "rule" must be an object'],
      [
        [shared('public.a'), { table: 'public.tasks', rule: { kind: 'owner' } }],
        'SYNC_SCOPES: entry 2 (public.tasks): "rule.kind" must be "shared" or "claim", got string "owner"',
      ],
      [
        [{ table: 'public.t', rule: { kind: 'claim', column: 'owner_id' } }],
        'SYNC_SCOPES: entry 1 (public.t): "rule.claim" must be a token claim name, got undefined',
      ],
      [
        [{ table: 'public.t', rule: { kind: 'claim', column: '', claim: 'sub' } }],
        'SYNC_SCOPES: entry 1 (public.t): "rule.column" must be a column name',
      ],
      [
        [{ ...shared('public.users'), serverOnlyColumn: ['password_hash'] }],
        'SYNC_SCOPES: entry 1 (public.users): unknown key "serverOnlyColumn" (known: table, rule, serverOnlyColumns)',
      ],
      [
        [{ table: 'public.t', rule: { kind: 'shared', column: 'x' } }],
        'SYNC_SCOPES: entry 1 (public.t): "rule": unknown key "column" (known: kind)',
      ],
      [
        [{ ...shared('public.users'), serverOnlyColumns: 'password_hash' }],
        'SYNC_SCOPES: entry 1 (public.users): "serverOnlyColumns" must be an array of column names',
      ],
      [
        [shared('public.a'), shared('public.b'), shared('public.a')],
        'SYNC_SCOPES: entry 3: table public.a is already listed in entry 1',
      ],
    ];
    for (const [value, message] of cases) {
      const error = errorOf(JSON.stringify(value));
      expect(error.message.startsWith(message), `${error.message}\n  wanted: ${message}`).toBe(true);
      expect(error.setting).toBe('SYNC_SCOPES');
      expect(error.message).not.toMatch(/\n/);
    }
  });

  it('reports malformed JSON as one line with an example, not a bare SyntaxError', () => {
    const error = errorOf('[{"table": "public.tasks",\n "rule": {kind: "shared"}}]');
    expect(error.message).toMatch(/^SYNC_SCOPES: is not valid JSON \(.+\); expected e\.g\. \[\{"table"/);
    expect(error.message).not.toMatch(/\n/);
  });
});
