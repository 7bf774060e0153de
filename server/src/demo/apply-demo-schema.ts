import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { DEMO_SCHEMA_LOCK_KEY } from '../constants.ts';

/** What {@link applyDemoSchema} did. */
export interface ApplyDemoSchemaResult {
  /** True when the demo rows were inserted by this call (the `users` table was empty). */
  readonly seeded: boolean;
}

/** Options of {@link applyDemoSchema}. */
export interface ApplyDemoSchemaOptions {
  /** Insert the demo rows when `users` is empty. Default `true`. */
  readonly seed?: boolean;
}

const schemaFile = new URL('./schema.sql', import.meta.url);
const seedFile = new URL('./seed.sql', import.meta.url);

/** The demo schema DDL (`schema.sql`), idempotent. */
export function readDemoSchemaSql(): Promise<string> {
  return readFile(schemaFile, 'utf8');
}

/** The demo rows (`seed.sql`); only valid on an empty schema. */
export function readDemoSeedSql(): Promise<string> {
  return readFile(seedFile, 'utf8');
}

/**
 * Creates the demo schema (users, projects, tasks, comments and the `task_status` enum) if missing and inserts
 * the demo rows once, when `users` is empty. Safe to call on every start and concurrently: everything runs in
 * one transaction under an advisory lock.
 *
 * @param databaseUrl a `postgres://` URL of an existing database.
 * @example
 * const { seeded } = await applyDemoSchema('postgres://postgres:postgres@127.0.0.1:54329/vibestack');
 */
export async function applyDemoSchema(
  databaseUrl: string,
  options: ApplyDemoSchemaOptions = {},
): Promise<ApplyDemoSchemaResult> {
  const [schemaSql, seedSql] = await Promise.all([readDemoSchemaSql(), readDemoSeedSql()]);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [DEMO_SCHEMA_LOCK_KEY]);
    await client.query(schemaSql);
    let seeded = false;
    if (options.seed ?? true) {
      const { rows } = await client.query<{ empty: boolean }>(
        'SELECT NOT EXISTS (SELECT 1 FROM users) AS empty',
      );
      if (rows[0]?.empty) {
        await client.query(seedSql);
        seeded = true;
      }
    }
    await client.query('COMMIT');
    return { seeded };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
