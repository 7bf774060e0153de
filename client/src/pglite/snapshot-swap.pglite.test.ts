/**
 * The two ways a staged snapshot replaces a synced table (docs/protocol.md §6.4) in a real PGlite: a plain table
 * is replaced by its staging table, and a table with anything attached (a view, an index, a trigger, a foreign
 * key, a comment) gets the rows copied in and keeps what is attached. Both end with the same rows, the same
 * columns and the same primary key, and a duplicate key rolls either back completely.
 */

import type { PGlite } from '@electric-sql/pglite';
import { ErrorCode, type Relation, SyncError, ValueEncoding } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireRows } from '../core/testing/server-frames.ts';
import type { SyncStore } from './sync-store.ts';
import { appliedLsn, col, freshPGlite, openStore, relation, rowsOf } from './testing/pglite.ts';

let db: PGlite;
let store: SyncStore;
beforeAll(async () => {
  db = await freshPGlite();
  store = await openStore(db);
});
afterAll(() => db.close());

const table = (id: number, name: string) =>
  relation(id, name, [
    col('id', 'bigint', ValueEncoding.INT, { nullable: false, baseTypeOid: 20 }),
    col('v', 'text', ValueEncoding.TEXT, { baseTypeOid: 25 }),
    col('n', 'integer', ValueEncoding.INT, { nullable: false, baseTypeOid: 23 }),
  ]);

let lsn = 0x100n;
/** One snapshot of `tables`, each with `count` rows (ids from 1) tagged `tag`, in 1 000-row chunks. */
async function snapshot(tables: readonly Relation[], count: number, tag: string, duplicate = false) {
  const id = `s${++lsn}`;
  await store.apply({ kind: 'snapshot-begin', snapshotId: id });
  for (const rel of tables) {
    for (let from = 1; from <= count; from += 1000) {
      const text = Array.from({ length: Math.min(1000, count - from + 1) }, (_, i) => [
        String(from + i),
        `${tag} ${from + i}`,
        String(from + i),
      ]);
      if (duplicate && from === 1) text.push(['1', 'again', '1']);
      await store.apply({
        kind: 'snapshot-chunks',
        snapshotId: id,
        chunks: [{ relation: rel, rows: wireRows(rel, text) }],
        cursor: new TextEncoder().encode(`${rel.name}:${from}`),
      });
    }
  }
  await store.apply({
    kind: 'snapshot-commit',
    snapshotId: id,
    lsn,
    tables: [...tables],
    rowCounts: tables.map(() => BigInt(count + (duplicate ? 1 : 0))),
  });
}

const oidOf = async (name: string) =>
  (await db.query<{ oid: string }>('SELECT $1::regclass::oid::text AS oid', [name])).rows[0]!.oid;
/** Columns (name, type, NOT NULL) and the primary key (name, definition) as the catalog has them. */
async function shapeOf(name: string) {
  const { rows: columns } = await db.query<{ c: string }>(
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [name],
  );
  const { rows: key } = await db.query<{ k: string }>(
    `SELECT conname || ' ' || pg_get_constraintdef(oid) AS k FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`,
    [name],
  );
  const { rows: indexes } = await db.query<{ i: string }>(
    'SELECT indexrelid::regclass::text AS i FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1',
    [name],
  );
  return { columns: columns.map((r) => r.c), key: key.map((r) => r.k), indexes: indexes.map((r) => r.i) };
}
const summary = async (name: string) => {
  const all = await rowsOf(db, 'public', name, ['id', 'v', 'n']);
  return { count: all.length, first: all[0], last: all.at(-1) };
};

describe('snapshot swap', () => {
  it('replaces a plain table by its staging table, keeping its columns, key and upserts', async () => {
    const plain = table(1, 'plain');
    await snapshot([plain], 10, 'one');
    const before = { oid: await oidOf('public.plain'), shape: await shapeOf('public.plain') };
    expect(before.shape).toEqual({
      columns: ['id bigint not null', 'v text', 'n integer not null'],
      key: ['plain_pkey PRIMARY KEY (id)'],
      indexes: ['plain_pkey'],
    });
    await snapshot([plain], 2500, 'two');
    expect(await oidOf('public.plain')).not.toBe(before.oid); // a new table: the staging one
    expect(await shapeOf('public.plain')).toEqual(before.shape);
    expect(await summary('plain')).toEqual({
      count: 2500,
      first: { id: '1', v: 'two 1', n: '1' },
      last: { id: '2500', v: 'two 2500', n: '2500' },
    });
    // Live changes upsert on the primary key.
    await store.apply({
      kind: 'transactions',
      transactions: [
        { commitLsn: ++lsn, changes: [{ op: 'insert', relation: plain, row: ['7', 'live', '7'] }] },
      ],
      lsn,
    });
    expect((await rowsOf(db, 'public', 'plain', ['id', 'v'])).find((r) => r.id === '7')).toEqual({
      id: '7',
      v: 'live',
    });
    expect(await db.query("SELECT 1 FROM pg_namespace WHERE nspname = '_vibestack_staging'")).toMatchObject({
      rows: [{ '?column?': 1 }],
    });
    expect((await db.query("SELECT 1 FROM pg_tables WHERE schemaname = '_vibestack_staging'")).rows).toEqual(
      [],
    );
  });

  it('copies into a table with a view, an index, a trigger and a comment, and keeps all of them', async () => {
    const dressed = table(2, 'dressed');
    await snapshot([dressed], 5, 'one');
    await db.exec(`
      CREATE VIEW dressed_view AS SELECT id, v FROM dressed WHERE n % 2 = 0;
      CREATE INDEX dressed_v ON dressed (v);
      COMMENT ON TABLE dressed IS 'the app''s notes';
      CREATE TABLE dressed_log (n bigint);
      CREATE FUNCTION dressed_count() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN INSERT INTO dressed_log SELECT count(*) FROM dressed; RETURN NULL; END $$;
      CREATE TRIGGER dressed_after AFTER INSERT ON dressed FOR EACH STATEMENT EXECUTE FUNCTION dressed_count();`);
    const before = { oid: await oidOf('public.dressed'), shape: await shapeOf('public.dressed') };
    // 6 000 rows: enough for the primary key to be dropped and rebuilt around the copy.
    await snapshot([dressed], 6000, 'two');
    expect(await oidOf('public.dressed')).toBe(before.oid);
    expect(await shapeOf('public.dressed')).toEqual(before.shape);
    expect(before.shape.indexes).toEqual(['dressed_pkey', 'dressed_v']);
    expect(await summary('dressed')).toMatchObject({ count: 6000, last: { v: 'two 6000' } });
    const { rows: view } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dressed_view');
    expect(view[0]!.n).toBe(3000);
    const { rows: log } = await db.query<{ n: string }>('SELECT n::text FROM dressed_log');
    expect(log.map((r) => r.n)).toEqual(['6000']); // the trigger ran once, after the swap's insert
    const { rows: comment } = await db.query<{ d: string }>(
      "SELECT obj_description('dressed'::regclass) AS d",
    );
    expect(comment[0]!.d).toBe("the app's notes");
  });

  it('keeps the primary key in place while another table references it', async () => {
    const parent = table(3, 'parent');
    await snapshot([parent], 5, 'one');
    await db.exec('CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id))');
    const before = await oidOf('public.parent');
    await snapshot([parent], 6000, 'two');
    expect(await oidOf('public.parent')).toBe(before);
    expect((await shapeOf('public.parent')).key).toEqual(['parent_pkey PRIMARY KEY (id)']);
    await db.exec('INSERT INTO child VALUES (1, 5999)');
    await expect(db.exec('INSERT INTO child VALUES (2, 6001)')).rejects.toThrow(/foreign key/);
    await db.exec('DROP TABLE child');
  });

  it('rolls either swap back completely on a duplicate key, keeping the synced rows and LSN', async () => {
    const plain = table(1, 'plain');
    const dressed = table(2, 'dressed');
    for (const rel of [plain, dressed]) {
      await snapshot([plain, dressed], 6000, 'good');
      const before = { rows: await summary(rel.name), oid: await oidOf(`public.${rel.name}`) };
      const lsnBefore = await appliedLsn(db);
      const error = await snapshot([rel], 6000, 'bad', true).catch((e: unknown) => e);
      expect(error, rel.name).toBeInstanceOf(Error);
      expect(await summary(rel.name)).toEqual(before.rows);
      expect(await oidOf(`public.${rel.name}`)).toBe(before.oid);
      expect(await appliedLsn(db)).toBe(lsnBefore);
    }
  });

  it('refuses a staged row count that differs from the server’s before touching anything', async () => {
    const plain = table(1, 'plain');
    const before = await summary('plain');
    await store.apply({ kind: 'snapshot-begin', snapshotId: 'short' });
    await store.apply({
      kind: 'snapshot-chunks',
      snapshotId: 'short',
      chunks: [{ relation: plain, rows: wireRows(plain, [['1', 'x', '1']]) }],
      cursor: new Uint8Array([1]),
    });
    const error = await store
      .apply({ kind: 'snapshot-commit', snapshotId: 'short', lsn: ++lsn, tables: [plain], rowCounts: [2n] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe(ErrorCode.INTERNAL);
    expect(await summary('plain')).toEqual(before);
  });
});
