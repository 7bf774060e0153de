/**
 * The client's fixed names, limits and defaults in one place (docs/protocol.md §3, §9.4, §10, §11). Protocol-wide
 * values (frame limits, credit bounds, heartbeat range) live in `@vibestack/proto`; these are the client's own.
 */

/** Sent as `Hello.client_agent`. */
export const CLIENT_AGENT = 'vibestack-client-ts/0.1.0';

/** A client gives up on a Welcome this long after its Hello, in ms (§3.2, §13). */
export const WELCOME_TIMEOUT_MS = 30_000;

/** Reconnect backoff (§9.4): base and cap of the full-jitter window, in ms. */
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 30_000;
/** A connection open this long after Welcome resets the backoff attempt counter, in ms. */
export const BACKOFF_RESET_AFTER_MS = 30_000;

/** Most changes (or snapshot rows) grouped into one local transaction by default. */
export const DEFAULT_MAX_GROUP_CHANGES = 10_000;

/**
 * Snapshot rows `createSyncClient` lets wait before staging them in one local transaction: staging 1 000-row
 * chunks one by one ran at ~55k rows/s in PGlite, 10 at a time at ~130k rows/s (`ApplyQueue`).
 */
export const DEFAULT_SNAPSHOT_GROUP_ROWS = 10_000;

/** WebSocket close code for a subprotocol the client did not ask for (RFC 6455 protocol error). */
export const CLOSE_PROTOCOL_ERROR = 1002;

/** HTTP statuses of a failed upgrade after which the client retries (§9.3); other 4xx stop it. */
export const HTTP_TOO_MANY_REQUESTS = 429;

/** The Postgres schema that holds the client's metadata and staging tables in the local database. */
export const META_SCHEMA = '_vibestack';
/** The schema of snapshot staging tables (§6.4); never visible to the application as synced state. */
export const STAGING_SCHEMA = '_vibestack_staging';
/** Version of the `_vibestack` metadata layout; bumped with a migration when it changes. */
export const META_LAYOUT_VERSION = 1;

/**
 * The custom setting that is `on` in every local transaction that applies server data (`SET LOCAL`), so that
 * write-capture triggers can tell sync applies from application writes.
 */
export const APPLYING_SETTING = 'vibestack.applying';
