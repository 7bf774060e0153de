/**
 * The `SqlClient` port: the few operations the replication and snapshot readers need from one Postgres session,
 * implemented over `pg` (TCP, also through Hyperdrive) and `@neondatabase/serverless` (WebSocket). Every value
 * comes back as the Postgres text output (no type parsing), produced under `TEXT_VALUE_SESSION_SETTINGS`, because
 * the sync protocol encodes values from their Postgres text form.
 */

import { openNeonClient } from './neon-client.ts';
import { openPgClient } from './pg-client.ts';

/** A cell of a result: Postgres text output, or `null` for SQL NULL. */
export type SqlText = string | null;

/** What a query returned. */
export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows affected or returned, as the command tag says (0 when the tag carries none). */
  readonly rowCount: number;
}

/**
 * One Postgres session. Queries run one at a time in call order (the drivers queue them). Values are strings in
 * Postgres text form, or `null`; parameters are sent as text (`null`/`undefined` as SQL NULL).
 */
export interface SqlClient {
  /** Runs one statement and returns its rows as objects keyed by column name. */
  query<R = Record<string, SqlText>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /**
   * Runs one statement and returns its rows as arrays in select-list order (safe for any column name, and
   * cheaper than objects for wide reads).
   */
  queryArrays(text: string, params?: readonly unknown[]): Promise<SqlResult<SqlText[]>>;
  /** Closes the session. Idempotent; never throws. */
  end(): Promise<void>;
}

/** The driver behind a {@link SqlClient}. */
export type SqlDriver = 'pg' | 'neon';

/** A WebSocket constructor (`ws` in Node versions without a global `WebSocket`). */
export type WebSocketConstructorLike = new (url: string) => unknown;

/**
 * Settings of the Neon WebSocket driver. The defaults reach Neon itself; a local WebSocket→TCP relay needs
 * `{ wsProxy: 'host:port/path', useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false }`.
 */
export interface NeonDriverOptions {
  /** `host:port/path` of the WebSocket proxy (the driver appends `?address=<db host>:<db port>`). */
  readonly wsProxy?: string;
  readonly useSecureWebSocket?: boolean;
  readonly pipelineTLS?: boolean;
  readonly pipelineConnect?: 'password' | false;
  /** Needed only where no global `WebSocket` exists (Node 20). */
  readonly webSocketConstructor?: WebSocketConstructorLike;
}

/**
 * A driver together with its settings, as the server configuration carries it (`loadServerConfig` builds it
 * from `DB_DRIVER` and the `NEON_*` variables), so that a caller holding only the configuration opens sessions
 * exactly as configured.
 */
export interface SqlDriverConfig {
  readonly name: SqlDriver;
  /** Neon driver settings; ignored by `pg`. Options passed to {@link openSqlClient} override them per field. */
  readonly neon?: NeonDriverOptions;
}

/** Options of {@link openSqlClient}. */
export interface OpenSqlClientOptions {
  /** Upper bound for connecting (TCP/WebSocket, auth, session settings), in milliseconds. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** `application_name` of the session. Default `vibestack`. */
  readonly applicationName?: string;
  /** Neon driver settings; ignored by `pg`. */
  readonly neon?: NeonDriverOptions;
}

/**
 * Opens one session on `url` with the chosen driver and applies `TEXT_VALUE_SESSION_SETTINGS`. `driver` is a
 * driver name, or a {@link SqlDriverConfig} whose settings apply unless `options` sets them too.
 *
 * @throws {@link SqlError} when the connection or the session settings fail.
 * @example
 * const client = await openSqlClient(env.DATABASE_URL, 'pg');
 * try {
 *   const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn');
 * } finally {
 *   await client.end();
 * }
 */
export function openSqlClient(
  url: string,
  driver: SqlDriver | SqlDriverConfig,
  options: OpenSqlClientOptions = {},
): Promise<SqlClient> {
  const name = typeof driver === 'string' ? driver : driver.name;
  const configured = typeof driver === 'string' ? undefined : driver.neon;
  const merged: OpenSqlClientOptions =
    configured === undefined ? options : { ...options, neon: { ...configured, ...options.neon } };
  switch (name) {
    case 'pg':
      return openPgClient(url, merged);
    case 'neon':
      return openNeonClient(url, merged);
    default:
      return Promise.reject(new TypeError(`unknown SQL driver: ${String(name satisfies never)}`));
  }
}
