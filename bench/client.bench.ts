/**
 * Client benchmark (issue 4): the real client (`createSyncClient`, PGlite in memory) against the real Worker in
 * workerd and embedded Postgres, all on this machine:
 * - initial sync of 100k rows (~20 MB) into a fresh PGlite, end to end: the first in this process (cold), then
 *   the median of three more (warm), without and with WebSocket compression (permessage-deflate, which the Node
 *   `ws` client offers by default and the Worker accepts);
 * - sustained live apply (50 transactions of 2 000 inserts);
 * - commit in Postgres → row visible in the client's PGlite, p50/p99, with 1 and with 10 clients;
 * - the Node process's memory growth for one synced client.
 */
import { PGlite } from '@electric-sql/pglite';
import { ensureDatabase, startEmbeddedPostgres, startWranglerDev, withDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from '../client/src/sync-client.ts';
import type { Benchmark } from './run.ts';

const SECRET = 'bench-client-secret';
const SCOPES = JSON.stringify([{ table: 'public.bench_rows', rule: { kind: 'shared' } }]);
const SNAPSHOT_ROWS = 100_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Polls `local` until `id` is visible; returns when it is (ms since `since`). */
async function visibleAfter(local: PGlite, id: number, since: number): Promise<number> {
  for (;;) {
    const { rows } = await local.query('SELECT 1 FROM bench_rows WHERE id = $1', [id]);
    if (rows.length > 0) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function countOf(local: PGlite): Promise<number> {
  const { rows } = await local.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_rows');
  return rows[0]?.n ?? 0;
}

export const clientBenchmark: Benchmark = {
  name: 'client',
  async run() {
    const cluster = await startEmbeddedPostgres({ name: 'bench-client', ephemeral: true, port: 0 });
    await ensureDatabase(cluster.url, 'bench');
    const url = withDatabase(cluster, 'bench').url;
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    await sql.query(
      'CREATE TABLE bench_rows (id bigint PRIMARY KEY, payload text NOT NULL, n int, at timestamptz DEFAULT now())',
    );
    await sql.query(
      `INSERT INTO bench_rows (id, payload, n) SELECT g, md5(g::text) || repeat('x', 140), g FROM generate_series(1, ${SNAPSHOT_ROWS}) g`,
    );
    const worker = await startWranglerDev({
      vars: { DATABASE_URL: url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: SCOPES },
    });
    const results: Record<string, number | string> = {};
    const clients: SyncClient[] = [];
    const dbs: PGlite[] = [];
    try {
      const token = async () =>
        ((await (await fetch(`${worker.url}/dev/token?sub=bench`)).json()) as { token: string }).token;
      const fresh = async () => {
        const local = await PGlite.create();
        dbs.push(local);
        return local;
      };
      const start = async (local?: PGlite, perMessageDeflate = false) => {
        local ??= await fresh();
        const client = await createSyncClient({
          url: worker.url,
          db: local,
          token,
          WebSocket: WebSocket as unknown as WebSocketFactory,
          perMessageDeflate,
        });
        clients.push(client);
        return { local, client };
      };

      // Initial sync of 100k rows into a fresh PGlite.
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      // The clock starts with the client, on a PGlite that is already up (creating one takes seconds).
      const firstDb = await fresh();
      const t0 = performance.now();
      const first = await start(firstDb);
      await first.client.whenLive();
      const seconds = (performance.now() - t0) / 1000;
      results['initial sync rows'] = await countOf(first.local);
      results['initial sync rows/s (end to end, first in a cold process)'] = Math.round(
        SNAPSHOT_ROWS / seconds,
      );
      // Where the client's wall time went: handling frames (decode + session), local apply transactions, and
      // the rest — waiting for the network and the server (everything shares this machine's cores).
      const { decodeMs, applyMs, bytes } = first.client.stats;
      const wallMs = seconds * 1000;
      results['initial sync MB received'] = Math.round(bytes / 1e5) / 10;
      results['initial sync share: decode %'] = Math.round((100 * decodeMs) / wallMs);
      results['initial sync share: apply %'] = Math.round((100 * applyMs) / wallMs);
      results['initial sync share: network and server wait %'] = Math.round(
        (100 * Math.max(0, wallMs - decodeMs - applyMs)) / wallMs,
      );
      results['client process RSS growth, one synced client (bytes)'] = process.memoryUsage().rss - rssBefore;

      // The same initial sync again into fresh PGlites, in a process whose code is now warm (JIT, PGlite's
      // compiled module): the first number includes the one-off warm-up any app pays once. The median of three,
      // as single runs on a shared machine vary by ±20 %.
      const warmSync = async (perMessageDeflate: boolean) => {
        const rates: number[] = [];
        for (let i = 0; i < 3; i++) {
          const warmDb = await fresh();
          const w0 = performance.now();
          const warm = await start(warmDb, perMessageDeflate);
          await warm.client.whenLive();
          rates.push(Math.round(SNAPSHOT_ROWS / ((performance.now() - w0) / 1000)));
          await warm.client.stop();
          await warmDb.close();
          dbs.splice(dbs.indexOf(warmDb), 1);
        }
        return rates.sort((a, b) => a - b);
      };
      const plain = await warmSync(false);
      results['initial sync rows/s, warm process, median of 3'] = plain[1]!;
      results['initial sync rows/s, warm process, all 3'] = plain.join(' ');
      const deflate = await warmSync(true);
      results['initial sync rows/s, warm, permessage-deflate, median of 3'] = deflate[1]!;
      results['initial sync rows/s, warm, permessage-deflate, all 3'] = deflate.join(' ');

      // Sustained live apply: 50 transactions of 2 000 inserts.
      const before = await countOf(first.local);
      const s0 = performance.now();
      for (let i = 0; i < 50; i++) {
        const from = 1_000_000 + i * 2_000;
        await sql.query(
          `INSERT INTO bench_rows (id, payload, n) SELECT g, 'live', g FROM generate_series(${from}, ${from + 1_999}) g`,
        );
      }
      while ((await countOf(first.local)) < before + 100_000) await new Promise((r) => setTimeout(r, 20));
      results['sustained live apply changes/s'] = Math.round(100_000 / ((performance.now() - s0) / 1000));

      // Commit → visible, one client.
      const latency = async (locals: PGlite[], samples: number, base: number) => {
        const all: number[] = [];
        for (let i = 0; i < samples; i++) {
          const id = base + i;
          await sql.query("INSERT INTO bench_rows (id, payload) VALUES ($1, 'latency')", [id]);
          const committed = performance.now();
          all.push(...(await Promise.all(locals.map((l) => visibleAfter(l, id, committed)))));
          await new Promise((r) => setTimeout(r, 20));
        }
        return all.sort((a, b) => a - b);
      };
      const one = await latency([first.local], 100, 2_000_000);
      results['commit → visible, 1 client, p50 ms'] = percentile(one, 50);
      results['commit → visible, 1 client, p99 ms'] = percentile(one, 99);

      // Ten clients, each with its own PGlite (the table is emptied first so their initial syncs are quick).
      await sql.query('TRUNCATE bench_rows');
      while ((await countOf(first.local)) > 0) await new Promise((r) => setTimeout(r, 20));
      const ten = [first];
      for (let i = 1; i < 10; i++) {
        const c = await start();
        await c.client.whenLive();
        ten.push(c);
      }
      const tenLatency = await latency(
        ten.map((c) => c.local),
        50,
        3_000_000,
      );
      results['commit → visible, 10 clients, p50 ms'] = percentile(tenLatency, 50);
      results['commit → visible, 10 clients, p99 ms'] = percentile(tenLatency, 99);
      return results;
    } finally {
      for (const c of clients) await c.stop().catch(() => undefined);
      for (const d of dbs) await d.close().catch(() => undefined);
      await worker.stop();
      await sql.end();
      await cluster.stop();
    }
  },
};
