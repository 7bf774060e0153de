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
