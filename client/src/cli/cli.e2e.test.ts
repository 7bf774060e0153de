/**
 * The CLI end to end: real Postgres, the real Worker in workerd, and the real `bin/vibestack-client.js` run as a
 * child process on a PGlite directory. `sync --until-caught-up` creates the database and `query` prints the
 * server's rows losslessly; a second run (given the sync URL) resumes without a snapshot; a long-running `sync`
 * follows a live change and stops cleanly on SIGTERM; a refused token fails at once, a wrong URL names the URL it
 * tried, and a bad command line fails with its exit code.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Lsn, parseLsn } from '@vibestack/proto';
import {
  createTestDatabase,
  startWranglerDev,
  type TestDatabase,
  type WranglerDev,
} from '@vibestack/server/dev';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vibestack-client.js', import.meta.url));
const SECRET = 'cli-e2e-secret';
/** One CLI run: node + the CLI bundle (built on first use) + opening PGlite on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 180_000;
const ROWS = 300;

let db: TestDatabase;
let worker: WranglerDev;
let sql: pg.Client;
let tmp: string;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query(`CREATE TABLE items (id int PRIMARY KEY, title text, big int8, amount numeric, ratio float8,
    tags text[], doc jsonb)`);
  // int8 beyond 2^53, 40-digit numerics, numbers inside a document that a float64 cannot hold.
  await sql.query(`INSERT INTO items SELECT g, 'item ' || g, 9007199254740993 + g,
    ('1234567890123456789012345678901234567890.' || g)::numeric, g / 8.0, ARRAY['a', 'b ' || g],
    jsonb_build_object('n', g, 'big', 12345678901234567890123) FROM generate_series(1, ${ROWS}) g`);
  await sql.query(
    "UPDATE items SET amount = 'NaN', ratio = 'Infinity', tags = '{}', doc = NULL WHERE id = 1",
  );
  worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
    },
  });
  tmp = await mkdtemp(join(tmpdir(), 'vibestack-cli-e2e-'));
  dir = join(tmp, 'db');
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await worker?.stop();
  await sql?.end();
  await db?.drop();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

async function token(): Promise<string> {
  const r = await fetch(`${worker.url}/dev/token?sub=u1`);
  return ((await r.json()) as { token: string }).token;
}

interface Cli {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function startCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await cli.exited;
  clearTimeout(timer);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** The `--json` lines on stderr. */
function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const states = (stderr: string) =>
  jsonLines(stderr)
    .filter((l) => l.type === 'status')
    .map((l) => l.state);

async function query(text: string): Promise<Record<string, unknown>[]> {
  const { code, stdout, stderr } = await runCli(['query', '--dir', dir, text]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Record<string, unknown>[];
}

/** The rows as the CLI should print them, computed from the server's own text. */
async function expectedRows(): Promise<Record<string, unknown>[]> {
  type Text = string | null;
  const { rows } = await sql.query<{
    id: string;
    title: Text;
    big: Text;
    amount: Text;
    ratio: Text;
    tags: Text;
    doc: Text;
  }>(
    `SELECT id::text, title, big::text, amount::text, ratio::text, to_json(tags)::text AS tags, doc::text
       FROM items ORDER BY items.id`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    title: r.title,
    big: r.big,
    amount: r.amount,
    ratio: r.ratio === null || r.ratio === 'Infinity' ? r.ratio : Number(r.ratio),
    tags: r.tags === null ? null : JSON.parse(r.tags),
    doc: r.doc === null ? null : JSON.parse(r.doc),
  }));
}
const LOCAL_ROWS = 'SELECT id, title, big, amount, ratio, tags, doc FROM items ORDER BY id';

/** The server's WAL insert position: every transaction committed before this call ends below it. */
async function walPosition(): Promise<Lsn> {
  const { rows } = await sql.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
  return parseLsn(rows[0]!.lsn);
}

/**
 * Changes rows, then commits a marker transaction (whose commit LSN is at or past the returned position), so a
 * client whose applied LSN reaches the position has the changes.
 */
async function changeRows(statements: string[]): Promise<Lsn> {
  for (const s of statements) await sql.query(s);
  const after = await walPosition();
  await sql.query("UPDATE items SET title = title || '.' WHERE id = 2");
  return after;
}

/** Waits until the server's change log holds everything up to `lsn` (so a new connection's head covers it). */
async function serverLogged(lsn: Lsn): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await (await fetch(`${worker.url}/health`)).json()) as {
      replication?: { lastDurableLsn: string | null };
    };
    const durable = body.replication?.lastDurableLsn;
    if (durable != null && parseLsn(durable) >= lsn) return;
    if (Date.now() > deadline) throw new Error(`the change log did not reach ${lsn} (at ${durable})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('syncs a new directory until caught up, and query prints the server rows losslessly', async () => {
  const sync = await runCli(['sync', '--url', worker.url, '--dir', dir, '--until-caught-up', '--json'], {
    VIBESTACK_TOKEN: await token(),
  });
  expect(sync.code, sync.stderr).toBe(0);
  expect(sync.stdout).toBe('');
  expect(states(sync.stderr)).toContain('SNAPSHOT');
  // Snapshot progress has no made-up estimate (the server's is unknown for a table never analyzed).
  const snapshotLines = jsonLines(sync.stderr).filter((l) => l.state === 'SNAPSHOT');
  expect(snapshotLines.length).toBeGreaterThan(0);
  for (const l of snapshotLines) {
    expect(l.estimatedRows).not.toBe('0');
    if ('stagedRows' in l) expect(l.resumed).toBe(false);
  }
  expect(jsonLines(sync.stderr).at(-1)).toMatchObject({ type: 'caught-up' });

  const rows = await query(LOCAL_ROWS);
  expect(rows).toHaveLength(ROWS);
  expect(rows).toEqual(await expectedRows());
  expect(rows[2]).toMatchObject({
    big: '9007199254740996',
    amount: '1234567890123456789012345678901234567890.3',
  });
  expect(rows[0]).toMatchObject({ amount: 'NaN', ratio: 'Infinity', tags: [], doc: null });
  // The document's numbers are printed digit for digit (JSON.parse above rounds them on both sides).
  const { stdout } = await runCli(['query', '--dir', dir, 'SELECT doc FROM items WHERE id = 7']);
  expect(stdout).toBe('[\n{"doc":{"n":7,"big":12345678901234567890123}}\n]\n');
}, 600_000);

it('resumes from the applied LSN on the next run (no snapshot) with --token-command and the sync URL', async () => {
  const [before] = await query('SELECT client_id, applied_lsn::text AS lsn FROM _vibestack.state');
  const logged = await changeRows([
    "UPDATE items SET title = 'changed', big = -9223372036854775808 WHERE id % 50 = 0",
    "INSERT INTO items (id, title, amount) VALUES (1000, 'new', 0.000000000000000000000000000001)",
    'DELETE FROM items WHERE id BETWEEN 10 AND 19',
    // Many small transactions: more frames than the initial credit window, so catch-up spans credit grants.
    ...Array.from({ length: 200 }, (_, i) => `UPDATE items SET ratio = ${i} WHERE id = ${100 + i}`),
  ]);
  await serverLogged(logged);
  const tokenCommand = `${JSON.stringify(process.execPath)} -e "fetch('${worker.url}/dev/token?sub=u1').then((r) => r.json()).then((j) => console.log(j.token))"`;
  // The URL as docs and logs show it, with the directory's own client id.
  const syncUrl = `${worker.url.replace('http://', 'ws://')}/v1/sync?client_id=${before!.client_id}`;
  const sync = await runCli([
    'sync',
    '--url',
    syncUrl,
    '--dir',
    dir,
    '--token-command',
    tokenCommand,
    '--until-caught-up',
    '--json',
  ]);
  expect(sync.code, sync.stderr).toBe(0);
  expect(states(sync.stderr)).not.toContain('SNAPSHOT');
  expect(states(sync.stderr)).toContain('LIVE');

  const [after] = await query('SELECT client_id, applied_lsn::text AS lsn FROM _vibestack.state');
  expect(after!.client_id).toBe(before!.client_id);
  expect(parseLsn(after!.lsn as string)).toBeGreaterThanOrEqual(logged);
  const rows = await query(LOCAL_ROWS);
  expect(rows).toEqual(await expectedRows());
  expect(rows.find((r) => r.id === 1000)).toMatchObject({ amount: '0.000000000000000000000000000001' });
  expect(rows.find((r) => r.id === 50)).toMatchObject({ title: 'changed', big: '-9223372036854775808' });
}, 600_000);

it('follows live changes until SIGTERM, then stops cleanly and keeps the data', async () => {
  const cli = startCli(['sync', '--url', worker.url, '--dir', dir, '--json'], {
    VIBESTACK_TOKEN: await token(),
  });
  const waitFor = async (done: (lines: Record<string, unknown>[]) => boolean, what: string) => {
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while (!done(jsonLines(cli.stderr()))) {
      if (cli.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${what}; stderr:\n${cli.stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitFor((lines) => lines.some((l) => l.state === 'LIVE'), 'LIVE');

  // The directory is taken while sync runs.
  const busy = await runCli(['query', '--dir', dir, 'SELECT 1']);
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain(`in use by process ${cli.child.pid}`);

  const logged = await changeRows([
    "INSERT INTO items (id, title, big) VALUES (2000, 'live', 9223372036854775807)",
  ]);
  await waitFor(
    (lines) => lines.some((l) => l.type === 'status' && parseLsn(l.appliedLsn as string) >= logged),
    'applied LSN past the live change',
  );
  cli.child.kill('SIGTERM');
  expect(await cli.exited, cli.stderr()).toBe(0);
  expect(jsonLines(cli.stderr()).at(-1)).toMatchObject({ type: 'stopped', signal: 'SIGTERM' });

  expect(await query('SELECT id, title, big FROM items WHERE id = 2000')).toEqual([
    { id: 2000, title: 'live', big: '9223372036854775807' },
  ]);
  expect(await query(LOCAL_ROWS)).toEqual(await expectedRows());
}, 600_000);

it('fails at once on a refused fixed token, saying which flags give another', async () => {
  const badDir = join(tmp, 'bad-token');
  const text = await runCli([
    'sync',
    '--url',
    worker.url,
    '--dir',
    badDir,
    '--token',
    'not-a-jwt',
    '--until-caught-up',
  ]);
  expect(text.code).toBe(1);
  const refused =
    /the server refused the token \(UNAUTHENTICATED: [^)]+\); pass a fresh one with --token\/VIBESTACK_TOKEN or use --token-command$/;
  const lines = text.stderr.trim().split('\n');
  expect(lines.map((l) => l.split(' ')[1])).toEqual(['CONNECTING', 'AWAIT_WELCOME', 'FAILED', 'error:']);
  expect(lines[2]).toMatch(/^vibestack-client: FAILED lsn=0\/0 error=UNAUTHENTICATED: /);
  expect(lines[2]).toMatch(refused);
  expect(lines[3]).toMatch(/^vibestack-client: error: UNAUTHENTICATED: /);
  expect(lines[3]).toMatch(refused);

  const json = await runCli(['sync', '--url', worker.url, '--dir', badDir, '--json'], {
    VIBESTACK_TOKEN: 'x.y.z',
  });
  expect(json.code).toBe(1);
  expect(states(json.stderr)).toEqual(['CONNECTING', 'AWAIT_WELCOME', 'FAILED']);
  expect(jsonLines(json.stderr).at(-1)).toMatchObject({
    type: 'error',
    code: 'UNAUTHENTICATED',
    message: expect.stringMatching(refused),
  });
}, 600_000);

it('names the URL it tried when there is no sync endpoint, and checks a client id in --url', async () => {
  const wrong = `${worker.url}/nowhere`;
  const failed = await runCli(['sync', '--url', wrong, '--dir', dir, '--until-caught-up'], {
    VIBESTACK_TOKEN: await token(),
  });
  expect(failed.code).toBe(1);
  const tried = `${wrong.replace('http://', 'ws://')}/v1/sync?client_id=`;
  for (const line of failed.stderr
    .trim()
    .split('\n')
    .filter((l) => /FAILED|error:/.test(l))) {
    expect(line).toContain(`UNAVAILABLE: the WebSocket upgrade at ${tried}`);
    expect(line).toContain('failed (HTTP 404): no VibeStack sync endpoint there; check --url');
  }

  // A client id that is not the directory's: refused before connecting.
  const other = await runCli(
    ['sync', '--url', `${worker.url}/v1/sync?client_id=someone-else`, '--dir', dir, '--until-caught-up'],
    { VIBESTACK_TOKEN: await token() },
  );
  expect(other.code).toBe(2);
  expect(other.stderr).toMatch(/--url names client_id=someone-else, but .* belongs to client id [\w-]+ /);
  // The README's placeholder, copied as is.
  const copied = await runCli(['sync', '--url', 'ws://127.0.0.1:8787/v1/sync?client_id=<id>', '--dir', dir], {
    VIBESTACK_TOKEN: 't',
  });
  expect(copied.code).toBe(2);
  expect(copied.stderr).toContain('client_id=<id>, which is not a client id');
}, 600_000);

it('exits 2 on a bad command line and 1 on an SQL error', async () => {
  const usage = await runCli(['sync', '--url', worker.url, '--dir', dir]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('sync: a token is required');
  expect((await runCli(['frobnicate'])).code).toBe(2);
  const help = await runCli(['query', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: vibestack-client query');

  const bad = await runCli(['query', '--dir', dir, 'SELECT * FROM nowhere']);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toContain('relation "nowhere" does not exist (SQLSTATE 42P01)');
  const missing = await runCli(['query', '--dir', join(tmp, 'missing'), 'SELECT 1']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no database in');

  // Start-up phases for `npm run bench -- cli-startup`, on stderr only when asked for.
  const timed = await runCli(['query', '--dir', dir, 'SELECT 1 AS n'], { VIBESTACK_CLI_TIMING: '1' });
  expect(timed.stdout).toBe('[\n{"n":1}\n]\n');
  expect(timed.stderr).toMatch(/^vibestack-client: timing: bundle (cached|built|built-in-memory) \d+ ms$/m);
  expect(timed.stderr).toMatch(/^vibestack-client: timing: database open \d+ ms$/m);
  // A query process opens PGlite with a small buffer cache (a faster start; sync keeps the default).
  expect(await query('SHOW shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
}, 600_000);
