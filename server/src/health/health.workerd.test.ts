/**
 * `GET /health` in real workerd against the real test Postgres: the replication slot's absence is unhealthy, the
 * database is probed on the ReplicationDO's own connection at most once per HEALTH_CACHE_MS (not once per
 * request), and the details need the admin token. The Worker gets its settings the way `npm start` passes them
 * (collected from an environment), so this also shows SYNC_SCOPES from the environment reaching the Worker.
 *
 * The Worker connects as a role of its own (REPLICATION, owner of the synced table, no superuser), so that the
 * test can take REPLICATION away: the ReplicationDO then cannot recreate a dropped slot, and the "slot missing"
 * state lasts until the test gives it back — deterministic, instead of a race with the next poll.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@vibestack/proto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEALTH_CACHE_MS } from '../constants.ts';
import { withDatabase } from '../node/connection-info.ts';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { collectWorkerVars, startWorkerVars } from '../node/worker-vars.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES, waitUntil } from '../testing/items-writer.ts';
import type { HealthReport } from './health-report.ts';

const TOKEN = randomBytes(24).toString('hex');
const ROLE = `vs_health_${randomBytes(4).toString('hex')}`;
const SLOT = `${ROLE}_slot`;
const PUBLICATION = `${ROLE}_pub`;

let db: TestDatabase;
let admin: pg.Client; // superuser, on the test database
let worker: WranglerDev;

async function health(token?: string): Promise<{ http: number; body: HealthReport }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`${worker.url}/health`, { headers });
  return { http: response.status, body: (await response.json()) as HealthReport };
}

async function sessionsStarted(): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT sessions AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  db = await createTestDatabase();
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN REPLICATION PASSWORD 'pw'`);
  await admin.query(`GRANT CREATE ON DATABASE ${db.database} TO ${ROLE}`);
  await createItemsTable(admin, 10);
  await admin.query(`ALTER TABLE items OWNER TO ${ROLE}`);

  // As `npm start` passes settings: collected from its environment (no .dev.vars here).
  const environment = {
    DATABASE_URL: withDatabase({ ...db, user: ROLE, password: 'pw' }, db.database).url,
    SYNC_SCOPES: ITEMS_SCOPES,
    REPLICATION_SLOT: SLOT,
    REPLICATION_PUBLICATION: PUBLICATION,
    HEALTH_TOKEN: TOKEN,
    VIBESTACK_DEV: '0',
  };
  const collected = collectWorkerVars({
    env: environment,
    devVarsFile: join(tmpdir(), `${ROLE}-absent.dev.vars`),
  });
  const { vars } = startWorkerVars(collected, {
    DATABASE_URL: 'postgres://unused',
    JWT_SECRET: 'unused-secret-of-at-least-32-bytes!!',
    VIBESTACK_DEV: '0',
  });
  worker = await startWranglerDev({ vars });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await admin?.end();
  await db?.drop();
  const cluster = new pg.Client({ connectionString: withDatabase(db, 'postgres').url });
  await cluster.connect();
  await cluster.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await cluster.end();
}, 60_000);

it('becomes ok once replication runs, on the publication SYNC_SCOPES from the environment asked for', async () => {
  await waitUntil(
    async () => {
      const { http, body } = await health(TOKEN);
      return http === 200 && body.replication?.status === 'ok' && body.replication.slot === 'ok';
    },
    30_000,
    'replication to run',
  );
  const { rows } = await admin.query<{ table: string }>(
    "SELECT schemaname || '.' || tablename AS table FROM pg_publication_tables WHERE pubname = $1",
    [PUBLICATION],
  );
  expect(rows.map((r) => r.table)).toEqual(['public.items']);
});

it('probes the database once per cache period on the ReplicationDO connection, not once per request', async () => {
  const before = await sessionsStarted();
  const started = Date.now();
  const checkedAt = new Set<string | null | undefined>();
  for (let round = 0; round < 6; round++) {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => health(i === 0 ? TOKEN : undefined)),
    );
    for (const { http, body } of answers) {
      expect(http).toBe(200);
      if (body.database) checkedAt.add(body.database.checkedAt);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const elapsed = Date.now() - started;
  // Probes ran at most once per period (a period boundary may fall inside the run)…
  expect(checkedAt.size).toBeLessThanOrEqual(Math.ceil(elapsed / HEALTH_CACHE_MS) + 1);
  // …and opened no connection: 60 requests, at most one new session (stats reach pg_stat_database within ~1 s).
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await sessionsStarted()) - before).toBeLessThanOrEqual(1);
});

it('reports a dropped replication slot as unhealthy (503) for as long as it is missing', async () => {
  // Without REPLICATION the ReplicationDO can neither read nor recreate the slot.
  await admin.query(`ALTER ROLE ${ROLE} NOREPLICATION`);
  await waitUntil(
    async () => {
      try {
        await admin.query('SELECT pg_drop_replication_slot($1)', [SLOT]);
        return true;
      } catch (error) {
        if (/is active/.test((error as Error).message)) return false; // a poll that began before the ALTER
        throw error;
      }
    },
    10_000,
    'the slot to be dropped',
  );

  await waitUntil(
    async () => (await health()).body.reason === 'replication_slot_missing',
    15_000,
    'degraded',
  );
  const missing = await health();
  expect(missing).toEqual({
    http: 503,
    body: {
      status: 'degraded',
      service: 'vibestack',
      protocolVersion: PROTOCOL_VERSION,
      reason: 'replication_slot_missing',
    },
  });
  const detailed = await health(TOKEN);
  expect(detailed.http).toBe(503);
  expect(detailed.body).toMatchObject({
    database: { reachable: true },
    // Whatever the last poll said (it may not have noticed yet): the slot's absence alone is unhealthy.
    replication: { slot: 'missing', slotConfirmedLsn: null },
  });
  // Still missing after several polls and cache periods: health does not flip back on its own.
  await new Promise((r) => setTimeout(r, 2 * HEALTH_CACHE_MS + 500));
  expect(await health()).toMatchObject({ http: 503, body: { reason: 'replication_slot_missing' } });

  // Once the role may again, the ReplicationDO creates a new slot (clients re-sync) and health is ok again.
  await admin.query(`ALTER ROLE ${ROLE} REPLICATION`);
  await waitUntil(
    async () => {
      const { http, body } = await health(TOKEN);
      return http === 200 && body.replication?.slot === 'ok' && body.replication.status === 'ok';
    },
    30_000,
    'health to return to ok with a new slot',
  );
  const { rows } = await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [SLOT]);
  expect(rows).toHaveLength(1);
}, 90_000);
