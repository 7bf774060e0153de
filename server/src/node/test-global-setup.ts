import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  PG_LOG_FILE_SUFFIX,
  PG_OWNER_FILE_SUFFIX,
  PG_TEST_SETTINGS,
  TEST_CLUSTER_PREFIX,
  TEST_PG_CONTEXT_KEY,
} from '../constants.ts';
import type { PostgresConnectionInfo } from './connection-info.ts';
import { startEmbeddedPostgres } from './embedded-pg.ts';
import { isProcessAlive, processCommandLine, stopProcess } from './process-control.ts';
import { readPostmasterPid } from './stale-server.ts';
import './test-context.ts';

/** Test files whose environment needs the shared cluster. */
const NEEDS_POSTGRES = /\.(pg|workerd|e2e|browser)\.test\.tsx?$/;

/** True when the files this run will execute include one that needs Postgres. */
async function runNeedsPostgres(project: TestProject): Promise<boolean> {
  // `filenamePattern` (the CLI filters) is internal to vitest; without it every included file counts, which
  // can only start Postgres needlessly, never skip it wrongly.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters);
  return testFiles.some((file) => NEEDS_POSTGRES.test(file));
}

/** Removes clusters of earlier test runs that were killed before their teardown (their pid is gone). */
async function removeStaleTestClusters(clustersDir: string): Promise<void> {
  const pattern = new RegExp(`^${TEST_CLUSTER_PREFIX}(\\d+)$`);
  for (const entry of readdirSync(clustersDir)) {
    const runPid = Number(pattern.exec(entry)?.[1]);
    if (!runPid || runPid === process.pid || isProcessAlive(runPid)) continue;
    const dataDir = join(clustersDir, entry);
    const postmaster = readPostmasterPid(dataDir);
    if (
      postmaster &&
      isProcessAlive(postmaster.pid) &&
      processCommandLine(postmaster.pid)?.includes(dataDir)
    ) {
      await stopProcess(postmaster.pid, ['SIGQUIT', 'SIGKILL'], 2_000);
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}${PG_LOG_FILE_SUFFIX}`, { force: true });
    rmSync(`${dataDir}${PG_OWNER_FILE_SUFFIX}`, { force: true });
  }
}

/**
 * Vitest global setup (root `vitest.config.ts`): starts ONE embedded Postgres per run (random free port, own
 * data directory `.vibestack/pg/test-<pid>`, durability off, removed at teardown) when the run includes a
 * `.pg.test.ts`, `.workerd.test.ts`, `.e2e.test.ts` or `.browser.test.ts` file, and provides its admin connection as
 * `inject('vibestackPostgres')`. Tests get their own database from `createTestDatabase()`.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!(await runNeedsPostgres(project))) {
    project.provide(TEST_PG_CONTEXT_KEY, null);
    return undefined;
  }
  const pg = await startEmbeddedPostgres({
    name: `${TEST_CLUSTER_PREFIX}${process.pid}`,
    ephemeral: true,
    settings: PG_TEST_SETTINGS,
  });
  await removeStaleTestClusters(dirname(pg.dataDir));
  const admin: PostgresConnectionInfo = {
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    database: pg.database,
    url: pg.url,
  };
  project.provide(TEST_PG_CONTEXT_KEY, admin);
  return () => pg.stop();
}
