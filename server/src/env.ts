/**
 * The Worker's environment bindings. Values come from `wrangler.jsonc` `vars`, `.dev.vars` / `--var` in local
 * development, or `wrangler secret put` in production; connection settings are never written in code.
 */
export interface ConfigEnv {
  /** Postgres connection string (`postgres://user:password@host:port/database`). Optional: without it,
   * `/health` reports the database as not configured and sync refuses connections. For replication on Neon use
   * the direct (non-pooled) endpoint. */
  readonly DATABASE_URL?: string;
  /** `pg` (TCP, Hyperdrive; default) or `neon` (`@neondatabase/serverless` over WebSocket). */
  readonly DB_DRIVER?: string;
  /** HS256 secret that client tokens are signed with. */
  readonly JWT_SECRET?: string;
  /** `1` serves dev-only routes (`/dev/token`). Set by `npm start`; never in production. */
  readonly VIBESTACK_DEV?: string;
  /** JSON array of table scopes (see `TableScope`); default: the demo scopes. */
  readonly SYNC_SCOPES?: string;
  /** Publication and slot names; defaults `vibestack`. */
  readonly REPLICATION_PUBLICATION?: string;
  readonly REPLICATION_SLOT?: string;
  /** Change-log retention: bytes and milliseconds. */
  readonly LOG_RETENTION_BYTES?: string;
  readonly LOG_RETENTION_MS?: string;
}

/** Everything the Worker gets: configuration plus the Durable Object namespaces. */
export interface Env extends ConfigEnv {
  readonly REPLICATION: DurableObjectNamespace<import('./do/replication-do.ts').ReplicationDO>;
  readonly SYNC: DurableObjectNamespace<import('./do/sync-do.ts').SyncDO>;
}

/** Hono environment type of the Worker app. */
export interface AppEnv {
  readonly Bindings: Env;
}
