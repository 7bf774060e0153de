/**
 * Local tables from Relation descriptors (docs/protocol.md §5 rule 7): the column types come from the descriptor
 * (`base_type_name`, domains not recreated), enum types are created from `enum_labels`, pgvector is created when
 * the PGlite instance has it, and a type the local database cannot create is stored as `text` (lossless for
 * text-encoded values). DDL runs outside the apply transaction: it is idempotent and leaves the data as it is,
 * and Postgres cannot use an enum label added in the same transaction.
 */

import { type Column, type Relation, ValueEncoding } from '@vibestack/proto';
import { ident, literal, qualified, type SqlRunner } from './sql.ts';

/** A local column: its quoted name and the SQL type values are cast to. */
export interface LocalColumn {
  readonly name: string;
  readonly ident: string;
  readonly type: string;
}

/** A synced table (or its staging copy) as the apply layer writes it. */
export interface LocalTable {
  readonly schema: string;
  readonly name: string;
  /** The quoted, qualified name. */
  readonly sql: string;
  readonly columns: readonly LocalColumn[];
  /** Indices of the primary key columns, in key order. */
  readonly key: readonly number[];
  /** The local type of each column (`pg_attribute.atttypid`), in column order. */
  readonly typeOids: readonly number[];
}

// `format_type()` output: plain or quoted identifiers (`"Priority"`, `"char"`), dots, spaces, type modifiers
// anywhere (`timestamp(3) with time zone`), then array brackets. Quotes come in pairs, so nothing else can be
// spliced into DDL; anything else is not a type name we use.
const IDENT = '"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*(?![A-Za-z0-9_$])'; // (no backtracking into a name)
const TYPE_NAME = new RegExp(`^(?:${IDENT}|\\(\\d+(?:,\\s*\\d+)*\\)|[ .])+(?:\\[\\])*$`);
const SCHEMA_PREFIX = new RegExp(`^(${IDENT})\\.`);

const declared = (c: Column): string => (c.baseTypeName !== '' ? c.baseTypeName : c.typeName);
const isArray = (c: Column): boolean => c.encoding === ValueEncoding.ARRAY;
const elementOf = (type: string): string => type.replace(/(\[\])+$/, '');
/** The schema of a qualified type name, as it is written there (quoted or not). */
const schemaOf = (type: string): string | undefined => SCHEMA_PREFIX.exec(type)?.[1];

async function existingTypes(db: SqlRunner, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const { rows } = await db.query<{ name: string }>(
    'SELECT name FROM unnest($1::text[]) AS name WHERE to_regtype(name) IS NOT NULL',
    [names],
  );
  return new Set(rows.map((r) => r.name));
}

/** Creates enum types and the vector extension the columns need, where possible. */
async function createTypes(db: SqlRunner, columns: readonly Column[]): Promise<void> {
  const candidates = columns.filter((c) => TYPE_NAME.test(declared(c)));
  const have = await existingTypes(db, [...new Set(candidates.map((c) => elementOf(declared(c))))]);
  for (const c of candidates) {
    const element = elementOf(declared(c));
    if (c.enumLabels.length > 0) {
      const labels = c.enumLabels.map(literal).join(', ');
      const schema = schemaOf(element);
      if (!have.has(element)) {
        await db.exec(
          `${schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${schema}; `}CREATE TYPE ${element} AS ENUM (${labels})`,
        );
      } else
        for (const l of c.enumLabels)
          await db.exec(`ALTER TYPE ${element} ADD VALUE IF NOT EXISTS ${literal(l)}`);
      have.add(element);
    } else if (
      !have.has(element) &&
      (c.encoding === ValueEncoding.VECTOR || c.elementEncoding === ValueEncoding.VECTOR)
    ) {
      const schema = schemaOf(element);
      try {
        await db.exec(
          `${schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${schema}; `}CREATE EXTENSION IF NOT EXISTS vector${schema === undefined ? '' : ` SCHEMA ${schema}`}`,
        );
        have.add(element);
      } catch {
        // The PGlite instance was created without the vector extension: the column is stored as text.
      }
    }
  }
}

/** The local type of each column: the declared one when it exists locally, else `text` (or `text[]`). */
async function localTypes(db: SqlRunner, columns: readonly Column[]): Promise<string[]> {
  const names = columns.map(declared).filter((t) => TYPE_NAME.test(t));
  const have = await existingTypes(db, [...new Set(names)]);
  return columns.map((c) => (have.has(declared(c)) ? declared(c) : isArray(c) ? 'text[]' : 'text'));
}

/**
 * Makes sure the table of `relation` exists locally with every described column (adding missing columns as
 * nullable); returns how to write it.
 */
export async function prepareTable(db: SqlRunner, relation: Relation): Promise<LocalTable> {
  await createTypes(db, relation.columns);
  const types = await localTypes(db, relation.columns);
  const columns = relation.columns.map((c, i) => ({ name: c.name, ident: ident(c.name), type: types[i]! }));
  const sql = qualified(relation.schema, relation.name);
  const defs = columns.map(
    (c, i) => `${c.ident} ${c.type}${relation.columns[i]!.nullable ? '' : ' NOT NULL'}`,
  );
  const pk = relation.primaryKey.map((i) => columns[i]!.ident).join(', ');
  await db.exec(
    `CREATE SCHEMA IF NOT EXISTS ${ident(relation.schema)};
     CREATE TABLE IF NOT EXISTS ${sql} (${defs.join(', ')}, PRIMARY KEY (${pk}));
     ALTER TABLE ${sql} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${c.ident} ${c.type}`).join(', ')};`,
  );
  // The types the columns really have (an application's own table may declare others).
  const { rows } = await db.query<{ name: string; oid: string }>(
    `SELECT attname AS name, atttypid::text AS oid FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [sql],
  );
  const oids = new Map(rows.map((r) => [r.name, Number(r.oid)]));
  return {
    schema: relation.schema,
    name: relation.name,
    sql,
    columns,
    key: relation.primaryKey,
    typeOids: columns.map((c) => oids.get(c.name) ?? 0),
  };
}
