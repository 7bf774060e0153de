import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PG_TEST_SETTINGS,
  RELOCATION_CHECKOUT_FILE,
  RELOCATION_NOTE_FILE,
  RELOCATION_ROOT,
} from '../constants.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-pg.ts';
import { isProcessAlive } from './process-control.ts';
import { legacyRelocationDir, relocationDir } from './relocation.ts';
import { createTestDatabase, type TestDatabase, testClusterAdmin } from './test-database.ts';

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A process id that certainly belongs to no running process. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? 999_999;
}

describe('the shared test cluster', () => {
  it('is up, with logical decoding enabled', async () => {
    const admin = testClusterAdmin();
    const rows = await query<{ wal_level: string; slots: string; senders: string }>(
      admin.url,
      "SELECT current_setting('wal_level') AS wal_level, current_setting('max_replication_slots') AS slots, " +
        "current_setting('max_wal_senders') AS senders",
    );
    expect(rows[0]).toEqual({ wal_level: 'logical', slots: '20', senders: '20' });
    expect(admin.host).toBe('127.0.0.1');
    expect(admin.url).toBe(`postgres://postgres:postgres@127.0.0.1:${admin.port}/postgres`);
  });

  describe('a fresh database', () => {
    let db: TestDatabase;
    let other: TestDatabase;
    beforeAll(async () => {
      [db, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    });
    afterAll(async () => {
      await Promise.all([db?.drop(), other?.drop()]);
    });

    it('streams pgoutput changes from a replication slot after an insert into a published table', async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query('CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL)');
        await client.query('CREATE PUBLICATION test_pub FOR TABLE items');
        await client.query("SELECT pg_create_logical_replication_slot('test_slot', 'pgoutput')");
        await client.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')");
        const { rows } = await client.query<{ lsn: string; data: Buffer }>(
          "SELECT lsn, data FROM pg_logical_slot_peek_binary_changes('test_slot', NULL, NULL, " +
            "'proto_version', '1', 'publication_names', 'test_pub')",
        );
        // Begin, Relation, Insert ×2, Commit (pgoutput message types are the first byte).
        const kinds = rows.map((row) => String.fromCharCode(row.data[0] ?? 0));
        expect(kinds).toEqual(['B', 'R', 'I', 'I', 'C']);
        expect(rows[2]?.data.includes(Buffer.from('one'))).toBe(true);
      } finally {
        await client.end();
      }
    });

    it('is isolated from other fresh databases', async () => {
      expect(db.database).not.toBe(other.database);
      expect(db.port).toBe(other.port);
      await query(db.url, 'CREATE TABLE only_here (id int)');
      const here = await query<{ n: number }>(
        db.url,
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_here'",
      );
      const there = await query<{ n: number }>(
        other.url,
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_here'",
      );
      expect(here[0]?.n).toBe(1);
      expect(there[0]?.n).toBe(0);
    });

    it('drop() removes the database even while it has a replication slot', async () => {
      const doomed = await createTestDatabase();
      await query(doomed.url, "SELECT pg_create_logical_replication_slot('doomed_slot', 'pgoutput')");
      await doomed.drop();
      const left = await query<{ n: number }>(
        testClusterAdmin().url,
        'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
        [doomed.database],
      );
      expect(left[0]?.n).toBe(0);
    });
  });
});

describe('startEmbeddedPostgres', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vs-embedded-pg-test-'));
  chmodSync(scratch, 0o755); // mkdtemp makes it 700; as root, Postgres (user postgres) must reach it
  const clustersDir = join(scratch, 'clusters');
  const start = (name: string): Promise<EmbeddedPostgres> =>
    startEmbeddedPostgres({ name, clustersDir, projectRoot: scratch, settings: PG_TEST_SETTINGS });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(relocationDir(scratch), { recursive: true, force: true });
  });

  it('keeps data between runs and removes a postmaster.pid whose process is dead', async () => {
    const first = await start('keep');
    await query(first.url, 'CREATE TABLE kept (id int)');
    await first.stop();
    expect(isProcessAlive(first.pid)).toBe(false);

    // What a crash of Postgres itself leaves behind.
    writeFileSync(
      join(first.dataDir, 'postmaster.pid'),
      `${await deadPid()}\n${first.dataDir}\n0\n${first.port}\n`,
    );
    const second = await start('keep');
    try {
      const rows = await query<{ n: number }>(
        second.url,
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'",
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await second.stop();
    }
  });

  it('starts an ephemeral cluster empty even when a killed run left its data directory behind', async () => {
    const options = { name: 'throwaway', clustersDir, projectRoot: scratch, settings: PG_TEST_SETTINGS };
    const first = await startEmbeddedPostgres({ ...options, ephemeral: true });
    await query(first.url, 'CREATE TABLE leftover (id int)');
    // Killed before stop(): Postgres and the data directory stay behind.
    process.kill(first.pid, 'SIGKILL');
    while (isProcessAlive(first.pid)) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(join(first.dataDir, 'PG_VERSION'))).toBe(true);
    const second = await startEmbeddedPostgres({ ...options, ephemeral: true });
    try {
      const rows = await query<{ n: number }>(
        second.url,
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'leftover'",
      );
      expect(rows[0]?.n).toBe(0);
    } finally {
      await second.stop();
    }
    expect(existsSync(second.dataDir)).toBe(false);
  });

  it('shuts down a server orphaned by a killed harness, and refuses one whose owner is alive', async () => {
    const orphan = await start('orphan');
    // The harness that started it is "gone": its owner record names a dead process.
    writeFileSync(
      join(clustersDir, 'orphan.owner'),
      JSON.stringify({ pid: await deadPid(), startedAt: 'then' }),
    );
    const next = await start('orphan');
    try {
      expect(isProcessAlive(orphan.pid)).toBe(false);
      expect(next.pid).not.toBe(orphan.pid);
      await query(next.url, 'SELECT 1');

      // Now another live process owns it: a clear error, and the running server is left alone.
      const owner = spawn('sleep', ['30']);
      try {
        writeFileSync(
          join(clustersDir, 'orphan.owner'),
          JSON.stringify({ pid: owner.pid, startedAt: 'now' }),
        );
        await expect(start('orphan')).rejects.toThrow(/is in use: server pid \d+ .* started by process \d+/);
        expect(isProcessAlive(next.pid)).toBe(true);
      } finally {
        owner.kill();
      }
    } finally {
      await next.stop();
    }
  });

  it.runIf(process.getuid?.() === 0)(
    'keeps data of a mode-700 checkout (root) in /var/lib/vibestack/<hash>: findable, reused after a kill, stale copies cleaned',
    async () => {
      const locked = join(scratch, 'locked');
      mkdirSync(locked, { mode: 0o700 });
      const preferred = join(locked, 'pg');
      const base = relocationDir(locked);
      const legacy = legacyRelocationDir(locked);
      const options = {
        name: 'relocated',
        clustersDir: preferred,
        projectRoot: locked,
        settings: PG_TEST_SETTINGS,
      };
      // Leftovers the start must clean: the relocation directory of a checkout that was deleted, a binaries copy
      // a killed run left half-done, binaries of another Postgres version.
      const orphaned = join(RELOCATION_ROOT, `test-${process.pid}-gone`);
      mkdirSync(join(orphaned, 'pg', 'dev'), { recursive: true });
      writeFileSync(join(orphaned, RELOCATION_CHECKOUT_FILE), `${join(scratch, 'deleted-checkout')}\n`);
      mkdirSync(join(base, `postgres-0.0.1.tmp-${await deadPid()}-1`), { recursive: true });
      mkdirSync(join(base, 'postgres-0.0.1', 'native'), { recursive: true });
      try {
        const first = await startEmbeddedPostgres(options);
        expect(first.relocated).toBe(true);
        expect(base.startsWith(`${RELOCATION_ROOT}/`)).toBe(true);
        expect(first.dataDir).toBe(join(base, 'pg', 'relocated'));
        expect(statSync(base).mode & 0o777).toBe(0o755);
        // Findable from the checkout, and the directory names its checkout.
        expect(readFileSync(join(preferred, RELOCATION_NOTE_FILE), 'utf8')).toContain(join(base, 'pg'));
        expect(readFileSync(join(base, RELOCATION_CHECKOUT_FILE), 'utf8')).toBe(`${locked}\n`);
        expect(readdirSync(base).filter((entry) => entry.startsWith('postgres-'))).toEqual([]);
        expect(existsSync(orphaned)).toBe(false);
        await query(first.url, 'CREATE TABLE kept (id int)');

        // The harness is killed (its server keeps running, its owner is gone): the next start stops that server
        // and reuses the data in the same place.
        writeFileSync(
          join(base, 'pg', 'relocated.owner'),
          JSON.stringify({ pid: await deadPid(), startedAt: 'then' }),
        );
        const second = await startEmbeddedPostgres(options);
        expect(isProcessAlive(first.pid)).toBe(false);
        expect(second.dataDir).toBe(first.dataDir);
        const kept = "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'";
        expect((await query<{ n: number }>(second.url, kept))[0]?.n).toBe(1);
        await second.stop();
        expect(existsSync(join(second.dataDir, 'PG_VERSION'))).toBe(true); // kept for the next run

        // Data that an earlier version kept in os.tmpdir() (emptied at boot) is moved here and used.
        mkdirSync(join(legacy, 'pg'), { recursive: true, mode: 0o755 });
        execFileSync('mv', [second.dataDir, join(legacy, 'pg', 'relocated')]);
        const third = await startEmbeddedPostgres(options);
        try {
          expect(third.dataDir).toBe(first.dataDir);
          expect((await query<{ n: number }>(third.url, kept))[0]?.n).toBe(1);
          expect(existsSync(legacy)).toBe(false);
        } finally {
          await third.stop();
        }
      } finally {
        rmSync(base, { recursive: true, force: true });
        rmSync(legacy, { recursive: true, force: true });
        rmSync(orphaned, { recursive: true, force: true });
      }
    },
  );
});
