import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { applyDemoSchema } from './apply-demo-schema.ts';

describe('applyDemoSchema', () => {
  let db: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const count = async (table: string): Promise<number> =>
    (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? -1;

  it('creates the schema and seeds once; a second run changes nothing', async () => {
    expect(await applyDemoSchema(db.url)).toEqual({ seeded: true });
    const before = {
      users: await count('users'),
      projects: await count('projects'),
      tasks: await count('tasks'),
    };
    expect(before).toEqual({ users: 3, projects: 4, tasks: 48 });
    expect(await count('comments')).toBe(32);

    expect(await applyDemoSchema(db.url)).toEqual({ seeded: false });
    expect({
      users: await count('users'),
      projects: await count('projects'),
      tasks: await count('tasks'),
    }).toEqual(before);
    const { rows } = await client.query<{ email: string }>('SELECT email FROM users ORDER BY email');
    expect(rows.map((row) => row.email)).toEqual([
      'alice@example.com',
      'bob@example.com',
      'carol@example.com',
    ]);
  });

  it('declares the foreign keys, and Postgres enforces them', async () => {
    const { rows } = await client.query<{ fk: string }>(
      `SELECT conrelid::regclass || '.' || a.attname || ' -> ' || confrelid::regclass AS fk
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace ORDER BY 1`,
    );
    expect(rows.map((row) => row.fk)).toEqual([
      'comments.author_id -> users',
      'comments.task_id -> tasks',
      'projects.owner_id -> users',
      'tasks.assignee_id -> users',
      'tasks.project_id -> projects',
    ]);
    await expect(
      client.query("INSERT INTO tasks (project_id, title, sort_key) VALUES (gen_random_uuid(), 'orphan', 1)"),
    ).rejects.toMatchObject({ code: '23503' });
  });

  it('covers the column types the sync engine must carry', async () => {
    const { rows } = await client.query<{ type: string }>(
      `SELECT DISTINCT format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid IN ('users'::regclass, 'projects'::regclass, 'tasks'::regclass, 'comments'::regclass)
          AND a.attnum > 0 AND NOT a.attisdropped`,
    );
    expect(rows.map((row) => row.type).sort()).toEqual(
      [
        'bigint',
        'boolean',
        'bytea',
        'character varying(120)',
        'character varying(200)',
        'character varying(254)',
        'date',
        'double precision',
        'integer',
        'jsonb',
        'numeric(12,2)',
        'task_status',
        'text',
        'text[]',
        'timestamp with time zone',
        'uuid',
      ].sort(),
    );
    const enumValues = await client.query<{ v: string }>(
      'SELECT unnest(enum_range(NULL::task_status))::text AS v',
    );
    expect(enumValues.rows.map((row) => row.v)).toEqual(['todo', 'in_progress', 'blocked', 'done']);
  });

  it('marks users.password_hash as server-only', async () => {
    const { rows } = await client.query<{ comment: string | null }>(
      "SELECT col_description('users'::regclass, attnum) AS comment FROM pg_attribute " +
        "WHERE attrelid = 'users'::regclass AND attname = 'password_hash'",
    );
    expect(rows[0]?.comment).toMatch(/server-only/);
  });

  it('is safe to run concurrently on a fresh database: exactly one call seeds', async () => {
    const fresh = await createTestDatabase();
    try {
      const results = await Promise.all([applyDemoSchema(fresh.url), applyDemoSchema(fresh.url)]);
      expect(results.filter((result) => result.seeded)).toHaveLength(1);
    } finally {
      await fresh.drop();
    }
  });
});
