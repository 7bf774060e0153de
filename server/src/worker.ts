import { Hono } from 'hono';
import {
  HEADERS,
  HEALTH_DEGRADED_HTTP_STATUS,
  HEALTH_STATUS,
  INTERNAL_ERROR_CODE,
  NOT_FOUND_CODE,
  ROUTES,
} from './constants.ts';
import type { AppEnv } from './env.ts';
import { createHealthReport } from './health/health-report.ts';

/**
 * The VibeStack Worker: one Hono app. Routes:
 *
 * - `GET /health` — liveness plus database reachability (`HealthReport`); 200 when ok, 503 when degraded.
 * - anything else — 404 with a JSON body; an unexpected error is a 500 with a JSON body (no internals).
 */
export const app = new Hono<AppEnv>();

app.get(ROUTES.health, async (c) => {
  const report = await createHealthReport(c.env.DATABASE_URL);
  c.header(HEADERS.cacheControl, HEADERS.noStore);
  return c.json(report, report.status === HEALTH_STATUS.ok ? 200 : HEALTH_DEGRADED_HTTP_STATUS);
});

app.notFound((c) =>
  c.json({ error: { code: NOT_FOUND_CODE, message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
);

app.onError((error, c) => {
  console.error(error);
  return c.json({ error: { code: INTERNAL_ERROR_CODE, message: 'Internal error' } }, 500);
});

export default app;
