/**
 * A token that expires while the client is connected (docs/protocol.md §4.3): the server closes the connection
 * with UNAUTHENTICATED (4001) when the token's `exp` plus the server's leeway (30 s) has passed — from the
 * SyncDO's alarm, also after workerd evicted the idle object and the session came back from its checkpoint —
 * and the client asks its token function for a fresh token (`fresh = true`), reconnects, and resumes from its
 * applied LSN (CATCHING_UP → LIVE) without downloading the snapshot again; a write committed while it was away
 * arrives. Real Postgres, real Worker in workerd, real PGlite.
 */
import { PGlite } from '@electric-sql/pglite';
import { ErrorCode } from '@vibestack/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';
import { expectConverges } from './testing/converge.ts';
import { type E2eServer, startE2eServer } from './testing/e2e-server.ts';
import { recordStatuses } from './testing/status-log.ts';
import { localTextRows, serverTextRows, textRowsQuery } from './testing/text-rows.ts';
import { waitUntil, withTimeout } from './testing/wait.ts';

/** The server's default grace after `exp` before it closes (server/src/core/session/session-config.ts). */
const SERVER_TOKEN_LEEWAY_MS = 30_000;
/** Lifetime of the first token, s. */
const SHORT_TTL = 2;
const ITEMS_QUERY = textRowsQuery('public.items', ['id', 'v', 'note'], 'id');

let server: E2eServer;
let local: PGlite;
let client: SyncClient | undefined;
const lines: { readonly at: number; readonly line: string }[] = [];

beforeAll(async () => {
  server = await startE2eServer({
    setup: `CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text);
      INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, 500) g`,
    scopes: [{ table: 'public.items', rule: { kind: 'shared' } }],
    // No heartbeat before the token expires: nothing but the expiry alarm wakes the idle SyncDO, so workerd
    // evicts it in between (~10 s idle).
    vars: { HEARTBEAT_INTERVAL_MS: '120000' },
    log: (line) => lines.push({ at: Date.now(), line }),
  });
  local = await PGlite.create();
}, 120_000);

afterAll(async () => {
  await client?.stop();
  await local?.close();
  await server?.close();
}, 60_000);

const expOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;

it('closes with UNAUTHENTICATED when the token expires; the client gets a fresh token and resumes without a snapshot', async () => {
  const minted: { readonly fresh: boolean; readonly exp: number }[] = [];
  const token = async (fresh: boolean): Promise<string> => {
    const first = minted.length === 0;
    // A write the client misses while it is away: it must come with the catch-up.
    if (!first) await server.sql.query("INSERT INTO items VALUES (9001, 1, 'while away')");
    const response = await fetch(`${server.url}/dev/token?sub=u1&ttl=${first ? SHORT_TTL : 3600}`);
    const { token } = (await response.json()) as { token: string };
    minted.push({ fresh, exp: expOf(token) });
    return token;
  };
  client = await createSyncClient({
    url: server.url,
    db: local,
    token,
    WebSocket: WebSocket as unknown as WebSocketFactory,
  });
  const statuses = recordStatuses(client);
  await withTimeout(client.whenLive(), 60_000, () => `the initial sync (${statuses.describe()})`);
  expect(statuses.states()).toContain('SNAPSHOT');
  const live = statuses.mark();
  const liveAt = Date.now();
  const closesAt = minted[0]!.exp * 1000 + SERVER_TOKEN_LEEWAY_MS;

  // From the recorded statuses, not by polling the state: the reconnect with a fresh token can bring the client
  // back to LIVE between two polls.
  const leftLive = () => statuses.entries.slice(live).find((e) => e.status.state !== 'LIVE');
  await waitUntil(
    () => leftLive() !== undefined,
    closesAt - Date.now() + 15_000,
    () => `the expiry close (${statuses.describe(live)})`,
  );
  const left = leftLive()!;
  const closedAt = left.at;
  expect(left.status.state).toBe('BACKOFF');
  expect(left.status.error?.code).toBe(ErrorCode.UNAUTHENTICATED);
  expect(left.status.error?.message).toMatch(/the token expired/);
  // Not before exp + leeway, and promptly after it: the alarm fired at the deadline.
  expect(closedAt).toBeGreaterThanOrEqual(closesAt);
  expect(closedAt).toBeLessThan(closesAt + 5_000);
  // Meanwhile workerd evicted the idle SyncDO: the session that closed was restored from its checkpoint, so the
  // expiry deadline survived hibernation.
  await waitUntil(
    () => lines.some((l) => l.line.includes('session restored from its checkpoint')),
    5_000,
    'the restore to be logged',
  );
  const recreated = lines.filter((l) => l.line.includes('SyncDO re-created') && l.at > liveAt);
  expect(recreated.length, lines.map((l) => l.line).join('\n')).toBeGreaterThanOrEqual(1);
  expect(recreated[0]!.at).toBeLessThan(closedAt);

  await withTimeout(client.whenLive(), 30_000, () => `LIVE again (${statuses.describe(live)})`);
  // Exactly one fresh token was asked for, and the client resumed: no snapshot, the missed write arrived.
  expect(minted.map((m) => m.fresh)).toEqual([false, true]);
  const states = statuses.states(live);
  expect(states).not.toContain('SNAPSHOT');
  expect(states).not.toContain('FAILED');
  expect(states.at(-1)).toBe('LIVE');
  expect(statuses.entries.slice(live).every((e) => e.status.snapshot === undefined)).toBe(true);
  const rows = await expectConverges(
    () => localTextRows(local, ITEMS_QUERY),
    () => serverTextRows(server.sql, ITEMS_QUERY),
  );
  expect(rows.at(-1)).toEqual(['9001', '1', 'while away']);
  // And the new connection stays live: a later write arrives too.
  await server.sql.query("INSERT INTO items VALUES (9002, 2, 'after')");
  await expectConverges(
    () => localTextRows(local, ITEMS_QUERY),
    () => serverTextRows(server.sql, ITEMS_QUERY),
  );
}, 150_000);
