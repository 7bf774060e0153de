import { PROTOCOL_VERSION } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDemoSchema } from './demo/apply-demo-schema.ts';
import type { HealthReport } from './health/health-report.ts';
import { randomFreePort } from './node/free-port.ts';
import { createTestDatabase, type TestDatabase } from './node/test-database.ts';
import { startWranglerDev, type WranglerDev } from './node/wrangler-dev.ts';

// Real `wrangler dev` (workerd, local mode) talking to the real test Postgres over TCP. No mocks.
describe('the Worker in workerd', () => {
  let db: TestDatabase;
  let healthy: WranglerDev;
  let unreachable: WranglerDev;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The synced (demo) tables must exist: /health includes the replication path, which publishes them.
    await applyDemoSchema(db.url);
    // Nothing listens on a port that was free a moment ago: connecting is refused at once.
    const deadUrl = `postgres://postgres:postgres@127.0.0.1:${await randomFreePort()}/nowhere`;
    [healthy, unreachable] = await Promise.all([
      startWranglerDev({ vars: { DATABASE_URL: db.url } }),
      startWranglerDev({ vars: { DATABASE_URL: deadUrl } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([healthy?.stop(), unreachable?.stop()]);
    await db?.drop();
  });

  it('GET /health reports ok with a reachable, logical-WAL database', async () => {
    const response = await fetch(`${healthy.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as HealthReport;
    expect(body).toMatchObject({
      status: 'ok',
      service: 'vibestack',
      protocolVersion: PROTOCOL_VERSION,
      database: { configured: true, reachable: true, walLevel: 'logical' },
    });
    expect(body.database.serverVersion).toMatch(/^\d+\.\d+/);
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
    const body = (await response.json()) as HealthReport;
    expect(body).toMatchObject({
      status: 'degraded',
      service: 'vibestack',
      database: { configured: true, reachable: false, walLevel: null, serverVersion: null },
    });
    expect(body.database.error).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toContain('postgres:postgres'); // no credentials in the answer
  });
});
