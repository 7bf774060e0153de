/**
 * `SqlClient` over `pg` (node-postgres): TCP from Node, and from workerd through `nodejs_compat` sockets (also
 * behind Hyperdrive, though replication-slot functions need a direct connection in production).
 */

import pg from 'pg';
import {
  DEFAULT_APPLICATION_NAME,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type DriverClient,
  RAW_TEXT_TYPES,
  startDriverSession,
} from './driver-session.ts';
import type { OpenSqlClientOptions, SqlClient } from './sql-client.ts';

/** The `pg.Client` options used here (the Worker's `pg` typing is a narrower slice, see types/pg-worker.d.ts). */
interface PgClientConfig {
  connectionString: string;
  connectionTimeoutMillis: number;
  application_name: string;
  types: typeof RAW_TEXT_TYPES;
}

const PgClient = pg.Client as unknown as new (config: PgClientConfig) => DriverClient;

/** Opens a `pg` session on `url`; see {@link openSqlClient}. */
export function openPgClient(url: string, options: OpenSqlClientOptions = {}): Promise<SqlClient> {
  const driver = new PgClient({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: options.applicationName ?? DEFAULT_APPLICATION_NAME,
    types: RAW_TEXT_TYPES,
  });
  return startDriverSession(driver);
}
