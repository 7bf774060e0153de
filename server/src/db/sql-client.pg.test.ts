import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { openSqlClient, type SqlClient } from './sql-client.ts';
import { isSqlError, SqlError } from './sql-error.ts';
import { createDriverHarness, SQL_DRIVERS } from './testing/sql-drivers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

describe.each(SQL_DRIVERS)('SqlClient over %s', (driver) => {
  const drivers = createDriverHarness(driver);
  let client: SqlClient;
  beforeAll(async () => {
    client = await drivers.open(db.url);
  });
  afterAll(() => drivers.close());

  it('applies TEXT_VALUE_SESSION_SETTINGS to the session', async () => {
    const names = Object.keys(TEXT_VALUE_SESSION_SETTINGS);
    const { rows } = await client.query<{ name: string; setting: string }>(
      'SELECT n AS name, current_setting(n) AS setting FROM unnest($1::text[]) n',
      [`{${names.join(',')}}`],
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.setting]))).toEqual(TEXT_VALUE_SESSION_SETTINGS);
  });

  it('returns every value as the Postgres text output, NULL as null', async () => {
    const { rows, rowCount } = await client.query(
      `SELECT 1::int4 AS i, 9007199254740993::int8 AS big, 0.1::float8 AS f, 1.5::float4 AS r, true AS b,
              '2024-02-29 12:34:56.789+02'::timestamptz AS ts, '2024-02-29'::date AS d, '\\x00ff'::bytea AS bin,
              '{1,NULL,3}'::int4[] AS arr, '{"a": 1}'::jsonb AS j, '1 day 02:00'::interval AS iv,
              12.50::numeric(6,2) AS n, NULL::text AS nothing, $1::text AS param`,
      ['é "quoted"'],
    );
    expect(rowCount).toBe(1);
    expect(rows[0]).toEqual({
      i: '1',
      big: '9007199254740993',
      f: '0.1',
      r: '1.5',
      b: 't',
      ts: '2024-02-29 10:34:56.789+00',
      d: '2024-02-29',
      bin: '\\x00ff',
      arr: '{1,NULL,3}',
      j: '{"a": 1}',
      iv: '1 day 02:00:00',
      n: '12.50',
      nothing: null,
      param: 'é "quoted"',
    });
  });

  it('returns rows as arrays in select-list order with queryArrays', async () => {
    const { rows } = await client.queryArrays('SELECT 1 AS a, 2 AS a, NULL AS "__proto__"');
    expect(rows).toEqual([['1', '2', null]]);
  });

  it('throws SqlError with the SQLSTATE kept, and stays usable', async () => {
    const error = await client.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlError);
    expect(isSqlError(error, '42P01')).toBe(true);
    await expect(client.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }]);
  });

  it('fails to connect with a SqlError carrying the server SQLSTATE (bad password: 28P01)', async () => {
    const url = new URL(db.url);
    url.password = 'wrong';
    const error = await openSqlClient(url.toString(), driver, await drivers.options()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SqlError);
    expect((error as SqlError).code).toBe('28P01');
  });

  it('end() is idempotent', async () => {
    const other = await drivers.open(db.url);
    await other.end();
    await other.end();
  });
});
