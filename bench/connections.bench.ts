/**
 * Many clients against a Postgres with a normal connection limit (`max_connections` 100), in real workerd
 * (issue 11, point 3). Protocol-level clients; each reconnects as the protocol says (§9.2: after
 * `retry_after_ms` plus full jitter over it for OVERLOADED / UNAVAILABLE).
 * - 1 000 fresh clients at once: how long until all finished their initial sync, how many were told OVERLOADED,
 *   errors of any other kind, the most Postgres backends seen, and whether any Error text came from Postgres.
 * - The same 1 000 reconnecting with their acknowledged LSN at once: Hello → Welcome latency and the Postgres
 *   backends in use meanwhile (a resuming client needs no database connection).
 * - After 12 s of quiet (workerd has evicted the idle SyncDOs): commit → frame at every client.
 * Benchmarks measure; they never assert.
 */

import { ErrorCode, type Lsn, type ServerMessage } from '@vibestack/proto';
import {
  connectProtocolClient,
  ensureDatabase,
  type ProtocolClient,
  startEmbeddedPostgres,
  startWranglerDev,
  withDatabase,
} from '@vibestack/server/dev';
import pg from 'pg';
import type { Benchmark } from './run.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1_000);
const SECRET = 'connections-bench-secret-of-32-bytes!';
const SCOPES = JSON.stringify([{ table: 'public.conn_items', rule: { kind: 'shared' } }]);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  client: ProtocolClient;
  /** Fatal errors received before the one that succeeded, by code. */
  errors: ErrorCode[];
  messages: string[];
}

/** Connects until `done(frame)` is seen, reconnecting after retryable errors as §9.2 says. */
async function connectUntil(
  url: string,
  options: { clientId: string; token: string; resumeLsn?: Lsn },
  done: (m: ServerMessage) => boolean,
  deadline: number,
): Promise<Outcome> {
  const errors: ErrorCode[] = [];
  const messages: string[] = [];
  for (;;) {
    const c = await connectProtocolClient(url, { ...options, autoAck: true, answerPings: true });
    const result = await Promise.race([
      c.waitFor(done, Math.max(1, deadline - Date.now())).then(() => 'ok' as const),
      c.closed.then(() => 'closed' as const),
    ]).catch(() => 'timeout' as const);
    if (result === 'ok') return { client: c, errors, messages };
    const error = c.frames.find((f) => f.message.message.case === 'error')?.message.message;
    const value = error?.case === 'error' ? error.value : undefined;
    errors.push(value?.code ?? ErrorCode.UNSPECIFIED);
    if (value) messages.push(value.message);
    c.terminate();
    if (result === 'timeout' || Date.now() > deadline) return { client: c, errors, messages };
    const after = value?.retryAfterMs || 250;
    await sleep(after + Math.random() * after);
  }
}

export const connectionsBenchmark: Benchmark = {
  name: 'connections',
  async run() {
    const cluster = await startEmbeddedPostgres({ name: 'bench-conn', ephemeral: true, port: 0 });
    await ensureDatabase(cluster.url, 'bench');
    const url = withDatabase(cluster, 'bench').url;
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    await sql.query('CREATE TABLE conn_items (id bigserial PRIMARY KEY, payload text NOT NULL)');
    await sql.query("INSERT INTO conn_items (payload) SELECT 'row ' || g FROM generate_series(1, 20) g");
    const maxConnections = Number((await sql.query('SHOW max_connections')).rows[0].max_connections);
    const worker = await startWranglerDev({
      vars: { DATABASE_URL: url, JWT_SECRET: SECRET, VIBESTACK_DEV: '1', SYNC_SCOPES: SCOPES },
    });
    let peakBackends = 0;
    const backends = async () =>
      Number(
        (
          await sql.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
          )
        ).rows[0].n,
      );
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakBackends = Math.max(peakBackends, await backends());
        await sleep(50);
      }
    })();
    const results: Record<string, number | string> = {
      clients: CLIENTS,
      'postgres max_connections': maxConnections,
    };
    const open: ProtocolClient[] = [];
    try {
      const token = ((await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string })
        .token;
      // 1. Every client's first sync, all at once.
      peakBackends = 0;
      const t0 = performance.now();
      const deadline = Date.now() + 600_000;
      const first = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) =>
          connectUntil(
            worker.url,
            { clientId: `conn-${i}`, token },
            (m) => m.message.case === 'snapshotEnd',
            deadline,
          ),
        ),
      );
      results['initial sync: all done s'] = Math.round(performance.now() - t0) / 1000;
      const errors = first.flatMap((o) => o.errors);
      results['initial sync: OVERLOADED answers'] = errors.filter((e) => e === ErrorCode.OVERLOADED).length;
      results['initial sync: other errors'] = errors.filter((e) => e !== ErrorCode.OVERLOADED).length;
      const byCode = new Map<string, number>();
      for (const e of errors) {
        const name = e === ErrorCode.UNSPECIFIED ? 'no Error frame' : ErrorCode[e];
        byCode.set(name ?? String(e), (byCode.get(name ?? String(e)) ?? 0) + 1);
      }
      results['initial sync: errors by code'] = [...byCode].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
      results['initial sync: clients that never finished'] = first.filter(
        (o) => !o.client.frames.some((f) => f.message.message.case === 'snapshotEnd'),
      ).length;
      results['initial sync: Error messages with Postgres text'] = first
        .flatMap((o) => o.messages)
        .filter((m) => /too many|connection slots|sorry|postgres|role /i.test(m)).length;
      results['initial sync: peak Postgres backends'] = peakBackends;
      // Let every Ack land before the clients go.
      await sleep(1_500);
      const resumeAt = first.map((o) => o.client.ackedLsn());
      for (const o of first) o.client.close();
      await sleep(2_000);

      // 2. Every client resumes at once.
      peakBackends = 0;
      const welcomeMs: number[] = [];
      const t1 = performance.now();
      const resumed = await Promise.all(
        resumeAt.map(async (lsn, i) => {
          const started = performance.now();
          const o = await connectUntil(
            worker.url,
            { clientId: `conn-${i}`, token, resumeLsn: lsn },
            (m) => m.message.case === 'welcome',
            Date.now() + 120_000,
          );
          welcomeMs.push(performance.now() - started);
          return o;
        }),
      );
      results['resume: all welcomed s'] = Math.round(performance.now() - t1) / 1000;
      welcomeMs.sort((a, b) => a - b);
      results['resume: Hello→Welcome p50 ms'] = Math.round(percentile(welcomeMs, 50));
      results['resume: Hello→Welcome p99 ms'] = Math.round(percentile(welcomeMs, 99));
      results['resume: errors'] = resumed.flatMap((o) => o.errors).length;
      results['resume: peak Postgres backends'] = peakBackends;
      const live = resumed.map((o) => o.client);
      open.push(...live);

      // 3. Quiet past workerd's eviction, then one change.
      await sleep(12_000);
      peakBackends = 0;
      const marks = live.map((c) => c.frames.length);
      await sql.query("INSERT INTO conn_items (payload) VALUES ('after quiet')");
      const committed = performance.now();
      const arrivals = await Promise.all(
        live.map(async (c, k) => {
          try {
            await c.waitFor((m) => m.message.case === 'transaction', 30_000, marks[k]);
            const f = c.frames.slice(marks[k]).find((x) => x.message.message.case === 'transaction');
            return f ? f.at - committed : Number.NaN;
          } catch {
            return Number.NaN;
          }
        }),
      );
      const got = arrivals.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
      results['after 12 s quiet: clients that got the change'] = got.length;
      results['after 12 s quiet: commit→frame p50 ms'] = Math.round(percentile(got, 50));
      results['after 12 s quiet: commit→frame p99 ms'] = Math.round(percentile(got, 99));
      results['after 12 s quiet: commit→frame max ms'] = Math.round(got.at(-1) ?? Number.NaN);
      results['after 12 s quiet: peak Postgres backends'] = peakBackends;
      return results;
    } finally {
      sampling = false;
      await sampler;
      for (const c of open) c.terminate();
      await worker.stop();
      await sql.end();
      await cluster.stop();
    }
  },
};
