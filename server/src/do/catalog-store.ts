/**
 * The ReplicationDO's copy of the synced tables' descriptors, in its SQLite storage: read from Postgres when
 * replication is set up, after DDL and every `CATALOG_REFRESH_MS`, and handed to every SyncDO from here, so that
 * a handshake or a wake-up never waits for a database connection.
 */

import { REPLICATION_DO_TABLES } from '../constants.ts';
import type { RelationDescriptor } from '../core/session/index.ts';

/** The stored catalog. */
export interface CatalogState {
  /** The tables of SYNC_SCOPES that exist, parents first. */
  readonly relations: readonly RelationDescriptor[];
  /** Tables of SYNC_SCOPES that did not exist at the last look (`schema.name`). */
  readonly missing: readonly string[];
  /** How many table shapes the change log had: a new one means DDL, so the catalog is read again. */
  readonly shapes: number;
  readonly refreshedAtMs: number;
}

/** Reads and writes {@link CatalogState} (one row). */
export class ReplicationCatalogStore {
  readonly #sql: SqlStorage;
  #cached: CatalogState | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${REPLICATION_DO_TABLES.catalog} (id INTEGER PRIMARY KEY CHECK (id = 1),
         state TEXT NOT NULL)`,
    );
  }

  load(): CatalogState | undefined {
    if (this.#cached) return this.#cached;
    const row = this.#sql
      .exec<{ state: string }>(`SELECT state FROM ${REPLICATION_DO_TABLES.catalog} WHERE id = 1`)
      .toArray()[0];
    this.#cached = row ? (JSON.parse(row.state) as CatalogState) : undefined;
    return this.#cached;
  }

  save(state: CatalogState): CatalogState {
    this.#sql.exec(
      `INSERT OR REPLACE INTO ${REPLICATION_DO_TABLES.catalog} (id, state) VALUES (1, ?)`,
      JSON.stringify(state),
    );
    this.#cached = state;
    return state;
  }
}
