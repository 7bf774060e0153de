/**
 * The server read path in real workerd against real (embedded) Postgres, measured end to end with
 * protocol-level clients (issue 3 targets):
 * - commit → Transaction frame received latency, p50/p99, with 1 and with 100 connected clients;
 * - sustained changes/s delivered to one client;
 * - initial sync (snapshot) rows/s into one client;
 * - workerd memory per idle connected client.
 * Latency uses one clock: Node's performance.now() right after COMMIT returns vs. when the frame arrives.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ensureDatabase, startEmbeddedPostgres, startWranglerDev, withDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import { connectFrameScanner } from '../server/src/testing/frame-scanner.ts';
import { connectProtocolClient, type ProtocolClient } from '../server/src/testing/protocol-client.ts';
import type { Benchmark } from './run.ts';

const SECRET = 'bench-secret';
const SCOPES = JSON.stringify([{ table: 'public.bench_items', rule: { kind: 'shared' } }]);
const USER = 'bench-user';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function rssOfGroup(pgid: number): number {
  const out = execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' });
  let kb = 0;
  for (const pid of out
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // the process ended
    }
  }
  return kb * 1024;
}

async function liveLatency(sql: pg.Client, clients: ProtocolClient[], commits: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < commits; i++) {
    const marks = clients.map((c) => c.frames.length);
    await sql.query("INSERT INTO bench_items (payload) VALUES ('latency')");
    const committedAt = performance.now();
    await Promise.all(
      clients.map(async (c, k) => {
        await c.waitFor((m) => m.message.case === 'transaction', 10_000, marks[k]);
        const frame = c.frames.slice(marks[k]).find((f) => f.message.message.case === 'transaction')!;
        samples.push(frame.at - committedAt);
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
  }
  return samples.sort((a, b) => a - b);
}

export const serverBenchmark: Benchmark = {
  name: 'server',
  async run() {
    const cluster = await startEmbeddedPostgres({ name: 'bench', ephemeral: true, port: 0 });
    await ensureDatabase(cluster.url, 'bench');
    const url = withDatabase(cluster, 'bench').url;
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    await sql.query(
      'CREATE TABLE bench_items (id bigserial PRIMARY KEY, payload text NOT NULL, n int, at timestamptz DEFAULT now())',
    );
    const SNAPSHOT_ROWS = 100_000;
    await sql.query(
      `INSERT INTO bench_items (payload, n) SELECT md5(g::text) || repeat('x', 100), g FROM generate_series(1, ${SNAPSHOT_ROWS}) g`,
    );
    const workerLog: string[] = [];
    const worker = await startWranglerDev({
      vars: { DATABASE_URL: url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: SCOPES },
      log: (line) => workerLog.push(line),
    });
    const results: Record<string, number | string> = {};
    const open: ProtocolClient[] = [];
    try {
      const token = ((await (await fetch(`${worker.url}/dev/token?sub=${USER}`)).json()) as { token: string })
        .token;
      const connect = async (clientId: string) => {
        const c = await connectProtocolClient(worker.url, { clientId, token, initialCredit: 1024 });
        open.push(c);
        const end = await c.waitFor(
          (m) => m.message.case === 'snapshotEnd' || m.message.case === 'progress',
          120_000,
        );
        if (end.message.case === 'snapshotEnd') c.ack(end.message.value.lsn);
        return c;
      };

      // Initial sync of 100k rows into one client.
      const t0 = performance.now();
      const first = await connect('bench-snapshot');
      const snapshotSeconds = (performance.now() - t0) / 1000;
      const rows = first.frames.reduce(
        (n, f) => n + (f.message.message.case === 'snapshotChunk' ? f.message.message.value.rows.length : 0),
        0,
      );
      results['initial sync rows'] = rows;
      results['initial sync rows/s (client decodes every value)'] = Math.round(rows / snapshotSeconds);
      first.close();
      // The same snapshot into a client that only counts rows: what the server streams, without the test
      // client's protobuf-es decoding (~20k rows/s) in the way.
      const t1 = performance.now();
      const scanner = await connectFrameScanner(worker.url, { clientId: 'bench-snapshot-scan', token });
      await scanner.snapshotEnd;
      results['initial sync rows/s (server, counting client)'] = Math.round(
        scanner.snapshotRows() / ((performance.now() - t1) / 1000),
      );
      scanner.close();
      await sql.query('TRUNCATE bench_items');

      // Latency with one client.
      const one = await connect('bench-live-0');
      const single = await liveLatency(sql, [one], 100);
      results['latency 1 client p50 ms'] = percentile(single, 50);
      results['latency 1 client p99 ms'] = percentile(single, 99);

      // Sustained changes/s into one client: 50 transactions of 2000 inserts.
      const mark = one.frames.length;
      const s0 = performance.now();
      for (let i = 0; i < 50; i++) {
        await sql.query(
          "INSERT INTO bench_items (payload, n) SELECT 'sustained', g FROM generate_series(1, 2000) g",
        );
      }
      let delivered = 0;
      while (delivered < 100_000) {
        await one.waitFor(() => true, 60_000, one.frames.length - 1);
        delivered = one.frames
          .slice(mark)
          .reduce(
            (n, f) =>
              n + (f.message.message.case === 'transaction' ? f.message.message.value.changes.length : 0),
            0,
          );
        if (delivered < 100_000) await new Promise((r) => setTimeout(r, 20));
      }
      results['sustained changes/s to one client'] = Math.round(
        delivered / ((performance.now() - s0) / 1000),
      );
      await sql.query('TRUNCATE bench_items');

      // 100 clients: memory per idle client, then latency.
      const rssBefore = rssOfGroup(worker.pid);
      const many: ProtocolClient[] = [one];
      for (let i = 1; i < 100; i++) many.push(await connect(`bench-live-${i}`));
      await new Promise((r) => setTimeout(r, 1000));
      results['workerd RSS bytes per idle client'] = Math.round((rssOfGroup(worker.pid) - rssBefore) / 99);
      const hundred = await liveLatency(sql, many, 50);
      results['latency 100 clients p50 ms'] = percentile(hundred, 50);
      results['latency 100 clients p99 ms'] = percentile(hundred, 99);
      return results;
    } catch (error) {
      console.error(workerLog.slice(-30).join('\n'));
      throw error;
    } finally {
      for (const c of open) c.close();
      await worker.stop();
      await sql.end();
      await cluster.stop();
    }
  },
};
