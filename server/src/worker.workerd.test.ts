import { PROTOCOL_VERSION, SYNC_SUBPROTOCOL } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyDemoSchema } from './demo/apply-demo-schema.ts';
import type { HealthReport } from './health/health-report.ts';
import { randomFreePort } from './node/free-port.ts';
import { createTestDatabase, type TestDatabase } from './node/test-database.ts';
import { startWranglerDev, type WranglerDev } from './node/wrangler-dev.ts';
import { waitUntil } from './testing/items-writer.ts';

// The second entry's rule kind is a typo.
const BAD_SCOPES = JSON.stringify([
  { table: 'public.users', rule: { kind: 'shared' } },
  { table: 'public.tasks', rule: { kind: 'owner', column: 'assignee_id', claim: 'sub' } },
]);
const BAD_SCOPES_MESSAGE =
  'SYNC_SCOPES: entry 2 (public.tasks): "rule.kind" must be "shared" or "claim", got string "owner"';

const TOKEN = 'health-admin-token-for-tests';

// Real `wrangler dev` (workerd, local mode) talking to the real test Postgres over TCP. No mocks.
describe('the Worker in workerd', () => {
  let db: TestDatabase;
  let healthy: WranglerDev;
  let unreachable: WranglerDev;
  let misconfigured: WranglerDev;
  const misconfiguredLog: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // The synced (demo) tables must exist: /health includes the replication path, which publishes them.
    await applyDemoSchema(db.url);
    // Nothing listens on a port that was free a moment ago: connecting is refused at once.
    const deadUrl = `postgres://postgres:postgres@127.0.0.1:${await randomFreePort()}/nowhere`;
    [healthy, unreachable, misconfigured] = await Promise.all([
      startWranglerDev({ vars: { DATABASE_URL: db.url, HEALTH_TOKEN: TOKEN } }),
      startWranglerDev({ vars: { DATABASE_URL: deadUrl, HEALTH_TOKEN: TOKEN } }),
      startWranglerDev({
        vars: { DATABASE_URL: db.url, JWT_SECRET: 'not-shown', VIBESTACK_DEV: '1', SYNC_SCOPES: BAD_SCOPES },
        log: (line) => misconfiguredLog.push(line),
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([healthy?.stop(), unreachable?.stop(), misconfigured?.stop()]);
    await db?.drop();
  });

  it('GET /health tells anyone only the status; the details need the admin token', async () => {
    const response = await fetch(`${healthy.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const publicBody = { status: 'ok', service: 'vibestack', protocolVersion: PROTOCOL_VERSION };
    expect(await response.json()).toEqual(publicBody);
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, 'Bearer ']) {
      const other = await fetch(`${healthy.url}/health`, { headers: { authorization } });
      expect(await other.json(), authorization).toEqual(publicBody);
    }

    const detailed = await fetch(`${healthy.url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(detailed.status).toBe(200);
    const body = (await detailed.json()) as HealthReport;
    expect(body).toMatchObject({
      ...publicBody,
      database: { configured: true, reachable: true, walLevel: 'logical' },
      replication: { lastError: null },
    });
    expect(body.database?.serverVersion).toMatch(/^\d+\.\d+/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${healthy.url}/no/such/route`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /no/such/route' },
    });
  });

  it('GET /health reports degraded (503) within the timeout when the database is unreachable', async () => {
    const started = Date.now();
    const response = await fetch(`${unreachable.url}/health`);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'degraded',
      service: 'vibestack',
      protocolVersion: PROTOCOL_VERSION,
      reason: 'database_unreachable',
    });

    const detailed = await fetch(`${unreachable.url}/health`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(detailed.status).toBe(503);
    const body = (await detailed.json()) as HealthReport;
    expect(body).toMatchObject({
      status: 'degraded',
      reason: 'database_unreachable',
      database: { configured: true, reachable: false, walLevel: null, serverVersion: null },
      replication: { slot: 'unknown' },
    });
    expect(body.database?.error).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toContain('postgres:postgres'); // no credentials in the answer
  });

  it('answers every route of a misconfigured Worker with 503 naming the setting, and logs it once', async () => {
    const expected = { error: { code: 'misconfigured', message: BAD_SCOPES_MESSAGE } };
    for (const path of ['/health', '/dev/token?sub=u1', '/no/such/route', '/v1/sync?client_id=c1']) {
      const response = await fetch(`${misconfigured.url}${path}`);
      expect(response.status, path).toBe(503);
      expect(await response.json(), path).toEqual(expected);
    }
    // The sync upgrade is refused with an HTTP 503 (clients back off on 5xx, docs/protocol.md §9.3).
    const upgrade = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${misconfigured.url.replace(/^http/, 'ws')}/v1/sync?client_id=c1`, [
        SYNC_SUBPROTOCOL,
      ]);
      ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => undefined);
    });
    expect(upgrade).toBe(503);
    // Logged once per isolate (not per request), without any secret.
    await waitUntil(
      async () => misconfiguredLog.some((l) => l.includes(BAD_SCOPES_MESSAGE)),
      5_000,
      'the log line',
    );
    expect(misconfiguredLog.filter((l) => l.includes(BAD_SCOPES_MESSAGE))).toHaveLength(1);
    expect(misconfiguredLog.join('\n')).not.toContain('not-shown');
  });
});
