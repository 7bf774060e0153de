/**
 * Reads the shape of the synced tables from the Postgres catalog: columns with their types resolved (domains,
 * arrays, enums) and wire encodings chosen, primary keys, foreign keys inside the set, and the parents-first order
 * an initial sync sends tables in. Everything a SyncDO needs to build `Relation` descriptors.
 */

import { type Column, ValueEncoding, type ValueType, valueTypeOfPgType } from '@vibestack/proto';
import { orderByForeignKeys, type TableReference } from '../core/fk-order.ts';
import { formatTypes, oidArray, readEnumLabels, readTypes, resolveColumn, typeInfo } from './column-types.ts';
import { pgBool, pgInt } from './pg-text.ts';
import { type TableName, tableLabel } from './quote.ts';
import type { SqlClient } from './sql-client.ts';

/** The fields of a `vibestack.sync.v1.Column` descriptor (pass to `create(ColumnSchema, …)`). */
export type ColumnDescriptor = Pick<
  Column,
  | 'name'
  | 'typeName'
  | 'typeOid'
  | 'typeModifier'
  | 'encoding'
  | 'elementEncoding'
  | 'nullable'
  | 'enumLabels'
  | 'baseTypeOid'
  | 'elementTypeOid'
  | 'baseTypeName'
>;

/** One column of a table (dropped columns are never listed). */
export interface CatalogColumn {
  readonly name: string;
  /** `pg_attribute.attnum` (gaps where columns were dropped). */
  readonly attnum: number;
  readonly typeOid: number;
  /** `atttypmod`, -1 when none. */
  readonly typeModifier: number;
  /** `format_type(atttypid, atttypmod)`, schema-qualified outside `pg_catalog` (e.g. `public.mood[]`). */
  readonly typeName: string;
  readonly notNull: boolean;
  /** `typeOid` with domains resolved; for arrays of domains, the array type of the resolved element. */
  readonly baseTypeOid: number;
  /** `format_type` of the base type, array suffix kept. Equal to `typeName` when no domain is involved. */
  readonly baseTypeName: string;
  /** For arrays: the element type with domains resolved; 0 otherwise. */
  readonly elementTypeOid: number;
  /** For arrays: `typdelim` of the element type; `null` otherwise. */
  readonly elementDelimiter: string | null;
  /** For enums and arrays of enums (domains resolved): the labels in sort order. */
  readonly enumLabels: readonly string[];
  /** Generated column kind (`GENERATED ALWAYS AS … STORED` / `VIRTUAL`), `null` for ordinary columns. */
  readonly generated: 'stored' | 'virtual' | null;
  /**
   * Whether pgoutput sends this column: false for generated columns (unless the publication publishes stored
   * ones) and for columns left out of a publication column list.
   */
  readonly published: boolean;
  /** The wire type chosen by `valueTypeOfPgType`. */
  readonly valueType: ValueType;
  /** The `Column` descriptor for `Relation` messages. */
  readonly descriptor: ColumnDescriptor;
}

/** A foreign key to another table of the set. */
export interface CatalogForeignKey {
  readonly constraint: string;
  /** Referencing columns, in key order. */
  readonly columns: readonly string[];
  readonly referenced: TableName;
  /** Referenced columns, in the order of `columns`. */
  readonly referencedColumns: readonly string[];
}

/** One synced table. */
export interface CatalogRelation extends TableName {
  /** `pg_class.oid`. */
  readonly relationOid: number;
  /** `relreplident`: `d` default (primary key), `n` nothing, `f` full, `i` index. */
  readonly replicaIdentity: 'd' | 'n' | 'f' | 'i';
  /** Columns in `attnum` order. */
  readonly columns: readonly CatalogColumn[];
  /** Primary-key column names in key order (never empty). */
  readonly primaryKey: readonly string[];
  /** Foreign keys to tables of the set (self-references included). */
  readonly foreignKeys: readonly CatalogForeignKey[];
}

/** What {@link readRelations} returns. */
export interface Catalog {
  /** Tables parents-first (foreign-key order); see `brokenReferences` for cycles. */
  readonly relations: readonly CatalogRelation[];
  /** References ignored to order tables that reference each other in a cycle. Empty without cycles. */
  readonly brokenReferences: readonly TableReference[];
}

/** Which tables {@link readRelations} describes: a list, or every table a publication publishes. */
export type RelationSource = readonly TableName[] | { readonly publication: string };

/** Options of {@link readRelations}. */
export interface ReadRelationsOptions {
  /**
   * The client is inside a transaction already (e.g. a snapshot reader's), so the catalog is read in that
   * transaction's snapshot instead of a new one. Default false.
   */
  readonly inTransaction?: boolean;
}

/** A table without a primary key, a missing table, a row filter or an unsupported relation kind. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

interface TableRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  relreplident: string;
  attnames: string | null;
  rowfilter: string | null;
  pubgencols: string | null;
}

interface ColumnRow {
  attrelid: string;
  attnum: string;
  attname: string;
  atttypid: string;
  atttypmod: string;
  type_name: string;
  attnotnull: string;
  attgenerated: string;
}

interface ConstraintRow {
  conrelid: string;
  contype: string;
  conname: string;
  confrelid: string;
  attname: string;
  ref_attname: string | null;
}

const TABLE_COLUMNS = `c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relreplident`;

async function readTables(client: SqlClient, source: RelationSource): Promise<TableRow[]> {
  if ('publication' in source) {
    const exists = await client.query(
      'SELECT to_jsonb(p) ->> $2 AS pubgencols FROM pg_catalog.pg_publication p WHERE p.pubname = $1',
      [source.publication, 'pubgencols'],
    );
    if (exists.rows.length === 0) {
      throw new CatalogError(`publication "${source.publication}" does not exist`);
    }
    // to_jsonb() reads columns that only newer servers have (attnames ≥ 15, rowfilter ≥ 15, pubgencols ≥ 18).
    const { rows } = await client.query<TableRow>(
      `SELECT DISTINCT ON (c.oid) ${TABLE_COLUMNS},
              (to_jsonb(pt) -> 'attnames')::text AS attnames, to_jsonb(pt) ->> 'rowfilter' AS rowfilter,
              to_jsonb(p) ->> 'pubgencols' AS pubgencols
         FROM pg_catalog.pg_publication_tables pt
         JOIN pg_catalog.pg_publication p ON p.pubname = pt.pubname
         JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname
         JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
        WHERE pt.pubname = $1
        ORDER BY c.oid`,
      [source.publication],
    );
    return rows;
  }
  const { rows } = await client.query<
    Omit<TableRow, 'oid'> & { oid: string | null; wanted_schema: string; wanted_name: string }
  >(
    `SELECT w.v ->> 'schema' AS wanted_schema, w.v ->> 'name' AS wanted_name, ${TABLE_COLUMNS},
            NULL AS attnames, NULL AS rowfilter, NULL AS pubgencols
       FROM jsonb_array_elements($1::jsonb) w(v)
       LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = w.v ->> 'schema'
       LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.v ->> 'name'`,
    [JSON.stringify(source.map((t) => ({ schema: t.schema, name: t.name })))],
  );
  const missing = rows.filter((row) => row.oid === null);
  if (missing.length > 0) {
    const names = missing.map((row) => tableLabel({ schema: row.wanted_schema, name: row.wanted_name }));
    throw new CatalogError(`table(s) not found: ${names.join(', ')}`);
  }
  // A table listed twice is described once.
  const out: TableRow[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (row.oid === null || seen.has(row.oid)) continue;
    seen.add(row.oid);
    out.push({ ...row, oid: row.oid });
  }
  return out;
}

/** Which of `tables` exist (as any relation kind), in the order given; the rest are `missing`. */
export async function findTables(
  client: SqlClient,
  tables: readonly TableName[],
): Promise<{ readonly present: TableName[]; readonly missing: TableName[] }> {
  const { rows } = await client.query<{ found: string | null }>(
    `SELECT c.oid AS found
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY w(v, i)
       LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = w.v ->> 'schema'
       LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.v ->> 'name'
      ORDER BY w.i`,
    [JSON.stringify(tables.map((t) => ({ schema: t.schema, name: t.name })))],
  );
  const present: TableName[] = [];
  const missing: TableName[] = [];
  tables.forEach((t, i) => {
    (rows[i]?.found ? present : missing).push({ schema: t.schema, name: t.name });
  });
  return { present, missing };
}

function generatedKind(attgenerated: string): 'stored' | 'virtual' | null {
  if (attgenerated === 's') return 'stored';
  if (attgenerated === 'v') return 'virtual';
  return null;
}

function replicaIdentity(text: string): 'd' | 'n' | 'f' | 'i' {
  if (text === 'd' || text === 'n' || text === 'f' || text === 'i') return text;
  throw new CatalogError(`unknown relreplident ${JSON.stringify(text)}`);
}

async function readCatalog(client: SqlClient, source: RelationSource): Promise<Catalog> {
  const tables = await readTables(client, source);
  for (const table of tables) {
    if (table.relkind !== 'r' && table.relkind !== 'p') {
      throw new CatalogError(`${tableLabel(table)} is not a table (relkind ${table.relkind})`);
    }
    if (table.rowfilter !== null) {
      throw new CatalogError(
        `${tableLabel(table)} is published with a row filter (WHERE ${table.rowfilter}); row filters are not ` +
          'supported (an initial sync would not match the replicated changes). Remove it with ALTER PUBLICATION.',
      );
    }
  }
  if (tables.length === 0) return { relations: [], brokenReferences: [] };
  const relOids = oidArray(tables.map((t) => pgInt(t.oid, 'pg_class.oid')));

  const columnRows = (
    await client.query<ColumnRow>(
      `SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod,
              pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull, a.attgenerated
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum`,
      [relOids],
    )
  ).rows;
  const constraintRows = (
    await client.query<ConstraintRow>(
      `SELECT c.conrelid, c.contype, c.conname, c.confrelid, a.attname, fa.attname AS ref_attname
         FROM pg_catalog.pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY k(attnum, fattnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         LEFT JOIN pg_catalog.pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum
        WHERE c.conrelid = ANY($1::pg_catalog.oid[]) AND c.contype IN ('p', 'f')
        ORDER BY c.conrelid, c.contype, c.conname, k.ord`,
      [relOids],
    )
  ).rows;

  const types = await readTypes(client, new Set(columnRows.map((row) => pgInt(row.atttypid, 'atttypid'))));
  const resolved = columnRows.map((row) =>
    resolveColumn(types, pgInt(row.atttypid, 'atttypid'), pgInt(row.atttypmod, 'atttypmod')),
  );
  const enumLabels = await readEnumLabels(
    client,
    new Set(resolved.flatMap((r) => (r.enumTypeOid === null ? [] : [r.enumTypeOid]))),
  );
  const withDomain = resolved.flatMap((r, i) => (r.domainInvolved ? [i] : []));
  const baseNames = await formatTypes(
    client,
    withDomain.map((i) => [resolved[i]!.baseTypeOid, resolved[i]!.baseTypmod] as const),
  );
  const baseNameOf = new Map(withDomain.map((columnIndex, i) => [columnIndex, baseNames[i]!] as const));

  const byOid = new Map(tables.map((t) => [t.oid, t] as const));
  const columnsByTable = new Map<string, CatalogColumn[]>();
  columnRows.forEach((row, i) => {
    const table = byOid.get(row.attrelid)!;
    const r = resolved[i]!;
    const typeOid = pgInt(row.atttypid, 'atttypid');
    const valueType = valueTypeOfPgType(typeInfo(types, typeOid));
    const generated = generatedKind(row.attgenerated);
    const publishedNames = table.attnames === null ? null : (JSON.parse(table.attnames) as string[] | null);
    // Without a column list pgoutput sends ordinary columns, plus stored generated ones when the publication
    // says so (Postgres ≥ 18, publish_generated_columns = stored).
    const published = publishedNames
      ? publishedNames.includes(row.attname)
      : generated === null || (generated === 'stored' && table.pubgencols === 's');
    const notNull = pgBool(row.attnotnull);
    const labels = r.enumTypeOid === null ? [] : (enumLabels.get(r.enumTypeOid) ?? []);
    const baseTypeName = baseNameOf.get(i) ?? row.type_name;
    const column: CatalogColumn = {
      name: row.attname,
      attnum: pgInt(row.attnum, 'attnum'),
      typeOid,
      typeModifier: pgInt(row.atttypmod, 'atttypmod'),
      typeName: row.type_name,
      notNull,
      baseTypeOid: r.baseTypeOid,
      baseTypeName,
      elementTypeOid: r.elementTypeOid,
      elementDelimiter: r.elementDelimiter,
      enumLabels: labels,
      generated,
      published,
      valueType,
      descriptor: {
        name: row.attname,
        typeName: row.type_name,
        typeOid,
        typeModifier: pgInt(row.atttypmod, 'atttypmod'),
        encoding: valueType.encoding,
        elementEncoding:
          valueType.encoding === ValueEncoding.ARRAY ? valueType.element.encoding : ValueEncoding.UNSPECIFIED,
        nullable: !notNull,
        enumLabels: [...labels],
        baseTypeOid: r.baseTypeOid,
        elementTypeOid: r.elementTypeOid,
        baseTypeName,
      },
    };
    columnsByTable.set(row.attrelid, [...(columnsByTable.get(row.attrelid) ?? []), column]);
  });

  const primaryKeys = new Map<string, string[]>();
  const foreignKeys = new Map<
    string,
    Map<string, { columns: string[]; refOid: string; refColumns: string[] }>
  >();
  for (const row of constraintRows) {
    if (row.contype === 'p') {
      primaryKeys.set(row.conrelid, [...(primaryKeys.get(row.conrelid) ?? []), row.attname]);
    } else if (byOid.has(row.confrelid)) {
      const ofTable = foreignKeys.get(row.conrelid) ?? new Map();
      foreignKeys.set(row.conrelid, ofTable);
      const fk = ofTable.get(row.conname) ?? { columns: [], refOid: row.confrelid, refColumns: [] };
      ofTable.set(row.conname, fk);
      fk.columns.push(row.attname);
      fk.refColumns.push(row.ref_attname ?? '');
    }
  }

  const noKey = tables.filter((t) => !primaryKeys.has(t.oid)).map(tableLabel);
  if (noKey.length > 0) {
    throw new CatalogError(
      `table(s) without a primary key cannot be synced: ${noKey.join(', ')}. Add a PRIMARY KEY or leave ` +
        'them out of the synced tables.',
    );
  }

  const relations: CatalogRelation[] = tables.map((t) => ({
    schema: t.schema,
    name: t.name,
    relationOid: pgInt(t.oid, 'pg_class.oid'),
    replicaIdentity: replicaIdentity(t.relreplident),
    columns: columnsByTable.get(t.oid) ?? [],
    primaryKey: primaryKeys.get(t.oid)!,
    foreignKeys: [...(foreignKeys.get(t.oid) ?? new Map()).entries()].map(([constraint, fk]) => {
      const ref = byOid.get(fk.refOid)!;
      return {
        constraint,
        columns: fk.columns,
        referenced: { schema: ref.schema, name: ref.name },
        referencedColumns: fk.refColumns,
      };
    }),
  }));
  const references = relations.flatMap((r) =>
    r.foreignKeys.map((fk) => ({ from: r as TableName, to: fk.referenced, constraint: fk.constraint })),
  );
  const { order, broken } = orderByForeignKeys(relations, references);
  return { relations: order, brokenReferences: broken };
}

/**
 * Describes `source` (a table list, or `{ publication }` for every table it publishes): columns in `attnum` order
 * with resolved types and wire encodings, primary keys, foreign keys inside the set, tables parents-first.
 * Reads in one REPEATABLE READ transaction (or the caller's, see {@link ReadRelationsOptions.inTransaction})
 * with `search_path = pg_catalog`, so that `format_type` qualifies every type outside `pg_catalog`.
 *
 * @throws CatalogError for a missing table, a table without primary key, a non-table, a publication row filter.
 * @example
 * const { relations } = await readRelations(client, { publication: 'vibestack' });
 */
export async function readRelations(
  client: SqlClient,
  source: RelationSource,
  options: ReadRelationsOptions = {},
): Promise<Catalog> {
  if (options.inTransaction) {
    const saved = await client.query<{ path: string }>("SELECT current_setting('search_path') AS path");
    await client.query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)");
    try {
      return await readCatalog(client, source);
    } finally {
      // Restores the caller's search_path; fails only when the transaction is already aborted (then moot).
      await client
        .query("SELECT pg_catalog.set_config('search_path', $1, true)", [saved.rows[0]?.path ?? ''])
        .catch(() => undefined);
    }
  }
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  try {
    await client.query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)");
    const catalog = await readCatalog(client, source);
    await client.query('COMMIT');
    return catalog;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
