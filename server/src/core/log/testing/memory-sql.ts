/**
 * An in-memory SQLite {@link SqlPort} for tests (sql.js, SQLite compiled to WebAssembly): the same SQL dialect
 * as a Durable Object's storage, without workerd.
 */
import initSqlJs from 'sql.js';
import type { SqlPort, SqlValue } from '../sql-port.ts';

const SQL = await initSqlJs();

/** A fresh in-memory database behind the port; `close()` frees it. */
export function createMemorySql(): SqlPort & { close(): void } {
  const db = new SQL.Database();
  return {
    exec<Row extends Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): Row[] {
      const stmt = db.prepare(query);
      try {
        stmt.bind(bindings as never);
        const rows: Row[] = [];
        while (stmt.step()) rows.push(stmt.getAsObject() as Row);
        return rows;
      } finally {
        stmt.free();
      }
    },
    close: () => db.close(),
  };
}
