import { PgOid, ValueEncoding } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { type Catalog, CatalogError, type CatalogRelation, readRelations } from './catalog.ts';
import type { SqlClient } from './sql-client.ts';
import { createDriverHarness, SQL_DRIVERS } from './testing/sql-drivers.ts';

const SCHEMA_SQL = `
  CREATE SCHEMA cat;
  CREATE TYPE cat.mood AS ENUM ('sad', 'ok', 'happy');
  ALTER TYPE cat.mood ADD VALUE 'meh' BEFORE 'ok';
  CREATE DOMAIN cat.posint AS int4 CHECK (VALUE > 0);
  CREATE DOMAIN cat.small_pos AS cat.posint CHECK (VALUE < 100);
  CREATE DOMAIN cat.money2 AS numeric(12,2);
  CREATE DOMAIN cat.tags AS text[];
  CREATE DOMAIN cat.mood_d AS cat.mood;
  CREATE TABLE cat.orgs (org_id int, region text, name text NOT NULL, PRIMARY KEY (region, org_id));
  CREATE TABLE cat.teams (
    org_region text, org_id int, team_no int, PRIMARY KEY (org_id, org_region, team_no),
    CONSTRAINT teams_org_fk FOREIGN KEY (org_region, org_id) REFERENCES cat.orgs (region, org_id));
  CREATE TABLE cat.members (
    id bigint PRIMARY KEY, org_id int, org_region text, team_no int,
    score float4, weight float8, born timestamptz, seen timestamp, day date, uid uuid, blob bytea,
    nums int4[], prices numeric(5,2)[], moods cat.mood[], mood cat.mood NOT NULL, mood_d cat.mood_d,
    mood_d_arr cat.mood_d[], p cat.posint, sp cat.small_pos, sp_arr cat.small_pos[], m cat.money2,
    m_arr cat.money2[], t cat.tags, boxes box[], dropped_col int,
    total bigint GENERATED ALWAYS AS (id * 2) STORED,
    CONSTRAINT members_team_fk FOREIGN KEY (org_id, org_region, team_no)
      REFERENCES cat.teams (org_id, org_region, team_no));
  ALTER TABLE cat.members DROP COLUMN dropped_col;
  CREATE TABLE cat.cyc_a (id int PRIMARY KEY, b_id int);
  CREATE TABLE cat.cyc_b (id int PRIMARY KEY, a_id int CONSTRAINT cyc_b_a_fk REFERENCES cat.cyc_a);
  ALTER TABLE cat.cyc_a ADD CONSTRAINT cyc_a_b_fk FOREIGN KEY (b_id) REFERENCES cat.cyc_b;
  CREATE TABLE cat.nodes (id int PRIMARY KEY, parent int CONSTRAINT nodes_parent_fk REFERENCES cat.nodes);
  CREATE TABLE cat.nokey (x int);
  CREATE PUBLICATION cat_pub FOR TABLE cat.orgs (region, org_id), cat.teams, cat.members
    WITH (publish_generated_columns = stored);
  CREATE PUBLICATION cat_filtered FOR TABLE cat.orgs WHERE (region <> 'x');
`;

const t = (name: string) => ({ schema: 'cat', name });
const ALL = ['members', 'teams', 'cyc_b', 'orgs', 'nodes', 'cyc_a'].map(t);

let db: TestDatabase;
let admin: SqlClient;
const adminHarness = createDriverHarness('pg');
beforeAll(async () => {
  db = await createTestDatabase();
  admin = await adminHarness.open(db.url);
  await admin.query(SCHEMA_SQL);
});
afterAll(async () => {
  await adminHarness.close();
  await db?.drop();
});

const relation = (catalog: Catalog, name: string): CatalogRelation => {
  const found = catalog.relations.find((r) => r.name === name);
  if (!found) throw new Error(`no relation ${name}`);
  return found;
};
const column = (r: CatalogRelation, name: string) => {
  const found = r.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
};

describe.each(SQL_DRIVERS)('readRelations over %s', (driver) => {
  const drivers = createDriverHarness(driver);
  let client: SqlClient;
  let catalog: Catalog;
  let oid: Map<string, number>;
  beforeAll(async () => {
    client = await drivers.open(db.url);
    catalog = await readRelations(client, ALL);
    const { rows } = await admin.query<{ n: string; oid: string }>(
      `SELECT format_type(t.oid, NULL) AS n, t.oid FROM pg_type t WHERE t.typnamespace = 'cat'::regnamespace`,
    );
    oid = new Map(rows.map((r) => [r.n, Number(r.oid)]));
  });
  afterAll(() => drivers.close());

  it('orders tables parents-first and breaks the cycle deterministically, saying so', () => {
    const order = catalog.relations.map((r) => r.name);
    expect(order.indexOf('orgs')).toBeLessThan(order.indexOf('teams'));
    expect(order.indexOf('teams')).toBeLessThan(order.indexOf('members'));
    expect(order.indexOf('cyc_a')).toBeLessThan(order.indexOf('cyc_b'));
    expect(catalog.brokenReferences).toEqual([
      { from: t('cyc_a'), to: t('cyc_b'), constraint: 'cyc_a_b_fk' },
    ]);
    expect(relation(catalog, 'nodes').foreignKeys).toEqual([
      {
        constraint: 'nodes_parent_fk',
        columns: ['parent'],
        referenced: t('nodes'),
        referencedColumns: ['id'],
      },
    ]);
  });

  it('reads composite primary keys in key order and composite foreign keys column by column', () => {
    expect(relation(catalog, 'orgs').primaryKey).toEqual(['region', 'org_id']);
    expect(relation(catalog, 'teams').primaryKey).toEqual(['org_id', 'org_region', 'team_no']);
    expect(relation(catalog, 'teams').foreignKeys).toEqual([
      {
        constraint: 'teams_org_fk',
        columns: ['org_region', 'org_id'],
        referenced: t('orgs'),
        referencedColumns: ['region', 'org_id'],
      },
    ]);
    expect(relation(catalog, 'members').foreignKeys.map((fk) => fk.referencedColumns)).toEqual([
      ['org_id', 'org_region', 'team_no'],
    ]);
    expect(relation(catalog, 'members').replicaIdentity).toBe('d');
  });

  it('lists columns in attnum order without dropped ones, flags generated columns', () => {
    const members = relation(catalog, 'members');
    const names = members.columns.map((c) => c.name);
    expect(names).not.toContain('dropped_col');
    expect(names.slice(0, 4)).toEqual(['id', 'org_id', 'org_region', 'team_no']);
    expect(names.at(-1)).toBe('total');
    const attnums = members.columns.map((c) => c.attnum);
    expect([...attnums].sort((a, b) => a - b)).toEqual(attnums);
    expect(column(members, 'total')).toMatchObject({ generated: 'stored', published: false });
    expect(column(members, 'boxes').attnum + 2).toBe(column(members, 'total').attnum);
    expect(column(members, 'id')).toMatchObject({ generated: null, published: true, notNull: true });
  });

  it('chooses encodings and base types for built-in scalars and arrays', () => {
    const members = relation(catalog, 'members');
    const enc = (name: string) => {
      const d = column(members, name).descriptor;
      return [d.encoding, d.elementEncoding, d.baseTypeOid, d.elementTypeOid, d.typeName];
    };
    expect(enc('id')).toEqual([ValueEncoding.INT, ValueEncoding.UNSPECIFIED, PgOid.int8, 0, 'bigint']);
    expect(enc('score')).toEqual([ValueEncoding.FLOAT, ValueEncoding.UNSPECIFIED, PgOid.float4, 0, 'real']);
    expect(enc('born')[0]).toBe(ValueEncoding.TIMESTAMP);
    expect(enc('born')[2]).toBe(PgOid.timestamptz);
    expect(enc('seen')[2]).toBe(PgOid.timestamp);
    expect(enc('day')[0]).toBe(ValueEncoding.DATE);
    expect(enc('uid')[0]).toBe(ValueEncoding.UUID);
    expect(enc('blob')[0]).toBe(ValueEncoding.BYTES);
    expect(enc('nums')).toEqual([
      ValueEncoding.ARRAY,
      ValueEncoding.INT,
      PgOid.int4Array,
      PgOid.int4,
      'integer[]',
    ]);
    const prices = column(members, 'prices');
    expect(prices.descriptor).toMatchObject({
      typeName: 'numeric(5,2)[]',
      baseTypeName: 'numeric(5,2)[]',
      typeModifier: ((5 << 16) | 2) + 4,
      encoding: ValueEncoding.ARRAY,
      elementEncoding: ValueEncoding.TEXT,
    });
    // box[] prints with ';' between elements: it travels as text.
    expect(column(members, 'boxes')).toMatchObject({ elementDelimiter: ';', elementTypeOid: 603 });
    expect(column(members, 'boxes').descriptor.encoding).toBe(ValueEncoding.TEXT);
  });

  it('resolves enums, domains (also nested), domains over arrays and arrays of domains', () => {
    const members = relation(catalog, 'members');
    const labels = ['sad', 'meh', 'ok', 'happy'];
    expect(column(members, 'mood').descriptor).toEqual({
      name: 'mood',
      typeName: 'cat.mood',
      typeOid: oid.get('cat.mood'),
      typeModifier: -1,
      encoding: ValueEncoding.TEXT,
      elementEncoding: ValueEncoding.UNSPECIFIED,
      nullable: false,
      enumLabels: labels,
      baseTypeOid: oid.get('cat.mood'),
      elementTypeOid: 0,
      baseTypeName: 'cat.mood',
    });
    expect(column(members, 'moods').descriptor).toMatchObject({
      typeName: 'cat.mood[]',
      encoding: ValueEncoding.ARRAY,
      elementEncoding: ValueEncoding.TEXT,
      enumLabels: labels,
      elementTypeOid: oid.get('cat.mood'),
      nullable: true,
    });
    expect(column(members, 'mood_d').descriptor).toMatchObject({
      typeName: 'cat.mood_d',
      baseTypeName: 'cat.mood',
      baseTypeOid: oid.get('cat.mood'),
      enumLabels: labels,
    });
    expect(column(members, 'mood_d_arr').descriptor).toMatchObject({
      typeName: 'cat.mood_d[]',
      baseTypeName: 'cat.mood[]',
      baseTypeOid: oid.get('cat.mood[]'),
      elementTypeOid: oid.get('cat.mood'),
      enumLabels: labels,
      encoding: ValueEncoding.ARRAY,
    });
    for (const name of ['p', 'sp']) {
      expect(column(members, name).descriptor).toMatchObject({
        encoding: ValueEncoding.INT,
        baseTypeOid: PgOid.int4,
        baseTypeName: 'integer',
        enumLabels: [],
      });
    }
    expect(column(members, 'sp_arr').descriptor).toMatchObject({
      typeName: 'cat.small_pos[]',
      encoding: ValueEncoding.ARRAY,
      elementEncoding: ValueEncoding.INT,
      baseTypeOid: PgOid.int4Array,
      elementTypeOid: PgOid.int4,
      baseTypeName: 'integer[]',
    });
    expect(column(members, 'm').descriptor).toMatchObject({
      typeName: 'cat.money2',
      baseTypeOid: PgOid.numeric,
      baseTypeName: 'numeric(12,2)',
    });
    expect(column(members, 'm_arr').descriptor).toMatchObject({
      baseTypeOid: PgOid.numericArray,
      baseTypeName: 'numeric(12,2)[]',
      elementTypeOid: PgOid.numeric,
    });
    expect(column(members, 't').descriptor).toMatchObject({
      typeName: 'cat.tags',
      encoding: ValueEncoding.ARRAY,
      elementEncoding: ValueEncoding.TEXT,
      baseTypeOid: PgOid.textArray,
      elementTypeOid: PgOid.text,
      baseTypeName: 'text[]',
    });
  });

  it('reads the tables of a publication with its column list and generated-column setting', async () => {
    const published = await readRelations(client, { publication: 'cat_pub' });
    expect(published.relations.map((r) => r.name)).toEqual(['orgs', 'teams', 'members']);
    const orgs = relation(published, 'orgs');
    expect(orgs.columns.map((c) => [c.name, c.published])).toEqual([
      ['org_id', true],
      ['region', true],
      ['name', false],
    ]);
    expect(column(relation(published, 'members'), 'total').published).toBe(true);
  });

  it('refuses tables without a primary key, missing tables, row-filtered publications', async () => {
    await expect(readRelations(client, [t('orgs'), t('nokey')])).rejects.toThrow(
      /without a primary key.*cat\.nokey/,
    );
    await expect(readRelations(client, [t('orgs'), t('missing')])).rejects.toThrow(/not found: cat\.missing/);
    await expect(readRelations(client, { publication: 'cat_filtered' })).rejects.toThrow(/row filter/);
    await expect(readRelations(client, { publication: 'no_such_pub' })).rejects.toBeInstanceOf(CatalogError);
    expect(await readRelations(client, [])).toEqual({ relations: [], brokenReferences: [] });
  });

  it('reads inside the caller transaction and restores its search_path', async () => {
    await client.query('BEGIN');
    await client.query("SELECT set_config('search_path', 'cat, public', true)");
    const inside = await readRelations(client, [t('orgs')], { inTransaction: true });
    expect(column(relation(inside, 'orgs'), 'region').typeName).toBe('text');
    const { rows } = await client.query("SELECT current_setting('search_path') AS p");
    await client.query('COMMIT');
    expect(rows).toEqual([{ p: 'cat, public' }]);
  });
});
