/**
 * Every route, header, name, port and limit the server package uses, in one place. Worker code and the Node dev
 * harness both import from here; nothing in this file may import a runtime module.
 */

// ---------------------------------------------------------------------------------------------------------------
// Worker (HTTP)
// ---------------------------------------------------------------------------------------------------------------

/** The service name reported by `GET /health`. */
export const SERVICE_NAME = 'vibestack';

/** HTTP routes served by the Worker. */
export const ROUTES = {
  /** Liveness plus database reachability, see `HealthReport`. */
  health: '/health',
} as const;

/** HTTP header names and values the Worker sets or reads. */
export const HEADERS = {
  cacheControl: 'Cache-Control',
  noStore: 'no-store',
  /** Carries `Bearer <HEALTH_TOKEN>` for the details of `GET /health`. */
  authorization: 'Authorization',
  bearerPrefix: 'Bearer ',
  /** Sent with a 405: the methods a route takes. */
  allow: 'Allow',
} as const;

/** Values of `HealthReport.status`. */
export const HEALTH_STATUS = {
  /** The Worker runs and, when a database is configured, the database answered and replication is sound. */
  ok: 'ok',
  /** Something is wrong; `HealthReport.reason` says what, coarsely. */
  degraded: 'degraded',
} as const;

/** Values of `HealthReport.reason`: why `GET /health` is degraded (public, so coarse). */
export const HEALTH_REASONS = {
  /** The database did not answer the ReplicationDO's probe within `HEALTH_DB_TIMEOUT_MS`. */
  databaseUnreachable: 'database_unreachable',
  /** The database answers but `wal_level` is not `logical`. */
  walLevel: 'wal_level_not_logical',
  /** The replication slot the change log was started from is gone (dropped, or a restored database). */
  slotMissing: 'replication_slot_missing',
  /** Postgres invalidated the replication slot (e.g. its WAL was removed). */
  slotLost: 'replication_slot_lost',
  /** The last replication poll failed (details: `replication.lastError`). */
  replicationError: 'replication_error',
  /** The ReplicationDO did not answer. */
  replicationUnavailable: 'replication_unavailable',
} as const;

/** HTTP status of `GET /health` when degraded. */
export const HEALTH_DEGRADED_HTTP_STATUS = 503;

/** Upper bound for the whole database probe of `GET /health`, connect included, in milliseconds. */
export const HEALTH_DB_TIMEOUT_MS = 2_000;

/**
 * How long the ReplicationDO reuses its database probe for `GET /health` (ms): however often `/health` is asked,
 * the database gets at most one probe per period, on the ReplicationDO's existing connection.
 */
export const HEALTH_CACHE_MS = 2_000;

/** Shortest accepted `HEALTH_TOKEN`, in characters. */
export const HEALTH_TOKEN_MIN_LENGTH = 16;

/** The `code` of the JSON body returned for unknown routes. */
export const NOT_FOUND_CODE = 'not_found';

/** The `code` of the JSON body returned for a request with a missing or malformed parameter. */
export const BAD_REQUEST_CODE = 'bad_request';

/** The `code` of the JSON body of a 405 (e.g. a sync request that is not a GET). */
export const METHOD_NOT_ALLOWED_CODE = 'method_not_allowed';

/** The `code` of the JSON body returned when a handler throws. */
export const INTERNAL_ERROR_CODE = 'internal';

/**
 * The `code` of the JSON body every route answers while the configuration is malformed; the message is the
 * `ConfigError`'s one line (it names the setting, never a secret).
 */
export const MISCONFIGURED_CODE = 'misconfigured';

/**
 * HTTP status of every answer of a misconfigured Worker, the sync upgrade included: 5xx, so clients back off and
 * retry (docs/protocol.md §9.3) until the configuration is fixed.
 */
export const MISCONFIGURED_HTTP_STATUS = 503;

/** Names of the Worker's environment bindings (wrangler vars / secrets / `.dev.vars`). */
export const ENV_VARS = {
  /** Postgres connection string the Worker connects to over TCP. Never hard-coded, never committed. */
  databaseUrl: 'DATABASE_URL',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Node dev harness
// ---------------------------------------------------------------------------------------------------------------

/** Directory (relative to the repository root, git-ignored) for local state such as Postgres data. */
export const LOCAL_STATE_DIR = '.vibestack';

/** Sub-directory of {@link LOCAL_STATE_DIR} holding one Postgres data directory per cluster name. */
export const PG_CLUSTERS_DIR = 'pg';

/** Cluster name used by `npm start`. */
export const DEV_CLUSTER_NAME = 'dev';

/** Sub-directory of {@link LOCAL_STATE_DIR} for `wrangler dev` env files and local persistence. */
export const WRANGLER_STATE_DIR = 'wrangler';

/** Sub-directory of {@link WRANGLER_STATE_DIR} that `npm start` persists Worker state (Durable Objects) in. */
export const DEV_WORKER_PERSIST_DIR = 'state';

/** Prefix of per-run test cluster names (`test-<pid>`). */
export const TEST_CLUSTER_PREFIX = 'test-';

/** Port `npm start` tries first for the embedded Postgres; a free port is picked when it is taken. */
export const DEV_PG_PORT = 54329;

/** Port `npm start` tries first for `wrangler dev`; a free port is picked when it is taken. */
export const DEV_WORKER_PORT = 8787;

/** Interface every local server binds to. */
export const LOOPBACK_HOST = '127.0.0.1';

/** Superuser of embedded clusters (local only). */
export const PG_ADMIN_USER = 'postgres';

/** Password of {@link PG_ADMIN_USER} (local only; clusters listen on loopback). */
export const PG_ADMIN_PASSWORD = 'postgres';

/** Maintenance database every cluster has. */
export const PG_ADMIN_DATABASE = 'postgres';

/** Database `npm start` creates and loads with the demo schema. */
export const DEV_DATABASE = 'vibestack';

/** OS account Postgres runs as when the harness runs as root (Postgres refuses to run as root). */
export const PG_OS_USER = 'postgres';

/** Server settings every embedded cluster starts with (logical decoding needs `wal_level=logical`). */
export const PG_SERVER_SETTINGS: Readonly<Record<string, string>> = {
  wal_level: 'logical',
  max_replication_slots: '20',
  max_wal_senders: '20',
  listen_addresses: LOOPBACK_HOST,
  // No Unix socket: clients connect over TCP, and a socket in /tmp could clash with a system Postgres.
  unix_socket_directories: '',
};

/**
 * Extra settings for throw-away test clusters: durability is not needed there and costs time. Not
 * `synchronous_commit=off`: logical decoding only reads WAL that is flushed, so a slot would not see a commit
 * until the WAL writer runs (up to 200 ms later) and replication tests would race.
 */
export const PG_TEST_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  full_page_writes: 'off',
};

/** How long to wait for an embedded Postgres to accept connections, in milliseconds. */
export const PG_START_TIMEOUT_MS = 30_000;

/** How long a fast shutdown (SIGINT) may take before escalating to SIGQUIT, then SIGKILL, in milliseconds. */
export const PG_STOP_TIMEOUT_MS = 10_000;

/** File (inside the data directory's parent) naming the Node process that owns a running cluster. */
export const PG_OWNER_FILE_SUFFIX = '.owner';

/** File (beside the data directory) receiving the server's stderr. */
export const PG_LOG_FILE_SUFFIX = '.log';

/**
 * Where Postgres binaries and data go, in `<root>/<hash of the checkout path>`, when the harness runs as root and
 * the OS user `postgres` cannot reach the checkout (a mode-700 parent such as `/root`). Persistent (not `/tmp`,
 * which is emptied at boot), reused by the next run; see `node/relocation.ts`.
 */
export const RELOCATION_ROOT = '/var/lib/vibestack';

/** File in a relocation directory naming the checkout it belongs to (a directory whose checkout is gone is removed). */
export const RELOCATION_CHECKOUT_FILE = 'checkout';

/** File in the checkout's clusters directory (`.vibestack/pg`) naming where its clusters were relocated to. */
export const RELOCATION_NOTE_FILE = 'RELOCATED.txt';

/** Prefix of the directory in `os.tmpdir()` that versions before `RELOCATION_ROOT` used; its data is moved over. */
export const RELOCATED_DIR_PREFIX = 'vibestack-';

/** Prefix of databases created by `createTestDatabase()`. */
export const TEST_DATABASE_PREFIX = 'vs_test_';

/** Key under which the test global setup provides the shared cluster to tests (`inject(...)`). */
export const TEST_PG_CONTEXT_KEY = 'vibestackPostgres';

/** How long to wait for `wrangler dev` to answer `GET /health`, in milliseconds. */
export const WORKER_START_TIMEOUT_MS = 60_000;

/** Environment that keeps `wrangler dev` offline and quiet. */
export const WRANGLER_ENV: Readonly<Record<string, string>> = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_TELEMETRY_DISABLED: '1',
};

/** File (in {@link LOCAL_STATE_DIR}) recording the processes of a running `npm start`, for stale cleanup. */
export const START_STATE_FILE = 'start.json';

/** Key of the advisory lock that serialises concurrent `applyDemoSchema()` calls on one database. */
export const DEMO_SCHEMA_LOCK_KEY = 'vibestack:demo-schema';

// ---------------------------------------------------------------------------------------------------------------
// Durable Objects
// ---------------------------------------------------------------------------------------------------------------

/** The one ReplicationDO instance's name (one per database). */
export const REPLICATION_DO_NAME = 'replication';

/** SQLite tables of the ReplicationDO besides the change log's own (`log_*`). */
export const REPLICATION_DO_TABLES = {
  subscribers: 'fanout_subscribers',
  /** The synced tables' descriptors, read from Postgres by the ReplicationDO and handed to every SyncDO. */
  catalog: 'replication_catalog',
} as const;

/** The ReplicationDO reads the synced tables' descriptors again after this long (also after any DDL), ms. */
export const CATALOG_REFRESH_MS = 60_000;

/** How often the ReplicationDO looks whether a table named in SYNC_SCOPES that did not exist exists now, ms. */
export const MISSING_TABLES_RECHECK_MS = 10_000;

/** After a poll that found transactions, the ReplicationDO keeps polling at its fastest rate this long (ms). */
export const ACTIVE_WINDOW_MS = 5_000;

/**
 * Once quiet (no transaction of ours for ACTIVE_WINDOW_MS), the ReplicationDO asks Postgres how far WAL is flushed
 * this often (ms) — a statement without decoding — and reads the slot as soon as anything was written, so a change
 * after minutes of quiet is captured within this, not after a backed-off poll interval.
 */
export const QUIET_WAL_CHECK_MS = 25;

/** The most transactions one fan-out notification carries; sessions read anything beyond from the log. */
export const FANOUT_MAX_TRANSACTIONS = 64;

/**
 * The most change-log chunks (of `chunkChanges` changes each, default 1 000) one log read or fan-out notification
 * carries. A larger transaction travels in parts, so neither Durable Object ever holds all of it.
 */
export const LOG_READ_MAX_CHUNKS = 4;

/**
 * A SyncDO saves its session checkpoint (for hibernation) this long after the session's last event, in ms. Far
 * below workerd's ~10 s idle time before it evicts a hibernatable object.
 */
export const CHECKPOINT_DELAY_MS = 1_000;

/** SQLite tables of a SyncDO. */
export const SYNC_DO_TABLES = {
  client: 'sync_client',
  /** The client's latest initial sync, for resuming it after a disconnect (or a restart of workerd). */
  snapshot: 'sync_snapshot',
  /**
   * Per open connection, the checkpoint of its session while it is quiescent (absent otherwise): a SyncDO that
   * hibernated with its WebSockets open restores their sessions from them when it wakes.
   */
  checkpoints: 'sync_checkpoints',
  /** The table of an earlier layout (one checkpoint per client), dropped when found. */
  legacyCheckpoint: 'sync_checkpoint',
} as const;

/**
 * Connections of one client id that may wait for (or be in) their handshake next to the established one. A new
 * connection beyond it closes the oldest waiting one with OVERLOADED: opening sockets without a valid Hello
 * cannot pile up, and can never touch the established connection (docs/protocol.md §2.1).
 */
export const MAX_PENDING_CONNECTIONS = 4;

/** `retry_after_ms` of a waiting connection closed by a newer one ({@link MAX_PENDING_CONNECTIONS}). */
export const PENDING_OVERFLOW_RETRY_AFTER_MS = 1_000;

/**
 * How long an initial sync's database lease (SNAPSHOT_CONCURRENCY) lasts without renewal, ms. The SyncDO renews it
 * with every read of rows; a SyncDO that vanished without giving it back loses it after this.
 */
export const SNAPSHOT_LEASE_MS = 60_000;

/** `retry_after_ms` when the ReplicationDO cannot describe the synced tables yet (first start, database away). */
export const NOT_READY_RETRY_AFTER_MS = 2_000;

/** The query parameter of the sync route naming the client id (a protocol constant): it picks the SyncDO. */
export { SYNC_CLIENT_ID_PARAM } from '@vibestack/proto';

/** Dev-only route minting tokens for the demo users (served only with VIBESTACK_DEV=1). */
export const DEV_TOKEN_ROUTE = '/dev/token';

/** Query parameters of {@link DEV_TOKEN_ROUTE}: the user id, and the token's lifetime in whole seconds. */
export const DEV_TOKEN_PARAMS = { sub: 'sub', ttl: 'ttl' } as const;

/** Lifetime of a dev token without `ttl`, in seconds (one day). */
export const DEV_TOKEN_DEFAULT_TTL_SECONDS = 24 * 3600;

/** The shortest `ttl` of a dev token, in seconds. */
export const DEV_TOKEN_MIN_TTL_SECONDS = 1;

/** The longest `ttl` of a dev token, in seconds (30 days). */
export const DEV_TOKEN_MAX_TTL_SECONDS = 30 * 24 * 3600;

// ---------------------------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------------------------

/** The shortest `JWT_SECRET` accepted outside dev mode, in bytes (the output size of SHA-256, RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;

/** Host names a `JWKS_URL` may reach over plain `http:` (a local identity provider, tests). */
export const LOOPBACK_HOSTNAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** The most one request for the JWKS may take, connect included, in milliseconds. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;

/** The largest JWKS document accepted, in bytes (a provider's set holds a few keys of under 1 KiB each). */
export const JWKS_MAX_BYTES = 256 * 1024;

/** wrangler's file of local Worker settings, in `server/` (git-ignored); `npm start` reads it too. */
export const DEV_VARS_FILE = '.dev.vars';

/** File (under the local state directory) holding the dev-only JWT secret `npm start` passes to the Worker. */
export const DEV_JWT_SECRET_FILE = 'dev-jwt-secret';

/** The demo users (`server/src/demo/seed.sql`), for printing tokens. */
export const DEMO_USERS: readonly (readonly [name: string, id: string])[] = [
  ['Alice', '00000000-0000-4000-8000-00000000000a'],
  ['Bob', '00000000-0000-4000-8000-00000000000b'],
  ['Carol', '00000000-0000-4000-8000-00000000000c'],
];
