/**
 * The server crashes and comes back while the client keeps running (docs/protocol.md §8.9, §9.3, §9.4): wrangler
 * and workerd are SIGKILLed mid-stream — a writer keeps committing transactions before, during and after the
 * outage — and restarted on the same Durable Object storage and port. The client, left alone, retries with
 * backoff (a handful of attempts, not a hot loop), resumes from its applied LSN without a new snapshot, and ends
 * with every transaction applied exactly once (an apply probe keyed by commit LSN) and a state equal to the
 * server's. Real Postgres, real Worker in workerd, real PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import { parseLsn } from '@vibestack/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { PROBE_QUERY, PROBE_SETUP_SQL, probeBeforeCommit } from './testing/apply-probe.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { waitUntil, withTimeout } from './testing/wait.ts';

const SEED_ROWS = 3_000;
const ITEMS_QUERY = textRowsQuery('public.items', ['id', 'v', 'note'], 'id');

let server: E2eServer;
let local: PGlite;
let client: SyncClient | undefined;

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text);
      INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, ${SEED_ROWS}) g`,
    scopes: [{ table: 'public.items', rule: { kind: 'shared' } }],
  });
  local = await PGlite.create();
  await local.exec(PROBE_SETUP_SQL);
}, 120_000);

afterAll(async () => {
  await client?.stop();
  await local?.close();
  await server?.close();
}, 60_000);

/** Commits one transaction per iteration until stopped; each changes rows of `items` (so concerns the client). */
function startWriter() {
  let stopping = false;
  let transactions = 0;
  const loop = (async () => {
    for (let k = 1; !stopping; k++) {
      const statements = [`UPDATE items SET v = v + 1, note = 'w${k}' WHERE id = ${(k % SEED_ROWS) + 1}`];
      if (k % 10 === 0) statements.push(`INSERT INTO items VALUES (${100_000 + k}, ${k}, 'new ${k}')`);
      if (k % 10 === 5 && k > 10) statements.push(`DELETE FROM items WHERE id = ${100_000 + k - 15}`);
      await server.sql.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
      transactions++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    get transactions() {
      return transactions;
    },
    async stop(): Promise<number> {
      stopping = true;
      await loop;
      return transactions;
    },
  };
}

it('reconnects with backoff after the Worker is SIGKILLed and restarted, and catches up without a new snapshot', async () => {
  client = await createSyncClient({
    url: server.url,
    db: local,
    token: () => server.token('u1'),
    WebSocket: WebSocket as unknown as WebSocketFactory,
    store: { beforeCommit: probeBeforeCommit('items', 1) },
  });
  const statuses = recordStatuses(client);
  await withTimeout(client.whenLive(), 90_000, () => `the initial sync (${statuses.describe()})`);
  const writer = startWriter();
  await waitUntil(
    async () => (await local.query('SELECT 1 FROM probe.applied')).rows.length >= 20,
    60_000,
    'the client to apply 20 live transactions',
  );

  // The crash, mid-stream.
  const beforeCrash = statuses.mark();
  const appliedAtCrash = client.status.appliedLsn;
  await server.crash();
  const crashedAt = Date.now();
  await waitUntil(() => client!.status.state === 'BACKOFF', 30_000, 'the client to notice the crash');
  // Transactions pile up in the slot while nobody reads it; the client keeps trying meanwhile.
  await waitUntil(
    () =>
      statuses.states(beforeCrash).filter((s) => s === 'CONNECTING').length >= 3 &&
      Date.now() - crashedAt >= 3_000,
    60_000,
    () => `three reconnect attempts (since the crash: ${statuses.describe(beforeCrash)})`,
  );
  const whileDown = writer.transactions;
  await server.sql.query("UPDATE items SET note = 'outage' WHERE id <= 1000"); // one large transaction
  await server.restart();
  const restartedAt = Date.now();
  await waitUntil(() => writer.transactions >= whileDown + 20, 60_000, 'more writes after the restart');
  const written = (await writer.stop()) + 1;
  await withTimeout(
    client.whenLive(),
    90_000,
    () => `LIVE again (since the crash: ${statuses.describe(beforeCrash)})`,
  );
  const final = await expectConverges(
    () => localTextRows(local, ITEMS_QUERY),
    () => serverTextRows(server.sql, ITEMS_QUERY),
    90_000,
  );
  expect(final.length).toBeGreaterThan(SEED_ROWS);

  // The state history since the crash: retries, then a resume (CATCHING_UP or LIVE), never a snapshot.
  const states = statuses.states(beforeCrash);
  expect(states).toContain('BACKOFF');
  expect(states).not.toContain('SNAPSHOT');
  expect(states).not.toContain('FAILED');
  expect(states.at(-1)).toBe('LIVE');
  expect(statuses.entries.slice(beforeCrash).every((e) => e.status.snapshot === undefined)).toBe(true);
  // Backoff, not a hot loop: a few attempts per outage (full jitter over 250 ms × 2ⁿ, capped at 30 s).
  const attempts = statuses.entries
    .slice(beforeCrash)
    .filter((e, i, all) => e.status.state === 'CONNECTING' && all[i - 1]?.status.state !== 'CONNECTING');
  const outageAttempts = attempts.filter((e) => e.at < restartedAt).length;
  expect(outageAttempts).toBeGreaterThanOrEqual(3);
  expect(outageAttempts).toBeLessThanOrEqual(10 + Math.ceil((restartedAt - crashedAt) / 2_000));

  // Every server transaction since the client went live, exactly once and in commit order.
  const probe = (await localTextRows(local, PROBE_QUERY)).map((r) => parseLsn(r[0]!));
  expect(probe).toHaveLength(written);
  expect(probe.every((lsn, i) => i === 0 || lsn > probe[i - 1]!)).toBe(true);
  expect(probe.filter((lsn) => lsn > appliedAtCrash).length).toBeGreaterThan(20);
  expect(client.status.appliedLsn).toBeGreaterThanOrEqual(probe.at(-1)!);

  // Live again.
  await server.sql.query("INSERT INTO items VALUES (-1, -1, 'after the restart')");
  await expectConverges(
    () => localTextRows(local, ITEMS_QUERY),
    () => serverTextRows(server.sql, ITEMS_QUERY),
    30_000,
  );
}, 240_000);
