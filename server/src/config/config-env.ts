/**
 * The configuration part of the Worker's environment: every variable the server reads (wrangler `vars`,
 * `.dev.vars` / `--var` in local development, `wrangler secret put` in production). Kept apart from `Env` (which
 * names the Durable Object classes) so that Node code and tests can load the configuration without the Worker's
 * types.
 */
export interface ConfigEnv {
  /** Postgres connection string (`postgres://user:password@host:port/database`). Optional: without it,
   * `/health` reports the database as not configured and sync refuses connections. For replication on Neon use
   * the direct (non-pooled) endpoint. */
  readonly DATABASE_URL?: string;
  /** `pg` (TCP, Hyperdrive; default) or `neon` (`@neondatabase/serverless` over WebSocket). */
  readonly DB_DRIVER?: string;
  /** Neon driver only (`DB_DRIVER=neon`); unset reaches Neon itself. `host:port/path` of the WebSocket proxy
   * (the driver appends `?address=<db host>:<db port>`), e.g. `127.0.0.1:8788/v2` for a local relay. */
  readonly NEON_WS_PROXY?: string;
  /** Neon driver: `true` (default) uses `wss:`, `false` plain `ws:` (a local relay). */
  readonly NEON_USE_SECURE_WEBSOCKET?: string;
  /** Neon driver: `true` (default) pipelines the TLS handshake; `false` for a relay to a plain Postgres. */
  readonly NEON_PIPELINE_TLS?: string;
  /** Neon driver: `password` (default) pipelines startup and a cleartext password; `false` waits for each
   * step, as Postgres with SCRAM or trust authentication needs. */
  readonly NEON_PIPELINE_CONNECT?: string;
  /** HS256 secret that client tokens are signed with: at least 32 bytes (UTF-8) unless `VIBESTACK_DEV=1`. */
  readonly JWT_SECRET?: string;
  /** URL of the identity provider's JSON Web Key Set (`https://…/.well-known/jwks.json`): RS256, ES256 and EdDSA
   * tokens are verified with its keys, picked by `kid`. `https:`, or `http:` to a loopback host only. */
  readonly JWKS_URL?: string;
  /** When set, every token's `iss` must equal it. */
  readonly JWT_ISSUER?: string;
  /** When set, every token's `aud` must be (or contain) it. */
  readonly JWT_AUDIENCE?: string;
  /** `1` serves dev-only routes (`/dev/token`) and the details of `/health` to anyone. Set by `npm start`; never
   * in production. */
  readonly VIBESTACK_DEV?: string;
  /** Admin token: a request with `Authorization: Bearer <HEALTH_TOKEN>` gets the details of `/health`
   * (database version, errors, LSNs, sizes, lag). At least 16 characters. Unset: details only in dev mode. */
  readonly HEALTH_TOKEN?: string;
  /** JSON array of table scopes (see `TableScope`); default: the demo scopes. */
  readonly SYNC_SCOPES?: string;
  /** Publication and slot names; defaults `vibestack`. */
  readonly REPLICATION_PUBLICATION?: string;
  readonly REPLICATION_SLOT?: string;
  /** Change-log retention: bytes and milliseconds. */
  readonly LOG_RETENTION_BYTES?: string;
  readonly LOG_RETENTION_MS?: string;
  /** Sync heartbeat interval in ms (`Welcome.heartbeat_interval_ms`, docs/protocol.md §11): 1000–300000,
   * default 15000. The server pings after one silent interval and closes a client silent for three. */
  readonly HEARTBEAT_INTERVAL_MS?: string;
  /** Initial syncs that may read from the database at once, each on a connection of its own: 1–1000, default
   * 16. The others wait their turn (connected, without a database connection). */
  readonly SNAPSHOT_CONCURRENCY?: string;
}

/** The name of a Worker setting. */
export type ConfigEnvName = keyof ConfigEnv;

/**
 * Every key of {@link ConfigEnv}, once: a key added to the interface but not here (or here but not there) is a
 * compile error, so `npm start`, which passes exactly these from its environment, cannot forget a new setting.
 */
const CONFIG_ENV_KEYS: { readonly [K in ConfigEnvName]-?: true } = {
  DATABASE_URL: true,
  DB_DRIVER: true,
  NEON_WS_PROXY: true,
  NEON_USE_SECURE_WEBSOCKET: true,
  NEON_PIPELINE_TLS: true,
  NEON_PIPELINE_CONNECT: true,
  JWT_SECRET: true,
  JWKS_URL: true,
  JWT_ISSUER: true,
  JWT_AUDIENCE: true,
  VIBESTACK_DEV: true,
  HEALTH_TOKEN: true,
  SYNC_SCOPES: true,
  REPLICATION_PUBLICATION: true,
  REPLICATION_SLOT: true,
  LOG_RETENTION_BYTES: true,
  LOG_RETENTION_MS: true,
  HEARTBEAT_INTERVAL_MS: true,
  SNAPSHOT_CONCURRENCY: true,
};

/** The names of every Worker setting ({@link ConfigEnv}'s keys), in declaration order. */
export const CONFIG_ENV_NAMES: readonly ConfigEnvName[] = Object.keys(CONFIG_ENV_KEYS) as ConfigEnvName[];
