/**
 * Every fixed name and default of the conformance suite, in one place.
 */

import { PGOUTPUT_PROTO_VERSION } from '../../server/src/db/replication-reader.ts';

/** The version of the fixture format (`Fixture.format_version`) this code writes and reads. */
export const FIXTURE_FORMAT_VERSION = 1;

/** The publication (for all tables) and the pgoutput slot the recorder creates in the recording database. */
export const RECORD_PUBLICATION = 'vs_conformance_record';
export const RECORD_SLOT = 'vs_conformance_record';

/**
 * The pgoutput options the server's replication reader peeks with (`server/src/db/replication-reader.ts`),
 * recorded in `Fixture.pgoutput_options`; publication names are left out.
 */
export const RECORD_PGOUTPUT_OPTIONS: readonly string[] = Object.freeze([
  'proto_version',
  PGOUTPUT_PROTO_VERSION,
  'messages',
  'true',
]);

/** Where fixtures live beside the suites that use them, and their file suffix. */
export const FIXTURES_DIR = 'fixtures';
export const FIXTURE_SUFFIX = '.json';

/** Prefix of the scratch databases `record` creates on a `DATABASE_URL` server. */
export const RECORD_DATABASE_PREFIX = 'vs_conformance_';

/** The environment variable naming the Postgres server to record on (default: an embedded one). */
export const DATABASE_URL_ENV = 'DATABASE_URL';

/** The embedded cluster `record` starts when no `DATABASE_URL` is given (under `.vibestack/pg/`). */
export const RECORD_CLUSTER_NAME = 'conformance-record';

/** The reference server's URL path of a case: `/cases/<id>/`; the sync endpoint is `v1/sync` under it. */
export const CASE_PATH_PREFIX = '/cases/';

/**
 * The WebSocket close code the reference server closes a connection with when the client sends a frame on it
 * although the upgrade selected no subprotocol (1002, protocol error, RFC 6455 §7.4.1).
 */
export const CLOSE_PROTOCOL_ERROR = 1002;

/** The user every reference-server token is issued for (`sub`), and the token's signing secret's length. */
export const CONFORMANCE_USER = 'conformance-user';
export const TOKEN_SECRET_BYTES = 32;

/** How long a reference-server token is valid (`exp` − `iat`), in seconds. */
export const TOKEN_LIFETIME_S = 3_600;

/**
 * Least time between two LIVE Progress frames on the reference server, ms (the core's default is 5 s, which
 * would make every case that ends on a transaction without changes wait that long).
 */
export const REFERENCE_PROGRESS_INTERVAL_MS = 50;

/** How long the runner waits for a client to acknowledge what it applied before calling the ack missing, ms. */
export const ACK_GRACE_MS = 3_000;

/** Defaults of a case (suite.proto): the case timeout, and the wait of `await`/`wait_connection` steps, ms. */
export const DEFAULT_CASE_TIMEOUT_MS = 30_000;
export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

/** Where the built-in suites live (relative to the package root), and a suite file's suffixes. */
export const SUITES_DIR = 'suites';
export const SUITE_SUFFIXES: readonly string[] = Object.freeze(['.yaml', '.yml']);

/** How long an adapter gets to exit after SIGTERM before it is killed, ms. */
export const ADAPTER_KILL_GRACE_MS = 2_000;
