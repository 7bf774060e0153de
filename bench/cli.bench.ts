/**
 * CLI start-up benchmark (issue 11): the wall time of the real `bin/vibestack-client.js`, run as a child process
 * the way a user runs it, against the real Worker in workerd and embedded Postgres:
 * - `--help` (node, the loader and the CLI's first module, no database);
 * - `query --dir DIR "SELECT 1"` on a synced directory;
 * - `sync --until-caught-up` on a synced directory with nothing new (start-up, open, connect, catch up, stop);
 * - the phases of a `query`, from `VIBESTACK_CLI_TIMING=1` (ms since the process started);
 * - bare `node -e 0`, the floor.
 * Medians of {@link RUNS} runs: single runs on a shared 2-core machine vary a lot.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, startEmbeddedPostgres, startWranglerDev, withDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import type { Benchmark } from './run.ts';

const BIN = fileURLToPath(new URL('../client/bin/vibestack-client.js', import.meta.url));
const SECRET = 'bench-cli-secret';
const SCOPES = JSON.stringify([{ table: 'public.bench_rows', rule: { kind: 'shared' } }]);
const ROWS = 10_000;
const RUNS = 7;

interface Run {
  readonly ms: number;
  readonly code: number | null;
  readonly stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stderr }));
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]!);
};

/** Runs `args` {@link RUNS} times; returns the median and all wall times (ms). */
async function timed(args: string[], env: Record<string, string> = {}): Promise<[number, string]> {
  const all: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run(args, env);
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    all.push(Math.round(r.ms));
  }
  return [median(all), all.join(' ')];
}

/** Medians of the `timing: PHASE MS` lines of {@link RUNS} runs (ms since the process started). */
async function phases(args: string[], env: Record<string, string> = {}): Promise<Record<string, number>> {
  const byPhase = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    const r = await run(args, { ...env, VIBESTACK_CLI_TIMING: '1' });
    for (const m of r.stderr.matchAll(/timing: (.+?) (\d+(?:\.\d+)?) ms/g)) {
      byPhase.set(m[1]!, [...(byPhase.get(m[1]!) ?? []), Number(m[2])]);
    }
  }
  return Object.fromEntries([...byPhase].map(([phase, ms]) => [phase, median(ms)]));
}

export const cliBenchmark: Benchmark = {
  name: 'cli-startup',
  async run() {
    const cluster = await startEmbeddedPostgres({ name: 'bench-cli', ephemeral: true, port: 0 });
    await ensureDatabase(cluster.url, 'bench');
    const url = withDatabase(cluster, 'bench').url;
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    await sql.query('CREATE TABLE bench_rows (id bigint PRIMARY KEY, payload text NOT NULL, n int)');
    await sql.query(`INSERT INTO bench_rows SELECT g, md5(g::text), g FROM generate_series(1, ${ROWS}) g`);
    const worker = await startWranglerDev({
      vars: { DATABASE_URL: url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: SCOPES },
    });
    const tmp = await mkdtemp(join(tmpdir(), 'vibestack-cli-bench-'));
    const dir = join(tmp, 'db');
    const results: Record<string, number | string> = {};
    try {
      const token = ((await (await fetch(`${worker.url}/dev/token?sub=bench`)).json()) as { token: string })
        .token;
      const sync = ['sync', '--url', worker.url, '--dir', dir, '--until-caught-up'];
      const first = await run([BIN, ...sync], { VIBESTACK_TOKEN: token });
      if (first.code !== 0) throw new Error(`the first sync failed:\n${first.stderr}`);
      results[`sync of a new directory, ${ROWS} rows (ms)`] = Math.round(first.ms);

      const floor = await timed(['-e', '0']);
      results['node -e 0, median ms'] = floor[0];
      const help = await timed([BIN, '--help']);
      results['--help, median ms'] = help[0];
      results['--help, all ms'] = help[1];
      const query = await timed([BIN, 'query', '--dir', dir, 'SELECT 1']);
      results['query "SELECT 1" on a synced directory, median ms'] = query[0];
      results['query "SELECT 1", all ms'] = query[1];
      for (const [phase, ms] of Object.entries(await phases([BIN, 'query', '--dir', dir, 'SELECT 1']))) {
        results[`query phase: ${phase} (ms since start, median)`] = ms;
      }
      const resume = await timed([BIN, ...sync], { VIBESTACK_TOKEN: token });
      results['sync --until-caught-up, nothing new, median ms'] = resume[0];
      results['sync --until-caught-up, nothing new, all ms'] = resume[1];
      for (const [phase, ms] of Object.entries(await phases([BIN, ...sync], { VIBESTACK_TOKEN: token }))) {
        results[`sync phase: ${phase} (ms since start, median)`] = ms;
      }
      return results;
    } finally {
      await worker.stop();
      await sql.end();
      await cluster.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
