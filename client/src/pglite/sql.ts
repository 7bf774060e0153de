/**
 * SQL text helpers for the local database. Names come from Relation descriptors (the server's catalog), never
 * from the application, and are always quoted as identifiers; values always travel as parameters or COPY data.
 */

/** A quoted SQL identifier (`"a""b"`). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A schema-qualified, quoted table name. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A quoted SQL string literal (only for DDL, where parameters cannot be used: enum labels). */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The minimal surface of a PGlite instance or transaction that the apply layer uses. */
export interface SqlRunner {
  query<T>(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
}
