import { mkdirSync, writeFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNCHANGED_DATUM } from '../change.ts';
import { RECORD_FIXTURES_ENV } from './constants.ts';
import { createPgoutputDecoder } from './decoder.ts';
import { bytesToHex, type FixtureFile, type FixtureMessage, toJson } from './fixture-json.ts';
import type {
  InsertMessage,
  PgoutputMessage,
  RelationMessage,
  TypeMessage,
  UpdateMessage,
} from './messages.ts';

// Real Postgres (embedded, wal_level=logical): real pgoutput bytes for every message type, decoded and checked
// against what Postgres itself says about the same rows. With VIBESTACK_RECORD_PGOUTPUT_FIXTURES=1 it also
// rewrites fixtures/*.json, which decoder-fixtures.test.ts replays without Postgres; then run
// `npx biome format --write server/src/core/pgoutput/fixtures` (biome owns the JSON layout).

const SLOT = 'vs_pgoutput_decoder';
const PUBLICATION = 'vs_pgoutput_decoder_pub';
const V1 = ['proto_version', '1'];
const V2_STREAMING = ['proto_version', '2', 'streaming', 'on'];
const RECORD = process.env[RECORD_FIXTURES_ENV] === '1';
const FIXTURES_DIR = new URL('./fixtures/', import.meta.url);

// The type matrix, one line per column: name, SQL type, and the SQL input literal of rows 1–5 (null = NULL).
const MATRIX: readonly (readonly [string, string, readonly (string | null)[]])[] = [
  ['c_int2', 'int2', ['1', '-32768', '32767', '0', null]],
  ['c_int4', 'int4', ['2', '-2147483648', '2147483647', '0', null]],
  ['c_int8', 'int8', ['3', '-9223372036854775808', '9223372036854775807', '0', null]],
  [
    'c_numeric',
    'numeric',
    ['3.14', 'NaN', '1234567890123456789012345678901234567890.0123456789', 'Infinity', '-Infinity'],
  ],
  ['c_numeric_12_2', 'numeric(12,2)', ['12.50', '-9999999999.99', '0.00', '-0.01', null]],
  ['c_float4', 'float4', ['1.5', 'NaN', '-Infinity', '1e-45', '-Infinity']],
  ['c_float8', 'float8', ['2.25', 'NaN', 'Infinity', '-0', '1.7976931348623157e308']],
  ['c_bool', 'bool', ['true', 'false', 'true', 'false', null]],
  ['c_text', 'text', ['hello', 'multi\nline \\ "q" \'s\' \t 🎉 ünïcödé \u0001', 'x'.repeat(500), '', null]],
  ['c_varchar', 'varchar(20)', ['v', '', 'ü', 'x', null]],
  ['c_bpchar', 'char(5)', ['ab', 'a', 'abcde', '     ', null]],
  ['c_bytea', 'bytea', ['\\x0001ff', '\\x', '\\xdeadbeef', '\\x00', null]],
  [
    'c_uuid',
    'uuid',
    [
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      null,
      null,
    ],
  ],
  ['c_date', 'date', ['2024-02-29', '4713-01-01 BC', '0044-03-15 BC', 'infinity', null]],
  [
    'c_timestamp',
    'timestamp',
    ['2024-02-29 12:34:56.789', 'infinity', '2000-01-01 00:00:00.000001', '-infinity', null],
  ],
  [
    'c_timestamptz',
    'timestamptz',
    ['2024-02-29 12:34:56.789+02', '-infinity', '0044-03-15 12:00:00+00 BC', 'infinity', null],
  ],
  ['c_time', 'time', ['23:59:59.999999', '00:00', '24:00:00', '00:00:00.000001', null]],
  [
    'c_interval',
    'interval',
    ['1 day 02:03:04', '-1 years -2 mons +3 days -04:05:06.789', '178000000 years', '0', null],
  ],
  ['c_json', 'json', ['{"a": [1, 2.50, null],  "b" : "x"}', '[]', '"just a string"', 'null', null]],
  ['c_jsonb', 'jsonb', ['{"b": 1, "a": [true, null]}', '{}', '[1, "two", {"three": 3.0}]', 'null', null]],
  [
    'c_text_array',
    'text[]',
    ['{a,b}', '{NULL,"a,b","","\\"q\\"","NULL"}', '{}', '{{"a b",NULL},{"}",","}}', null],
  ],
  ['c_int_array', 'int[]', ['{1,2,3}', '{{1,2},{3,NULL}}', '[0:1]={7,8}', '{{{1}},{{2}}}', null]],
  ['c_mood', 'mood', ['happy', 'sad', 'ok', null, null]],
  ['c_inet', 'inet', ['192.168.0.1/24', '::1/128', '10.0.0.1', '2001:db8::/32', null]],
];
const MATRIX_ROWS = [1, 2, 3, 4, 5].map((id) => [
  String(id),
  ...MATRIX.map(([, , values]) => values[id - 1] ?? null),
]);

interface Recorded {
  readonly data: Uint8Array;
  readonly inStream: boolean;
  readonly message: PgoutputMessage;
}

let db: TestDatabase;
let client: pg.Client;
let writer: pg.Client;

/** Reads (peek, then advance) everything committed so far, decoded in session order. */
async function readSlot(protocol: readonly string[], extra: readonly string[] = []): Promise<Recorded[]> {
  // The flush LSN, not pg_current_wal_lsn(): peek decodes and slot_advance moves only up to the flushed WAL, so
  // an upto beyond it could let the advance skip transactions flushed between the two calls.
  const upto = (await client.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn'))
    .rows[0]!.lsn;
  const options = [...protocol, 'publication_names', PUBLICATION, 'messages', 'true', ...extra];
  const placeholders = options.map((_, i) => `$${i + 3}`).join(', ');
  const { rows } = await client.query<{ data: Buffer }>(
    `SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, NULL, ${placeholders})`,
    [SLOT, upto, ...options],
  );
  await client.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [SLOT, upto]);
  const decoder = createPgoutputDecoder();
  return rows.map(({ data }) => {
    const inStream = decoder.inStream;
    return { data, inStream, message: decoder.decode(data) };
  });
}

const ofType = <T extends PgoutputMessage['type']>(recorded: readonly Recorded[], type: T) =>
  recorded.map((r) => r.message).filter((m): m is Extract<PgoutputMessage, { type: T }> => m.type === type);

function writeFixture(
  name: string,
  description: string,
  options: readonly string[],
  recorded: readonly Recorded[],
) {
  if (!RECORD) return;
  const messages: FixtureMessage[] = recorded.map((r) => ({
    inStream: r.inStream,
    hex: bytesToHex(r.data),
    expected: toJson(r.message),
  }));
  const counts: Record<string, number> = {};
  for (const r of recorded) counts[r.message.type] = (counts[r.message.type] ?? 0) + 1;
  const bytes = recorded.reduce((sum, r) => sum + r.data.length, 0);
  const file: FixtureFile = { description, options, messages, summary: { bytes, counts } };
  mkdirSync(FIXTURES_DIR, { recursive: true });
  writeFileSync(new URL(`${name}.json`, FIXTURES_DIR), `${JSON.stringify(file, null, 2)}\n`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  writer = new pg.Client({ connectionString: db.url });
  await client.connect();
  await writer.connect();
  await client.query(`
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE matrix (id int PRIMARY KEY, ${MATRIX.map(([name, type]) => `${name} ${type}`).join(', ')});
    CREATE TABLE kv (k text PRIMARY KEY, v text);
    CREATE TABLE full_rows (a int, b text);
    ALTER TABLE full_rows REPLICA IDENTITY FULL;
    CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
    ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
    CREATE TABLE big (id int PRIMARY KEY, pad text);
    CREATE PUBLICATION ${PUBLICATION} FOR ALL TABLES;
  `);
  await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [SLOT]);
});

afterAll(async () => {
  await writer?.end();
  await client?.end();
  await db?.drop();
});

describe('pgoutput decoder against real Postgres', () => {
  it('type matrix: Relation columns match pg_attribute; Insert values equal Postgres output text', async () => {
    const placeholders = MATRIX_ROWS[0]!.map((_, i) => `$${i + 1}`).join(', ');
    await writer.query('BEGIN');
    for (const row of MATRIX_ROWS)
      await writer.query(`INSERT INTO matrix VALUES (${placeholders})`, [...row]);
    await writer.query('COMMIT');

    const recorded = await readSlot(V1);
    writeFixture(
      'type-matrix',
      'v1: one transaction inserting the type-matrix rows (enum Type message)',
      V1,
      recorded,
    );
    expect(recorded.map((r) => r.message.type)).toEqual([
      'begin',
      'type',
      'relation',
      ...MATRIX_ROWS.map(() => 'insert'),
      'commit',
    ]);

    const [type] = ofType(recorded, 'type') as TypeMessage[];
    const moodOid = (await client.query<{ oid: number }>("SELECT 'mood'::regtype::oid AS oid")).rows[0]!.oid;
    expect(type).toEqual({ type: 'type', typeOid: moodOid, namespace: 'public', name: 'mood' });

    const [relation] = ofType(recorded, 'relation') as RelationMessage[];
    const attributes = await client.query<{
      attname: string;
      atttypid: number;
      atttypmod: number;
      key: boolean;
    }>(
      `SELECT attname, atttypid::int AS atttypid, atttypmod, attname = 'id' AS key FROM pg_attribute
        WHERE attrelid = 'matrix'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(relation).toMatchObject({ namespace: 'public', name: 'matrix', replicaIdentity: 'd' });
    expect(relation!.relationOid).toBe(
      (await client.query<{ oid: number }>("SELECT 'matrix'::regclass::oid::int AS oid")).rows[0]!.oid,
    );
    expect(relation!.columns).toEqual(
      attributes.rows.map((a) => ({
        flags: a.key ? 1 : 0,
        isKey: a.key,
        name: a.attname,
        typeOid: a.atttypid,
        typeModifier: a.atttypmod,
      })),
    );

    // What Postgres prints for the same rows, in the same session (same DateStyle, TimeZone, extra_float_digits):
    // the output function (raw text, no driver parsing) and `col::text`.
    const raw = await client.query<string[]>({
      text: 'SELECT * FROM matrix ORDER BY id',
      rowMode: 'array',
      types: { getTypeParser: () => (value: string) => value },
    });
    const columns = relation!.columns.map((c) => c.name);
    const cast = await client.query<(string | null)[]>({
      text: `SELECT ${columns.map((c) => `${c}::text`).join(', ')} FROM matrix ORDER BY id`,
      rowMode: 'array',
    });
    const decoded = (ofType(recorded, 'insert') as InsertMessage[]).map((m) => m.newTuple);
    expect(decoded).toEqual(raw.rows);
    // `::text` differs from the output function for exactly three types here: char(n) (`::text` trims the
    // padding), bool (`::text` spells 'true', the output function 't') and inet (`::text` always adds the mask).
    const bpchar = columns.indexOf('c_bpchar');
    const bool = columns.indexOf('c_bool');
    const inet = columns.indexOf('c_inet');
    const comparable = (row: readonly unknown[]) =>
      row.filter((_, c) => c !== bpchar && c !== bool && c !== inet);
    expect(decoded.map(comparable)).toEqual(cast.rows.map(comparable));
    expect([decoded[0]![bpchar], cast.rows[0]![bpchar]]).toEqual(['ab   ', 'ab']);
    expect([decoded[0]![bool], cast.rows[0]![bool]]).toEqual(['t', 'true']);
    expect([decoded[2]![inet], cast.rows[2]![inet]]).toEqual(['10.0.0.1', '10.0.0.1/32']);
    // Spot checks of the awkward values, as Postgres prints them.
    const row = (id: number) => decoded[id - 1]!;
    const col = (name: string) => columns.indexOf(name);
    expect(row(1)[col('c_json')]).toBe('{"a": [1, 2.50, null],  "b" : "x"}');
    expect(row(2)[col('c_numeric')]).toBe('NaN');
    expect(row(2)[col('c_text_array')]).toBe('{NULL,"a,b","","\\"q\\"","NULL"}');
    expect(row(2)[col('c_int_array')]).toBe('{{1,2},{3,NULL}}');
    expect(row(2)[col('c_timestamptz')]).toBe('-infinity');
    expect(row(3)[col('c_numeric')]).toBe('1234567890123456789012345678901234567890.0123456789');
    expect(row(3)[col('c_int_array')]).toBe('[0:1]={7,8}');
    expect(row(3)[col('c_date')]).toBe('0044-03-15 BC');
    expect(row(4)[col('c_numeric')]).toBe('Infinity');
    expect(row(4)[col('c_bpchar')]).toBe('     ');
    expect(row(5)[col('c_float4')]).toBe('-Infinity');
    expect(
      row(5)
        .slice(1)
        .filter((v) => v !== null),
    ).toHaveLength(3);
  });

  it("binary mode sends 'b' values (kept as bytes)", async () => {
    await writer.query("INSERT INTO kv VALUES ('bin', 'x')");
    await writer.query('INSERT INTO matrix (id, c_int4) VALUES (100, 258)');
    const recorded = await readSlot(V1, ['binary', 'true']);
    const inserts = ofType(recorded, 'insert') as InsertMessage[];
    expect(inserts[0]!.newTuple).toEqual([new TextEncoder().encode('bin'), new TextEncoder().encode('x')]);
    expect(inserts[1]!.newTuple[2]).toEqual(Uint8Array.of(0, 0, 1, 2));
    await writer.query('DELETE FROM matrix WHERE id = 100');
    await readSlot(V1);
  });

  it("Update 'K' (key change) and plain, 'O' (REPLICA IDENTITY FULL), Delete, Truncate, Message, Origin-free", async () => {
    await writer.query(`
      INSERT INTO kv VALUES ('a', '1'), ('b', '2');
      INSERT INTO full_rows VALUES (1, 'one');
      INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);
    `);
    await writer.query(`
      BEGIN;
      UPDATE kv SET k = 'c' WHERE k = 'a';
      UPDATE kv SET v = '22' WHERE k = 'b';
      UPDATE full_rows SET b = 'uno';
      SELECT pg_logical_emit_message(true, 'vs/test', '\\x0102'::bytea);
      DELETE FROM kv WHERE k = 'b';
      DELETE FROM full_rows;
      COMMIT;
    `);
    await writer.query("SELECT pg_logical_emit_message(false, 'vs/loose', 'hi')");
    await writer.query('TRUNCATE kv, full_rows RESTART IDENTITY');
    await writer.query('TRUNCATE parent CASCADE');
    const recorded = await readSlot(V1);
    writeFixture('changes', 'v1: K/O updates, deletes, truncates (cascade), logical messages', V1, recorded);

    const relations = new Map(
      (ofType(recorded, 'relation') as RelationMessage[]).map((r) => [r.name, r.relationOid] as const),
    );
    const [keyChange, plain, full] = ofType(recorded, 'update') as UpdateMessage[];
    expect(keyChange).toEqual({
      type: 'update',
      relationOid: relations.get('kv'),
      old: { kind: 'key', tuple: ['a', null] },
      newTuple: ['c', '1'],
    });
    expect(plain).toEqual({ type: 'update', relationOid: relations.get('kv'), newTuple: ['b', '22'] });
    expect(full).toMatchObject({ old: { kind: 'full', tuple: ['1', 'one'] }, newTuple: ['1', 'uno'] });
    expect(ofType(recorded, 'delete').map((d) => d.old)).toEqual([
      { kind: 'key', tuple: ['b', null] },
      { kind: 'full', tuple: ['1', 'uno'] },
    ]);
    const messages = ofType(recorded, 'message');
    expect(messages.map((m) => [m.transactional, m.prefix, Array.from(m.content)])).toEqual([
      [true, 'vs/test', [1, 2]],
      [false, 'vs/loose', [0x68, 0x69]],
    ]);
    const truncates = ofType(recorded, 'truncate');
    expect(truncates.map((t) => [t.cascade, t.restartIdentity, t.relationOids.length])).toEqual([
      [false, true, 2],
      [true, false, 2],
    ]);
    expect(new Set(truncates[0]!.relationOids)).toEqual(
      new Set([relations.get('kv'), relations.get('full_rows')]),
    );
    expect(new Set(truncates[1]!.relationOids)).toEqual(
      new Set([relations.get('parent'), relations.get('child')]),
    );
    // Begin/Commit pair up with equal LSNs.
    const begins = ofType(recorded, 'begin');
    const commits = ofType(recorded, 'commit');
    expect(commits.map((c) => c.commitLsn)).toEqual(begins.map((b) => b.finalLsn));
    for (const c of commits) expect(c.endLsn).toBeGreaterThan(c.commitLsn);
    const nowUs = BigInt(Date.now()) * 1000n;
    for (const b of begins) expect(nowUs - b.commitTimeUs).toBeLessThan(60_000_000n);
  });

  it("an unchanged TOAST value is sent as 'u'; a changed one in full", async () => {
    await writer.query(
      "INSERT INTO docs SELECT 1, 't', string_agg(md5(random()::text || g), '') FROM generate_series(1, 3200) g",
    );
    await writer.query("UPDATE docs SET title = 'untouched body'");
    await writer.query("UPDATE docs SET body = body || 'z', title = 'touched body'");
    const body = (await client.query<{ body: string }>('SELECT body FROM docs')).rows[0]!.body;
    const recorded = await readSlot(V1);
    const [insert] = ofType(recorded, 'insert');
    const [untouched, touched] = ofType(recorded, 'update');
    expect((insert!.newTuple[2] as string).length).toBe(102_400);
    expect(untouched!.newTuple).toEqual(['1', 'untouched body', UNCHANGED_DATUM]);
    expect(touched!.newTuple).toEqual(['1', 'touched body', body]);
    expect(body.length).toBe(102_401);
    writeFixture(
      'toast',
      "v1: an update that leaves an external TOAST value alone ('u'); the 100 kB insert and rewrite are left out",
      V1,
      recorded.filter((r) => r.data.length < 4096),
    );
  });

  it('protocol v2 streaming: a large transaction arrives in stream blocks with xids, then Stream Commit', async () => {
    await writer.query('BEGIN');
    const xid = Number(
      BigInt((await writer.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x) &
        0xffff_ffffn,
    );
    await writer.query("INSERT INTO big SELECT g, repeat('p', 200) FROM generate_series(1, 3000) g");
    await writer.query('COMMIT');
    // logical_decoding_work_mem applies in the *decoding* session (the one calling peek), not the writer's.
    await client.query("SET logical_decoding_work_mem = '64kB'");
    const recorded = await readSlot(V2_STREAMING);
    await client.query('RESET logical_decoding_work_mem');

    const types = recorded.map((r) => r.message.type);
    expect(types).not.toContain('begin');
    const starts = ofType(recorded, 'stream-start');
    expect(starts.length).toBeGreaterThan(1);
    expect(starts.map((s) => [s.xid, s.firstSegment])).toEqual(starts.map((_, i) => [xid, i === 0]));
    expect(types.filter((t) => t === 'stream-stop')).toHaveLength(starts.length);
    expect(ofType(recorded, 'stream-commit')).toMatchObject([{ xid }]);
    const inserts = ofType(recorded, 'insert');
    expect(inserts).toHaveLength(3000);
    for (const insert of inserts) expect(insert.xid).toBe(xid);
    expect(inserts.map((i) => Number(i.newTuple[0]))).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(recorded.filter((r) => r.inStream).length).toBe(recorded.length - starts.length - 1);

    // A small sample for the fixture: every control message plus the first two data messages of each block.
    let inBlock = 0;
    const sample = recorded.filter((r) => {
      if (!r.inStream || r.message.type === 'stream-stop') {
        inBlock = 0;
        return true;
      }
      return ++inBlock <= 2;
    });
    writeFixture(
      'stream-v2',
      'v2 streaming: a 3000-row transaction in stream blocks (sampled)',
      V2_STREAMING,
      sample,
    );
  });
});
