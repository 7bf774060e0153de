/**
 * The Worker's environment bindings. Values come from `wrangler.jsonc` `vars`, `.dev.vars` / `--var` in local
 * development, or `wrangler secret put` in production; connection settings are never written in code.
 */
export interface Env {
  /** Postgres connection string (`postgres://user:password@host:port/database`). Optional: without it,
   * `/health` reports the database as not configured. */
  readonly DATABASE_URL?: string;
}

/** Hono environment type of the Worker app. */
export interface AppEnv {
  readonly Bindings: Env;
}
