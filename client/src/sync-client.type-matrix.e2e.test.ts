/**
 * The type matrix end to end (docs/protocol.md §7.2): real Postgres, the real Worker in workerd, a real PGlite.
 * A table with a column of every type the protocol names — integers at their limits, numeric NaN/±Infinity and
 * 40-digit values, float specials and subnormals, money, text with control characters and the COPY end marker,
 * bytea, uuid, dates and timestamps (BC, ±infinity, time zones), time/timetz, interval, json/jsonb/jsonpath,
 * arrays (NULL elements, several dimensions, lower bounds, every element encoding, `box[]`), enums, domains
 * (over scalars, arrays, enums and domains; arrays of domains), network, bit, text search, pg_lsn, ranges and
 * multiranges, geometry, xml, a composite type, citext and hstore (types PGlite lacks), a TOASTed value — and
 * NULL in every column, synced by a snapshot and then changed live (every column rotated, inserts, deletes, key
 * changes with an unchanged TOAST value). Every column is compared as Postgres output text with the server.
 *
 * Both sides run with odd session defaults (the server database with another TimeZone, DateStyle,
 * IntervalStyle, extra_float_digits and bytea_output; the app's PGlite session likewise), so a path that
 * produced or parsed text outside the §7.3 settings would show up as a difference.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses, type StatusLog } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { withTimeout } from './testing/wait.ts';

/** One matrix column: name, server type, the type the client should create locally, values of rows 1–5. */
interface MatrixColumn {
  readonly name: string;
  readonly type: string;
  readonly local: string;
  readonly values: readonly (string | null)[];
}

const TOAST = `toast ${'x'.repeat(20_000)}`;
const c = (name: string, type: string, local: string, values: readonly (string | null)[]): MatrixColumn => ({
  name,
  type,
  local,
  values,
});

// Row 6 is NULL in every column. Values are input text, sent as parameters.
const MATRIX: readonly MatrixColumn[] = [
  c('c_int2', 'int2', 'smallint', ['1', '-32768', '32767', '0', '-1']),
  c('c_int4', 'int4', 'integer', ['2', '-2147483648', '2147483647', '0', '42']),
  c('c_int8', 'int8', 'bigint', [
    '3',
    '-9223372036854775808',
    '9223372036854775807',
    '0',
    '9007199254740993',
  ]),
  c('c_oid', 'oid', 'oid', ['0', '4294967295', '12345', '1', '2147483648']),
  c('c_numeric', 'numeric', 'numeric', [
    '3.14',
    'NaN',
    '1234567890123456789012345678901234567890.0123456789',
    'Infinity',
    '-0.000001',
  ]),
  c('c_numeric_12_2', 'numeric(12,2)', 'numeric(12,2)', ['12.50', '-9999999999.99', '0.00', '-0.01', '1']),
  c('c_float4', 'float4', 'real', ['1.5', 'NaN', '-Infinity', '1e-45', '3.4028235e38']),
  c('c_float8', 'float8', 'double precision', ['2.25', 'NaN', 'Infinity', '-0', '5e-324']),
  c('c_float8b', 'float8', 'double precision', [
    '0.1',
    '1.7976931348623157e308',
    '-Infinity',
    '123456789.123456789',
    '1e-300',
  ]),
  c('c_money', 'money', 'money', ['12.34', '-92233720368547758.08', '0', '1000000', '0.01']),
  c('c_bool', 'bool', 'boolean', ['true', 'false', 'true', 'false', 'true']),
  c('c_text', 'text', 'text', [
    'hello',
    'multi\nline \\ "q" \'s\' \t 🎉 ünïcödé \u0001',
    'x'.repeat(500),
    '',
    'NULL',
  ]),
  c('c_text2', 'text', 'text', ['\\.', '\r\n', '\\N', 'tab\tsep\u007f', ' trailing\\']),
  c('c_varchar', 'varchar(20)', 'character varying(20)', ['v', '', 'ü', 'x', 'tab\there']),
  c('c_bpchar', 'char(5)', 'character(5)', ['ab', 'a', 'abcde', '     ', 'é']),
  c('c_name', 'name', 'name', ['pg_class', '', 'Ωmega', 'a b', 'x']),
  c('c_char', '"char"', '"char"', ['a', 'Z', '0', '-', 'x']),
  c('c_bytea', 'bytea', 'bytea', ['\\x0001ff', '\\x', '\\xdeadbeef', '\\x00', `\\x${'ab'.repeat(5_000)}`]),
  c('c_uuid', 'uuid', 'uuid', [
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '123e4567-e89b-12d3-a456-426614174000',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12',
  ]),
  c('c_date', 'date', 'date', ['2024-02-29', '4713-01-01 BC', '5874897-12-31', 'infinity', '-infinity']),
  c('c_date2', 'date', 'date', ['0044-03-15 BC', '2000-01-01', '1999-12-31', '1970-01-01', '2038-01-19']),
  c('c_timestamp', 'timestamp', 'timestamp without time zone', [
    '2024-02-29 12:34:56.789',
    'infinity',
    '2000-01-01 00:00:00.000001',
    '-infinity',
    '294276-12-31 23:59:59.999999',
  ]),
  c('c_timestamptz', 'timestamptz', 'timestamp with time zone', [
    '2024-02-29 12:34:56.789+02',
    '-infinity',
    '0044-03-15 12:00:00+00 BC',
    'infinity',
    '2024-03-31 01:30:00+05:45',
  ]),
  c('c_timestamptz_min', 'timestamptz', 'timestamp with time zone', [
    '4714-11-24 00:00:00+00 BC',
    '1999-12-31 23:59:59.999999+00',
    '2000-01-01 00:00:00+14',
    '1901-12-13 20:45:52+00',
    '294276-12-31 23:59:59.999999+00',
  ]),
  c('c_timestamptz3', 'timestamptz(3)', 'timestamp(3) with time zone', [
    '2024-02-29 12:34:56.789123+02',
    '2000-01-01 00:00:00.0005+00',
    'infinity',
    '1970-01-01 00:00:00+00',
    '2024-06-30 23:59:59.9999+00',
  ]),
  c('c_time', 'time', 'time without time zone', [
    '23:59:59.999999',
    '00:00',
    '24:00:00',
    '00:00:00.000001',
    '12:00',
  ]),
  c('c_timetz', 'timetz', 'time with time zone', [
    '12:00:00+05:45',
    '00:00:00-15:59',
    '23:59:59.999999+00',
    '24:00:00-01',
    '08:30+01',
  ]),
  c('c_interval', 'interval', 'interval', [
    '1 day 02:03:04',
    '-1 years -2 mons +3 days -04:05:06.789',
    '178000000 years',
    '0',
    '1 mon -1 day 00:00:00.000001',
  ]),
  c('c_interval_hm', 'interval hour to minute', 'interval hour to minute', [
    '1 day 02:03:04',
    '-00:01',
    '100 hours',
    '0',
    '3 years',
  ]),
  c('c_json', 'json', 'json', [
    '{"a": [1, 2.50, null],  "b" : "x"}',
    '[]',
    '"just a string"',
    'null',
    '{"dup":1,"dup":2, "\\u00e9": "é"}',
  ]),
  c('c_jsonb', 'jsonb', 'jsonb', [
    '{"b": 1, "a": [true, null]}',
    '{}',
    '[1, "two", {"three": 3.0}]',
    'null',
    '{"big": 123456789012345678901234567890, "s": "\\u00e9\\n\\t"}',
  ]),
  c('c_jsonpath', 'jsonpath', 'jsonpath', [
    '$.a[*] ? (@ > 1)',
    '$',
    'strict $.x',
    'lax $."key with space"',
    '$.size()',
  ]),
  c('c_text_array', 'text[]', 'text[]', [
    '{a,b}',
    '{NULL,"a,b","","\\"q\\"","NULL"}',
    '{}',
    '{{"a b",NULL},{"}",","}}',
    '{"back\\\\slash","é 🎉","tab\tin"}',
  ]),
  c('c_int_array', 'int4[]', 'integer[]', [
    '{1,2,3}',
    '{{1,2},{3,NULL}}',
    '[0:1]={7,8}',
    '{{{1}},{{2}}}',
    '[-2:-1][3:4]={{1,2},{3,4}}',
  ]),
  c('c_int8_array', 'int8[]', 'bigint[]', [
    '{-9223372036854775808,9223372036854775807}',
    '{NULL}',
    '{}',
    '{0}',
    '{9007199254740993}',
  ]),
  c('c_numeric_array', 'numeric[]', 'numeric[]', [
    '{1.10,NaN,Infinity}',
    '{-Infinity,NULL}',
    '{}',
    '{0.000}',
    '{123456789012345678901234567890.1}',
  ]),
  c('c_float8_array', 'float8[]', 'double precision[]', [
    '{NaN,Infinity,-Infinity,-0}',
    '{0.1,5e-324}',
    '{}',
    '{NULL,1.5}',
    '{1.7976931348623157e308}',
  ]),
  c('c_float4_array', 'float4[]', 'real[]', [
    '{1.5,NaN,-0}',
    '{3.4028235e38,1e-45}',
    '{}',
    '{NULL}',
    '{0.1}',
  ]),
  c('c_bool_array', 'bool[]', 'boolean[]', ['{t,f,NULL}', '{}', '{{t},{f}}', '{true}', '{false,false}']),
  c('c_uuid_array', 'uuid[]', 'uuid[]', [
    '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}',
    '{}',
    '{00000000-0000-0000-0000-000000000000}',
    '{{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11},{ffffffff-ffff-ffff-ffff-ffffffffffff}}',
    '{NULL}',
  ]),
  c('c_tstz_array', 'timestamptz[]', 'timestamp with time zone[]', [
    '{"2024-01-01 00:00:00+00",infinity,-infinity,NULL}',
    '{}',
    '{"0044-03-15 12:00:00+00 BC"}',
    '{"2024-02-29 12:34:56.789+02"}',
    '[5:5]={"2024-03-31 01:30:00+05:45"}',
  ]),
  c('c_ts_array', 'timestamp[]', 'timestamp without time zone[]', [
    '{"2024-01-01 00:00:00",infinity,NULL}',
    '{}',
    '{"0044-03-15 12:00:00 BC"}',
    '{"2000-01-01 00:00:00.000001"}',
    '{-infinity}',
  ]),
  c('c_date_array', 'date[]', 'date[]', [
    '{2024-02-29,infinity,NULL}',
    '{}',
    '{"4713-01-01 BC"}',
    '{-infinity}',
    '{2000-01-01,1999-12-31}',
  ]),
  c('c_bytea_array', 'bytea[]', 'bytea[]', [
    '{"\\\\x00ff",NULL,"\\\\x"}',
    '{}',
    '{"\\\\xdeadbeef"}',
    '{NULL}',
    '{"\\\\x5c22"}',
  ]),
  c('c_jsonb_array', 'jsonb[]', 'jsonb[]', [
    '{"{\\"a\\": 1}",NULL,"[]"}',
    '{}',
    '{null}',
    '{"\\"s\\""}',
    '{1}',
  ]),
  c('c_interval_array', 'interval[]', 'interval[]', [
    '{"1 day","-00:00:01",NULL}',
    '{}',
    '{"178000000 years"}',
    '{0}',
    '{"1 mon -1 day"}',
  ]),
  c('c_varchar_array', 'varchar(3)[]', 'character varying(3)[]', ['{ab,c}', '{}', '{NULL}', '{""}', '{xyz}']),
  c('c_bpchar_array', 'char(2)[]', 'character(2)[]', ['{a,bb}', '{}', '{NULL," "}', '{xy}', '{z}']),
  c('c_mood', 'mood', 'mood', ['happy', 'sad', 'ok', 'happy', 'sad']),
  c('c_mood_array', 'mood[]', 'mood[]', ['{happy,sad}', '{}', '{NULL,ok}', '{{ok},{sad}}', '{sad}']),
  c('c_posint', 'posint', 'integer', ['1', '2147483647', '5', '7', '9']),
  c('c_posint2', 'posint2', 'integer', ['3', '4', '5', '6', '2147483647']),
  c('c_short', 'short_text', 'character varying(10)', ['abc', '', 'ten chars!', 'x y', 'é']),
  c('c_price', 'price', 'numeric(7,2)', ['12345.67', '-0.01', '0.00', '1.10', '5']),
  c('c_int_list', 'int_list', 'integer[]', ['{1,2}', '{}', '{{1},{2}}', '{NULL}', '[3:3]={9}']),
  c('c_posint_array', 'posint[]', 'integer[]', ['{1,2}', '{NULL}', '{}', '{2147483647}', '{{1,2},{3,4}}']),
  c('c_mood_d', 'mood_d', 'mood', ['ok', 'happy', 'sad', 'ok', 'happy']),
  c('c_inet', 'inet', 'inet', ['192.168.0.1/24', '::1/128', '10.0.0.1', '2001:db8::/32', '::ffff:1.2.3.4']),
  c('c_cidr', 'cidr', 'cidr', ['192.168.0.0/24', '::/0', '10.0.0.0/8', '2001:db8::/32', '0.0.0.0/0']),
  c('c_macaddr', 'macaddr', 'macaddr', [
    '08:00:2b:01:02:03',
    'FF-FF-FF-FF-FF-FF',
    '0800.2b01.0203',
    '00:00:00:00:00:00',
    '08002b010203',
  ]),
  c('c_macaddr8', 'macaddr8', 'macaddr8', [
    '08:00:2b:01:02:03:04:05',
    '08:00:2b:01:02:03',
    'ff:ff:ff:ff:ff:ff:ff:ff',
    '00:00:00:00:00:00:00:00',
    '0800.2b01.0203.0405',
  ]),
  c('c_bit', 'bit(4)', 'bit(4)', ['1010', '0000', '1111', '0101', '1000']),
  c('c_varbit', 'varbit', 'bit varying', ['1', '', '101010101010101010101', '0', '11']),
  c('c_tsvector', 'tsvector', 'tsvector', ['a fat cat sat', '', "'a' 'b':1A,2B", "'it''s':3", 'x:1']),
  c('c_tsquery', 'tsquery', 'tsquery', ['fat & rat', '!cat', 'a <-> b', 'x:*', "'a b' | c"]),
  c('c_pg_lsn', 'pg_lsn', 'pg_lsn', ['0/0', 'FFFFFFFF/FFFFFFFF', '16/B374D848', '1/0', '0/1']),
  c('c_int4range', 'int4range', 'int4range', ['[1,10)', 'empty', '(,5]', '[3,)', '(,)']),
  c('c_numrange', 'numrange', 'numrange', [
    '[1.5,2.5]',
    'empty',
    '(,0.001)',
    '[-Infinity,Infinity]',
    '(1,2)',
  ]),
  c('c_tstzrange', 'tstzrange', 'tstzrange', [
    '["2024-01-01 00:00:00+02","2024-01-02 00:00:00+00")',
    'empty',
    '[-infinity,infinity]',
    '(,"2024-03-31 01:30:00+05:45"]',
    '["0044-03-15 12:00:00+00 BC",)',
  ]),
  c('c_daterange', 'daterange', 'daterange', [
    '[2024-01-01,2024-02-01)',
    'empty',
    '(,2024-01-01]',
    '[-infinity,infinity)',
    '(2024-01-01,2024-01-03)',
  ]),
  c('c_int4multirange', 'int4multirange', 'int4multirange', [
    '{[1,3),[5,7)}',
    '{}',
    '{(,)}',
    '{[1,2]}',
    '{[10,20), [30,)}',
  ]),
  c('c_tstzmultirange', 'tstzmultirange', 'tstzmultirange', [
    '{["2024-01-01 00:00+05:45","2024-01-02 00:00+00")}',
    '{}',
    '{[-infinity,"2000-01-01 00:00+00")}',
    '{empty}',
    '{(,)}',
  ]),
  c('c_point', 'point', 'point', ['(1,2)', '(-1.5,NaN)', '(1e300,-0)', '(0.1,0.2)', '(Infinity,-Infinity)']),
  c('c_line', 'line', 'line', ['{1,2,3}', '{0,-1,0.5}', '{1,0,-1e10}', '{0.1,0.2,0.3}', '{1,1,0}']),
  c('c_lseg', 'lseg', 'lseg', [
    '[(0,0),(1,1)]',
    '[(-1,-1),(0.5,0.25)]',
    '[(0,0),(0,0)]',
    '[(0.1,0.2),(0.3,0.4)]',
    '[(1e100,1),(2,3)]',
  ]),
  c('c_box', 'box', 'box', [
    '(1,1),(0,0)',
    '(0,0),(1,1)',
    '(-1,-2),(3,4)',
    '(0.1,0.2),(0.3,0.4)',
    '(0,0),(0,0)',
  ]),
  c('c_path', 'path', 'path', [
    '[(0,0),(1,1),(2,0)]',
    '((0,0),(1,1))',
    '[(0.1,0.2)]',
    '((1,2),(3,4),(5,6))',
    '[(0,0),(1e-10,1e10)]',
  ]),
  c('c_polygon', 'polygon', 'polygon', [
    '((0,0),(1,1),(1,0))',
    '((0,0))',
    '((0.1,0.2),(0.3,0.4),(0.5,0.6))',
    '((-1,-1),(1,1))',
    '((0,0),(0,1),(1,1),(1,0))',
  ]),
  c('c_circle', 'circle', 'circle', [
    '<(0,0),1.5>',
    '<(1,2),0>',
    '<(0.1,0.2),0.3>',
    '<(-1e10,1e10),1e-10>',
    '<(0,0),1>',
  ]),
  c('c_box_array', 'box[]', 'box[]', [
    '{(1,1),(0,0);(2,2),(1,1)}',
    '{}',
    '{(0.1,0.2),(0.3,0.4)}',
    '{NULL}',
    '{(3,3),(2,2)}',
  ]),
  c('c_xml', 'xml', 'xml', [
    '<a x="1">text &amp; more</a>',
    '<!-- c --><b/>',
    'plain text',
    '<?pi data?><r><![CDATA[<x>]]></r>',
    '',
  ]),
  c('c_pair', 'pair', 'text', ['(1,"a b")', '(,)', '(2,"quote""s")', '(3,)', '(-1,"")']),
  c('c_pair_array', 'pair[]', 'text[]', ['{"(1,x)","(2,)"}', '{}', '{NULL}', '{"(,)"}', '{"(3,\\"a,b\\")"}']),
  c('c_citext', 'citext', 'text', ['Hello', '', 'ÜBER', 'mIxEd', 'x']),
  c('c_citext_array', 'citext[]', 'text[]', ['{A,b}', '{}', '{NULL}', '{"a b"}', '{Z}']),
  c('c_hstore', 'hstore', 'text', ['a=>1, b=>NULL', '', '"x y"=>"z\\"q"', 'k=>""', 'a=>2']),
  c('Mixed "Case" col', 'text', 'text', ['M', 'i', 'x', 'e', 'd']),
  c('c_toast', 'text', 'text', [TOAST, 'small', TOAST.replace('x', 'y'), 'x', 'z']),
];

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const NAMES = MATRIX.map((m) => q(m.name));
const MATRIX_QUERY = textRowsQuery('public.matrix', ['id', ...NAMES], 'id');
const KEYED_COLUMNS = ['k_uuid', 'k_ts', 'k_text', 'k_num', 'v'];
const KEYED_QUERY = textRowsQuery('public.keyed', KEYED_COLUMNS, KEYED_COLUMNS.slice(0, 4).join(', '));

// The server database's defaults differ from §7.3 in every setting that changes a text output.
const SETUP = `
  CREATE EXTENSION citext;
  CREATE EXTENSION hstore;
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TYPE pair AS (a int, b text);
  CREATE DOMAIN posint AS int CHECK (VALUE > 0);
  CREATE DOMAIN posint2 AS posint;
  CREATE DOMAIN short_text AS varchar(10) CHECK (VALUE <> 'forbidden');
  CREATE DOMAIN price AS numeric(7,2);
  CREATE DOMAIN int_list AS int[];
  CREATE DOMAIN mood_d AS mood;
  CREATE TABLE matrix_src (id int PRIMARY KEY, ${MATRIX.map((m) => `${q(m.name)} ${m.type}`).join(', ')});
  CREATE TABLE matrix (LIKE matrix_src INCLUDING ALL);
  ALTER TABLE matrix ALTER COLUMN c_toast SET STORAGE EXTERNAL;
  CREATE TABLE keyed (k_uuid uuid, k_ts timestamptz, k_text text, k_num numeric, v int,
    PRIMARY KEY (k_uuid, k_ts, k_text, k_num));
  INSERT INTO keyed SELECT md5(g::text)::uuid, '2024-01-01 00:00:00+00'::timestamptz + g * interval '61.000001 minutes',
    E'k\\t' || g || E'\\n"', g / 7.0, g FROM generate_series(1, 60) g;
  DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'Asia/Kathmandu');
    EXECUTE format('ALTER DATABASE %I SET DateStyle = %L', current_database(), 'SQL, DMY');
    EXECUTE format('ALTER DATABASE %I SET IntervalStyle = %L', current_database(), 'iso_8601');
    EXECUTE format('ALTER DATABASE %I SET extra_float_digits = %L', current_database(), '-3');
    EXECUTE format('ALTER DATABASE %I SET bytea_output = %L', current_database(), 'escape');
  END $$;
`;

// The app's own session settings in PGlite: also unlike §7.3.
const ODD_LOCAL_SETTINGS = `SET TimeZone = 'America/St_Johns'; SET DateStyle = 'German';
  SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 0; SET bytea_output = 'escape'`;

let server: E2eServer;
let local: PGlite;
let client: SyncClient;
let statuses: StatusLog;

const serverRows = (query: string) => () => serverTextRows(server.sql, query);
const localRows = (query: string) => () => localTextRows(local, query);

beforeAll(async () => {
  server = await startE2eServer({
    setup: SETUP,
    scopes: [
      { table: 'public.matrix', rule: { kind: 'shared' } },
      { table: 'public.keyed', rule: { kind: 'shared' } },
    ],
  });
  const placeholders = MATRIX.map((_, i) => `$${i + 2}`).join(', ');
  for (let id = 1; id <= 6; id++) {
    await server.sql.query(`INSERT INTO matrix_src VALUES ($1, ${placeholders})`, [
      id,
      ...MATRIX.map((m) => m.values[id - 1] ?? null),
    ]);
  }
  await server.sql.query('INSERT INTO matrix SELECT * FROM matrix_src');
  local = await PGlite.create();
  await local.exec(ODD_LOCAL_SETTINGS);
}, 120_000);

afterAll(async () => {
  await client?.stop();
  await local?.close();
  await server?.close();
}, 60_000);

it('syncs every type of the matrix, NULLs included, equal to the server as Postgres text', async () => {
  // The database really has the odd defaults: a new session (as the Worker's) starts with them.
  const fresh = new pg.Client({ connectionString: server.db.url });
  await fresh.connect();
  const { rows } = await fresh.query<{ tz: string; ds: string }>(
    "SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds",
  );
  await fresh.end();
  expect(rows).toEqual([{ tz: 'Asia/Kathmandu', ds: 'SQL, DMY' }]);
  client = await createSyncClient({
    url: server.url,
    db: local,
    token: () => server.token('u1'),
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  statuses = recordStatuses(client);
  await withTimeout(client.whenLive(), 90_000, () => `the initial sync (${statuses.describe()})`);

  const theirs = await serverRows(MATRIX_QUERY)();
  expect(theirs).toHaveLength(6);
  expect(theirs[5]!.slice(1).every((v) => v === null)).toBe(true);
  const mine = await localRows(MATRIX_QUERY)();
  // Column by column, so that a difference names its column.
  for (const [i, m] of MATRIX.entries()) {
    expect(
      mine.map((r) => r[i + 1]),
      m.name,
    ).toEqual(theirs.map((r) => r[i + 1]));
  }
  expect(mine).toEqual(theirs);
  expect(await localRows(KEYED_QUERY)()).toEqual(await serverRows(KEYED_QUERY)());
  expect(await localRows(KEYED_QUERY)()).toHaveLength(60);
  // Spot checks of values whose text depends on the session (the server's database defaults say otherwise).
  const col = (name: string) => MATRIX.findIndex((m) => m.name === name) + 1;
  expect(mine[0]![col('c_timestamptz')]).toBe('2024-02-29 10:34:56.789+00');
  expect(mine[0]![col('c_tstzrange')]).toBe('["2023-12-31 22:00:00+00","2024-01-02 00:00:00+00")');
  expect(mine[1]![col('c_interval')]).toBe('-1 years -2 mons +3 days -04:05:06.789');
  expect(mine[0]![col('c_point')]).toBe('(1,2)');
  expect(mine[3]![col('c_point')]).toBe('(0.1,0.2)');
  expect(mine[0]![col('c_bytea')]).toBe('\\x0001ff');
  expect(mine[1]![col('c_int8')]).toBe('-9223372036854775808');
  expect(mine[4]![col('c_int8')]).toBe('9007199254740993');
  expect(mine[0]![col('c_toast')]).toBe(TOAST);
}, 120_000);

it('creates each local column with the type the server column has (domains as their base type)', async () => {
  const { rows } = await local.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = 'public.matrix'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  const types = Object.fromEntries(rows.map((r) => [r.name, r.type]));
  expect(types).toEqual(Object.fromEntries([['id', 'integer'], ...MATRIX.map((m) => [m.name, m.local])]));
});

it('follows live changes of every column: rotations, NULLs, inserts, deletes, key changes, unchanged TOAST', async () => {
  const before = statuses.mark();
  const assign = MATRIX.filter((m) => m.name !== 'c_toast')
    .map((m) => `${q(m.name)} = s.${q(m.name)}`)
    .join(', ');
  // Every row takes the next source row's values (row 5 becomes all NULL, row 6 all non-NULL); the TOASTed
  // column of row 1 is not changed and travels as `unchanged`.
  await server.sql.query(`UPDATE matrix m SET ${assign} FROM matrix_src s WHERE s.id = m.id % 6 + 1`);
  await server.sql.query('UPDATE matrix SET c_int4 = -7, c_text = $1 WHERE id = 1', ['only two columns']);
  await server.sql.query(
    `INSERT INTO matrix (id, ${NAMES.join(', ')}) SELECT id + 10, ${NAMES.join(', ')} FROM matrix_src WHERE id IN (1, 6)`,
  );
  await server.sql.query('DELETE FROM matrix WHERE id = 3');
  // Key changes: row 1 still has its TOASTed value, which the new tuple carries as unchanged.
  await server.sql.query('UPDATE matrix SET id = 101 WHERE id = 1');
  await server.sql.query('UPDATE matrix SET id = 102, c_mood = $1 WHERE id = 2', ['ok']);
  await server.sql.query('UPDATE matrix SET c_toast = $1 WHERE id = 11', [`new ${'q'.repeat(30_000)}`]);
  // One transaction with several changes to the same rows.
  await server.sql.query('BEGIN');
  await server.sql.query('UPDATE matrix SET c_numeric = $1 WHERE id = 4', ['-Infinity']);
  await server.sql.query('UPDATE matrix SET c_numeric = $1, c_int_array = $2 WHERE id = 4', [
    '0.5',
    '[7:8]={1,NULL}',
  ]);
  await server.sql.query('DELETE FROM matrix WHERE id = 16');
  await server.sql.query(
    `INSERT INTO matrix (id, ${NAMES.join(', ')}) SELECT 16, ${NAMES.join(', ')} FROM matrix_src WHERE id = 2`,
  );
  await server.sql.query('COMMIT');
  // The keyed table: updates, deletes and key changes with keys whose text depends on the session.
  await server.sql.query('UPDATE keyed SET v = -v WHERE v % 3 = 0');
  await server.sql.query('DELETE FROM keyed WHERE v % 5 = 0');
  await server.sql.query("UPDATE keyed SET k_ts = k_ts + interval '1 day 0.5 seconds' WHERE v % 7 = 1");
  await server.sql.query("UPDATE keyed SET k_text = k_text || ' moved', k_num = k_num * 3 WHERE v % 11 = 2");

  const finalRows = await expectConverges(localRows(MATRIX_QUERY), serverRows(MATRIX_QUERY), 60_000);
  expect(finalRows.map((r) => r[0])).toEqual(['4', '5', '6', '11', '16', '101', '102']);
  await expectConverges(localRows(KEYED_QUERY), serverRows(KEYED_QUERY), 30_000);
  // The moved row kept its TOASTed value; nothing was synced again from scratch.
  const toast = MATRIX.findIndex((m) => m.name === 'c_toast') + 1;
  expect(finalRows.find((r) => r[0] === '101')![toast]).toBe(TOAST);
  expect(statuses.states(before)).toEqual(['LIVE']);
}, 120_000);
