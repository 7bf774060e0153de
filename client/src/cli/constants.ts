/**
 * The CLI's fixed names, exit codes and defaults in one place (docs/cli.md). Protocol names live in
 * `@vibestack/proto`, the client's own in `../core/constants.ts`.
 */

/** The command name, used in usage text and as the prefix of every line on stderr. */
export const CLI_NAME = 'vibestack-client';

/** Environment variable read for the token when neither `--token` nor `--token-command` is given. */
export const TOKEN_ENV = 'VIBESTACK_TOKEN';
/** Environment variable set to `1` for a `--token-command` run after the server rejected the last token. */
export const TOKEN_FRESH_ENV = 'VIBESTACK_TOKEN_FRESH';
/** Environment variable: `1` makes the CLI print when it reaches each start-up phase (timing.ts). */
export const TIMING_ENV = 'VIBESTACK_CLI_TIMING';
/** A `--token-command` run is killed after this long, in ms. */
export const TOKEN_COMMAND_TIMEOUT_MS = 30_000;
/** Most bytes a `--token-command` may print. */
export const TOKEN_COMMAND_MAX_BYTES = 64 * 1024;
/**
 * With `--token-command`, give up after this many UNAUTHENTICATED rejections in a row (each with a fresh token)
 * without the connection getting past the handshake. With a fixed token the first rejection is final: the
 * protocol forbids retrying with the same token (docs/protocol.md §4.3).
 */
export const MAX_FRESH_TOKEN_REJECTIONS = 3;

/**
 * The lock file inside the database directory: the pid of the CLI process that has the directory open. PGlite
 * itself does not stop a second process from opening the same directory, which would corrupt it.
 */
export const LOCK_FILE = 'vibestack-client.lock';
/** The file every PGlite (Postgres) data directory has; its absence means "no database here". */
export const PG_VERSION_FILE = 'PG_VERSION';

/** Postgres `shared_buffers` of a `query` process (query-command.ts); PGlite's default is 128MB. */
export const QUERY_SHARED_BUFFERS = '16MB';

/** Status lines that only report progress (rows staged, LSN applied) are printed at most this often, in ms. */
export const PROGRESS_INTERVAL_MS = 1_000;

/** Process exit codes. Signals end a `sync --until-caught-up` that is not caught up yet with 128 + signal. */
export const EXIT_OK = 0;
/** Sync failed (the client FAILED, the token was rejected, timeout), SQL error, or the directory is unusable. */
export const EXIT_FAILURE = 1;
/** Bad command line. */
export const EXIT_USAGE = 2;
/** 128 + the signal number, the shell convention. */
export const EXIT_SIGNAL_BASE = 128;
