/**
 * `vibestack-conformance record`: records workloads into fixture files, on an embedded Postgres (the server's
 * dev harness) or on the server of `DATABASE_URL`, in a scratch database that is dropped afterwards.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createTestDatabase,
  type EmbeddedPostgres,
  type PostgresConnectionInfo,
  parsePostgresUrl,
  redactPostgresUrl,
  startEmbeddedPostgres,
} from '@vibestack/server/dev';
import {
  DATABASE_URL_ENV,
  FIXTURE_SUFFIX,
  FIXTURES_DIR,
  RECORD_CLUSTER_NAME,
  RECORD_DATABASE_PREFIX,
} from '../constants.ts';
import { fixtureJson } from '../fixture/fixture-file.ts';
import { recordFixture } from './record-fixture.ts';

/** Usage of the `record` command. */
export const RECORD_USAGE = `Usage: vibestack-conformance record --workload FILE [--workload FILE]... [--out DIR] [--name NAME]

Runs each workload (SQL, statement by statement) against real Postgres and writes the fixture
<out>/<name>.json: the pgoutput stream with LSNs and xids, and the tables after every transaction.

  --workload FILE  the workload SQL (repeatable)
  --out DIR        where fixtures go; default: the fixtures/ directory beside the workload's directory
                   (workloads/basic.sql -> fixtures/basic.json)
  --name NAME      the fixture's name (one workload only); default: the workload's file name

Postgres: the server of $${DATABASE_URL_ENV} when set (the role needs CREATEDB and REPLICATION, or superuser),
else an embedded Postgres started for the recording.`;

/** One fixture to record. */
export interface RecordJob {
  readonly workload: string;
  readonly out: string;
}

/** Parses the arguments after `record`. @throws TypeError on bad arguments (the message says which). */
export function parseRecordArgs(args: readonly string[]): RecordJob[] {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workload: { type: 'string', multiple: true },
      out: { type: 'string' },
      name: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const workloads = values.workload ?? [];
  if (workloads.length === 0) throw new TypeError('record needs at least one --workload FILE');
  if (values.name !== undefined && workloads.length > 1)
    throw new TypeError('--name needs exactly one --workload');
  return workloads.map((workload) => {
    const file = resolve(workload);
    const name = values.name ?? basename(file, extname(file));
    const dir = values.out === undefined ? join(dirname(dirname(file)), FIXTURES_DIR) : resolve(values.out);
    return { workload: file, out: join(dir, `${name}${FIXTURE_SUFFIX}`) };
  });
}

/** Records `jobs` on one Postgres server; `log` gets progress lines. Returns the files written. */
export async function runRecord(
  jobs: readonly RecordJob[],
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void,
): Promise<string[]> {
  const url = env[DATABASE_URL_ENV];
  let embedded: EmbeddedPostgres | undefined;
  let admin: PostgresConnectionInfo;
  if (url) {
    admin = parsePostgresUrl(url);
    log(`recording on ${redactPostgresUrl(url)}`);
  } else {
    embedded = await startEmbeddedPostgres({ name: RECORD_CLUSTER_NAME, ephemeral: true });
    admin = embedded;
    log(`recording on an embedded Postgres (${embedded.dataDir})`);
  }
  const written: string[] = [];
  try {
    for (const job of jobs) {
      const db = await createTestDatabase({ admin, prefix: RECORD_DATABASE_PREFIX });
      try {
        const fixture = await recordFixture({
          url: db.url,
          workload: readFileSync(job.workload, 'utf8'),
          log: (line) => log(`  ${basename(job.workload)} ${line}`),
        });
        mkdirSync(dirname(job.out), { recursive: true });
        writeFileSync(job.out, fixtureJson(fixture));
        written.push(job.out);
        log(`wrote ${job.out}: ${fixture.commits.length} transactions, ${fixture.messages.length} messages`);
      } finally {
        await db.drop();
      }
    }
  } finally {
    await embedded?.stop();
  }
  return written;
}
