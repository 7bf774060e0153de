import { CLIENT_ID_PATTERN, SYNC_PATH, SYNC_SUBPROTOCOL } from '@vibestack/proto';
import { Hono } from 'hono';
import { checkServerConfig } from './config/config-check.ts';
import {
  BAD_REQUEST_CODE,
  DEV_TOKEN_PARAMS,
  DEV_TOKEN_ROUTE,
  HEADERS,
  HEALTH_DEGRADED_HTTP_STATUS,
  HEALTH_STATUS,
  INTERNAL_ERROR_CODE,
  METHOD_NOT_ALLOWED_CODE,
  MISCONFIGURED_CODE,
  MISCONFIGURED_HTTP_STATUS,
  NOT_FOUND_CODE,
  REPLICATION_DO_NAME,
  ROUTES,
  SYNC_CLIENT_ID_PARAM,
} from './constants.ts';
import { signJwtHs256 } from './core/auth/jwt.ts';
import { devTokenClaims, parseDevTokenTtl } from './dev/dev-token.ts';
import type { AppEnv } from './env.ts';
import { presentsToken } from './health/admin-token.ts';
import { createHealthReport } from './health/health-report.ts';

/**
 * The VibeStack Worker: one Hono app. Routes:
 *
 * - `GET /health` — liveness, database reachability and replication status (`HealthReport`); 200 when ok,
 *   503 when degraded (with a coarse `reason`). Details only with `VIBESTACK_DEV=1` or
 *   `Authorization: Bearer <HEALTH_TOKEN>`.
 * - `GET /v1/sync?client_id=…` — the sync WebSocket (docs/protocol.md), served by the SyncDO of that client id.
 * - `GET /dev/token?sub=…&ttl=…` — dev only (`VIBESTACK_DEV=1`): an HS256 token for a user, for demos and tests;
 *   `ttl` in whole seconds, 1 s – 30 days (default a day), anything else is a 400.
 * - anything else — 404 with a JSON body; an unexpected error is a 500 with a JSON body (no internals).
 *
 * While the configuration is malformed, every route (the sync upgrade included) answers 503
 * `{"error":{"code":"misconfigured","message":"<SETTING>: <problem>"}}`, and the problem is logged once.
 */
export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  const check = checkServerConfig(c.env);
  if (check.ok) return next();
  c.header(HEADERS.cacheControl, HEADERS.noStore);
  return c.json(
    { error: { code: MISCONFIGURED_CODE, message: check.error.message } },
    MISCONFIGURED_HTTP_STATUS,
  );
});

const replicationStub = (env: AppEnv['Bindings']) =>
  env.REPLICATION.get(env.REPLICATION.idFromName(REPLICATION_DO_NAME));

app.get(ROUTES.health, async (c) => {
  const check = checkServerConfig(c.env);
  if (!check.ok) throw check.error; // unreachable: the middleware answered already
  const { config } = check;
  const databaseConfigured = Boolean(config.databaseUrl);
  // The ReplicationDO owns the one long-lived database connection and the slot: it probes (cached), nobody else.
  const probe = databaseConfigured
    ? await replicationStub(c.env)
        .health()
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
    : undefined;
  const detailed =
    config.dev || (await presentsToken(c.req.header(HEADERS.authorization), config.healthToken));
  const report = createHealthReport({ databaseConfigured, detailed, ...(probe ? { probe } : {}) });
  c.header(HEADERS.cacheControl, HEADERS.noStore);
  return c.json(report, report.status === HEALTH_STATUS.ok ? 200 : HEALTH_DEGRADED_HTTP_STATUS);
});

app.get(SYNC_PATH, async (c) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    return c.json({ error: { code: 'upgrade_required', message: 'connect with a WebSocket' } }, 426);
  }
  const offered = (c.req.header('Sec-WebSocket-Protocol') ?? '').split(',').map((p) => p.trim());
  if (!offered.includes(SYNC_SUBPROTOCOL)) {
    return c.json(
      { error: { code: 'bad_subprotocol', message: `offer the subprotocol ${SYNC_SUBPROTOCOL}` } },
      400,
    );
  }
  const clientId = c.req.query(SYNC_CLIENT_ID_PARAM) ?? '';
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    return c.json(
      {
        error: { code: 'bad_client_id', message: `${SYNC_CLIENT_ID_PARAM} must match ${CLIENT_ID_PATTERN}` },
      },
      400,
    );
  }
  const stub = c.env.SYNC.get(c.env.SYNC.idFromName(clientId));
  return stub.fetch(c.req.raw);
});

// Only a GET upgrades to the sync WebSocket; no other method may reach a client's Durable Object.
app.all(SYNC_PATH, (c) => {
  c.header(HEADERS.allow, 'GET');
  return c.json(
    { error: { code: METHOD_NOT_ALLOWED_CODE, message: `${c.req.method} is not allowed; connect with GET` } },
    405,
  );
});

app.get(DEV_TOKEN_ROUTE, async (c) => {
  const check = checkServerConfig(c.env);
  if (!check.ok) throw check.error; // unreachable: the middleware answered already
  const { config } = check;
  if (!config.dev || !config.jwtSecret) return c.notFound();
  const sub = c.req.query(DEV_TOKEN_PARAMS.sub);
  if (!sub) return c.json({ error: { code: BAD_REQUEST_CODE, message: 'sub is required' } }, 400);
  const ttl = parseDevTokenTtl(c.req.query(DEV_TOKEN_PARAMS.ttl));
  if (!ttl.ok) return c.json({ error: { code: BAD_REQUEST_CODE, message: ttl.message } }, 400);
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwtHs256(devTokenClaims(sub, now, ttl.seconds, config), config.jwtSecret);
  c.header(HEADERS.cacheControl, HEADERS.noStore);
  return c.json({ token, sub, expiresAt: new Date((now + ttl.seconds) * 1000).toISOString() });
});

app.notFound((c) =>
  c.json({ error: { code: NOT_FOUND_CODE, message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
);

app.onError((error, c) => {
  console.error(error);
  return c.json({ error: { code: INTERNAL_ERROR_CODE, message: 'Internal error' } }, 500);
});

export { ReplicationDO } from './do/replication-do.ts';
export { SyncDO } from './do/sync-do.ts';
export default app;
