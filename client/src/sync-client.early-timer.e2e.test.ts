/**
 * Reconnecting when Node fires a timer a little before `Date.now()` reaches its target. Node's `setTimeout`
 * measures delays on its own loop clock, so a callback scheduled for `at - Date.now()` ms sometimes runs while
 * `Date.now()` is still 1 ms short of `at` (measured here: 2 of 300 random 0–50 ms timers). The client's timer is
 * one `set-timer{at}` effect at a time; a `tick` that arrives before `at` must not be lost, or the client
 * waits for a tick that never comes — in BACKOFF it would never reconnect.
 *
 * This test makes the early firing deterministic (every timer of the process fires 2 ms early while the Worker is
 * down) and checks that the client still reconnects to the restarted Worker. Real Postgres, real Worker in
 * workerd, real PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses } from './testing/status-log.ts';
import { waitUntil, withTimeout } from './testing/wait.ts';

let server: E2eServer;
let local: PGlite;
let client: SyncClient | undefined;
const realSetTimeout = globalThis.setTimeout;

beforeAll(async () => {
  server = await startE2eServer({
    setup: "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, 'one')",
    scopes: [{ table: 'public.items', rule: { kind: 'shared' } }],
  });
  local = await PGlite.create();
}, 120_000);

afterAll(async () => {
  globalThis.setTimeout = realSetTimeout;
  await client?.stop();
  await local?.close();
  await server?.close();
}, 60_000);

/** Makes every timer created from now on fire `earlyMs` before its delay is over. */
function fireTimersEarly(earlyMs: number): void {
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
    realSetTimeout(callback, Math.max(0, (ms ?? 0) - earlyMs), ...args)) as typeof setTimeout;
}

it('reconnects after a server crash even when its backoff timer fires before Date.now() reaches the target', async () => {
  client = await createSyncClient({
    url: server.url,
    db: local,
    token: () => server.token('u1'),
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  const statuses = recordStatuses(client);
  await withTimeout(client.whenLive(), 90_000, () => `the initial sync (${statuses.describe()})`);
  const mark = statuses.mark();

  fireTimersEarly(2);
  await server.crash();
  await waitUntil(() => client!.status.state === 'BACKOFF', 30_000, 'the client to notice the crash');
  await server.restart();
  globalThis.setTimeout = realSetTimeout;

  // Give it ample time: the first reconnect delay is at most 250 ms (docs/protocol.md §9.4).
  const deadline = Date.now() + 30_000;
  while (client.status.state !== 'LIVE' && Date.now() < deadline) {
    await new Promise((r) => realSetTimeout(r, 100));
  }
  const attempts = statuses.states(mark).filter((s) => s === 'CONNECTING').length;
  expect(
    { state: client.status.state, attempts },
    'the client never tried again after its backoff timer fired early',
  ).toEqual({ state: 'LIVE', attempts: expect.any(Number) });
  expect(attempts).toBeGreaterThanOrEqual(1);
  await server.sql.query("INSERT INTO items VALUES (2, 'two')");
  await waitUntil(
    async () => (await local.query('SELECT 1 FROM items')).rows.length === 2,
    30_000,
    'the insert after the restart',
  );
}, 180_000);
