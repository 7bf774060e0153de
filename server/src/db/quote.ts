/**
 * SQL identifier quoting. Names of tables, columns, publications and slots come from configuration or the
 * catalog, never from clients; they are still always quoted, never spliced raw.
 */

/** A table name: schema plus relation name, both exactly as in the catalog (case preserved, unquoted). */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/**
 * Quotes one identifier the way Postgres's `quote_ident` does in its always-quote form: wrapped in double quotes,
 * inner double quotes doubled.
 * @throws TypeError for an empty name or one containing NUL (Postgres cannot store either).
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) {
    throw new TypeError(`invalid SQL identifier: ${JSON.stringify(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`. */
export function quoteTable(table: TableName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/** `schema.name` for messages (unquoted, not for SQL). */
export function tableLabel(table: TableName): string {
  return `${table.schema}.${table.name}`;
}
