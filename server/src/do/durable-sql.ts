import type { SqlPort, SqlValue } from '../core/log/sql-port.ts';

/** The change log's storage port over a Durable Object's SQLite storage. */
export function durableSqlPort(storage: DurableObjectStorage): SqlPort {
  return {
    exec<Row extends Record<string, SqlValue>>(query: string, ...bindings: SqlValue[]): Row[] {
      return storage.sql.exec(query, ...(bindings as SqlStorageValue[])).toArray() as unknown as Row[];
    },
  };
}
