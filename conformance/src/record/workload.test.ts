import { describe, expect, it } from 'vitest';
import { parseWorkload, WorkloadError } from './workload.ts';

describe('parseWorkload', () => {
  it('splits at top-level semicolons, keeping quoted and commented ones, with lines and sessions', () => {
    const text = [
      '-- Inserts and updates.',
      '--   Two lines of description.',
      '',
      "CREATE TABLE t (id int PRIMARY KEY, v text DEFAULT 'a;b');",
      "INSERT INTO t VALUES (1, 'it''s; fine'), (2, E'back\\'slash;'); -- trailing; comment",
      '/* block; /* nested; */ still; */ UPDATE "odd;name" SET v = $$dollar;$$',
      'WHERE id = 1;',
      '-- @session other',
      'BEGIN;',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'SELECT a$b, $1;',
      '-- @session main',
      'COMMIT',
    ].join('\n');
    const { description, statements } = parseWorkload(text);
    expect(description).toBe('Inserts and updates. Two lines of description.');
    expect(statements.map((s) => [s.line, s.session, s.sql])).toEqual([
      [4, 'main', "CREATE TABLE t (id int PRIMARY KEY, v text DEFAULT 'a;b')"],
      [5, 'main', "INSERT INTO t VALUES (1, 'it''s; fine'), (2, E'back\\'slash;')"],
      [6, 'main', 'UPDATE "odd;name" SET v = $$dollar;$$\nWHERE id = 1'],
      [9, 'other', 'BEGIN'],
      [10, 'other', 'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql'],
      [11, 'other', 'SELECT a$b, $1'],
      [13, 'main', 'COMMIT'],
    ]);
  });

  it('refuses unterminated quotes and comments, and misplaced or unknown directives', () => {
    for (const bad of [
      "SELECT 'open",
      'SELECT "open',
      'SELECT $x$ open',
      '/* open',
      'SELECT 1\n-- @session b\n;',
      '-- @sessions b\nSELECT 1;',
    ]) {
      expect(() => parseWorkload(bad), bad).toThrow(WorkloadError);
    }
  });
});
