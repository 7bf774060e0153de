/**
 * `query` output from a real PGlite: every kind of value reaches JSON without losing a digit, in the protocol's
 * text forms; read-only by default; SQL errors carry the SQLSTATE.
 */

import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CliError } from './cli-error.ts';
import { queryToJson } from './query-command.ts';

let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`
    CREATE TYPE mood AS ENUM ('ok', 'meh');
    CREATE DOMAIN small_count AS int4 CHECK (VALUE >= 0);
    CREATE TABLE t (
      id int4 PRIMARY KEY, big int8, amount numeric, ratio float8, tiny float4, flag boolean, name text,
      at timestamptz, day date, blob bytea, doc jsonb, raw json, ints int4[], bigs int8[], grid int2[][],
      feeling mood, n small_count, counts small_count[], u uuid, span interval
    );
    INSERT INTO t VALUES
      (1, 9223372036854775807, 12345678901234567890.123456789012345678, 0.1, 1.1, true, 'a "quoted"' || chr(10) || 'line',
       '2026-03-04 05:06:07.891+02', '2026-03-04', '\\x00ff10', '{"n": 12345678901234567890, "s": "x"}',
       '{ "a" : [1, 2] }', '{1,NULL,3}', '{-9223372036854775808}', '{{1,2},{3,4}}', 'meh', 7, '{1,2}',
       '00000000-0000-0000-0000-000000000001', '1 day 02:03:04'),
      (2, -1, 'NaN', 'NaN', '-Infinity', false, '', NULL, NULL, NULL, 'null', NULL, '{}', NULL, NULL, NULL,
       NULL, NULL, NULL, NULL),
      (3, NULL, NULL, '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL);
  `);
});
afterAll(() => db.close());

it('prints every type losslessly, in the protocol text forms', async () => {
  const text = await queryToJson(db, 'SELECT * FROM t ORDER BY id');
  expect(text.split('\n')).toHaveLength(5); // `[`, three rows, `]`
  expect(JSON.parse(text)).toEqual([
    {
      id: 1,
      big: '9223372036854775807',
      amount: '12345678901234567890.123456789012345678',
      ratio: 0.1,
      tiny: 1.1,
      flag: true,
      name: 'a "quoted"\nline',
      at: '2026-03-04 03:06:07.891+00',
      day: '2026-03-04',
      blob: '\\x00ff10',
      doc: { n: expect.any(Number), s: 'x' }, // the exact digits: see below
      raw: { a: [1, 2] },
      ints: [1, null, 3],
      bigs: ['-9223372036854775808'],
      grid: [
        [1, 2],
        [3, 4],
      ],
      feeling: 'meh',
      n: 7,
      counts: [1, 2],
      u: '00000000-0000-0000-0000-000000000001',
      span: '1 day 02:03:04',
    },
    expect.objectContaining({ id: 2, big: '-1', amount: 'NaN', ratio: 'NaN', tiny: '-Infinity', doc: null }),
    expect.objectContaining({ id: 3, ratio: -0 }),
  ]);
  // Numbers inside documents are kept digit for digit in the text.
  expect(text).toContain('"doc":{"n":12345678901234567890,"s":"x"}');
  expect(text).toContain('"ratio":-0');
});

it('prints the rows of the last statement, [] when it returns none', async () => {
  expect(
    JSON.parse(await queryToJson(db, "SET TimeZone = 'Asia/Tokyo'; SELECT at FROM t WHERE id = 1")),
  ).toEqual([{ at: '2026-03-04 12:06:07.891+09' }]);
  expect(await queryToJson(db, 'SELECT 1 WHERE false')).toBe('[]');
  expect(await queryToJson(db, '-- nothing')).toBe('[]');
  expect(await queryToJson(db, 'SELECT 1 AS a, 2 AS a')).toBe('[\n{"a":1,"a":2}\n]');
});

it('is read-only unless --write', async () => {
  await expect(queryToJson(db, 'DELETE FROM t')).rejects.toThrow(/read-only transaction \(SQLSTATE 25006\)/);
  expect(await queryToJson(db, 'DELETE FROM t WHERE id = 3 RETURNING id', { write: true })).toBe(
    '[\n{"id":3}\n]',
  );
});

it('reports SQL errors with their SQLSTATE', async () => {
  const error = await queryToJson(db, 'SELECT * FROM missing').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).message).toBe('ERROR: relation "missing" does not exist (SQLSTATE 42P01)');
  expect((error as CliError).exitCode).toBe(1);
});
