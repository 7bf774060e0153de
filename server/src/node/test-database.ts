import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { TEST_DATABASE_PREFIX, TEST_PG_CONTEXT_KEY } from '../constants.ts';
import { type PostgresConnectionInfo, withDatabase } from './connection-info.ts';
import './test-context.ts';

/** A database created for one test file (or test). */
export interface TestDatabase extends PostgresConnectionInfo {
  /** Drops the database, first dropping its replication slots and ending its sessions. Idempotent. */
  drop(): Promise<void>;
}

/** Options of {@link createTestDatabase}. */
export interface CreateTestDatabaseOptions {
  /** Admin connection of the cluster. Default: the shared test cluster (`inject('vibestackPostgres')`). */
  readonly admin?: PostgresConnectionInfo;
  /** Name prefix (lower-case letters, digits, `_`). Default `vs_test_`. */
  readonly prefix?: string;
}

/** The shared test cluster's admin connection, with a clear error when the global setup did not start it. */
export function testClusterAdmin(): PostgresConnectionInfo {
  const admin = inject(TEST_PG_CONTEXT_KEY);
  if (!admin) {
    throw new Error(
      'No test Postgres: the vitest global setup starts it only when the run includes a .pg.test.ts, ' +
        '.workerd.test.ts or .e2e.test.ts file. Name the test file accordingly (and restart watch mode).',
    );
  }
  return admin;
}

const SLOT_DROP_TIMEOUT_MS = 5_000;

async function withAdmin<T>(
  admin: PostgresConnectionInfo,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: admin.url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, empty database with a random name in the shared test cluster and returns its connection
 * (superuser, so it can create replication slots and publications).
 *
 * @example
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const admin = options.admin ?? testClusterAdmin();
  const database = `${options.prefix ?? TEST_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`));
  const info = withDatabase(admin, database);
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= withAdmin(admin, async (client) => {
      // Logical slots pin their database: DROP DATABASE refuses while one exists. A slot stays active for a
      // moment after its session is terminated, so retry until none is left.
      const deadline = Date.now() + SLOT_DROP_TIMEOUT_MS;
      for (;;) {
        const { rows } = await client.query<{ slot_name: string; active_pid: number | null }>(
          'SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1',
          [database],
        );
        if (rows.length === 0 || Date.now() > deadline) break;
        for (const slot of rows) {
          if (slot.active_pid !== null) {
            await client.query('SELECT pg_terminate_backend($1)', [slot.active_pid]);
          } else {
            await client
              .query('SELECT pg_drop_replication_slot($1)', [slot.slot_name])
              .catch(() => undefined);
          }
        }
        await sleep(20);
      }
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`);
    });
    return dropping;
  };
  return { ...info, drop };
}
