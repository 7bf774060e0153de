/**
 * `npm start`: a local VibeStack in one command.
 *
 * 0. Collects every Worker setting (`CONFIG_ENV_NAMES`) from the environment and `server/.dev.vars` (the
 *    environment wins) and checks them as the Worker will: a malformed one ends the start here, before anything
 *    runs, with one line naming it (exit code 1).
 * 1. Postgres: `DATABASE_URL` from the environment (or `.dev.vars`) if set, otherwise an embedded cluster
 *    (`.vibestack/pg/dev`, port 54329 or a free one) with a `vibestack` database.
 * 2. The demo schema and, once, the demo rows (skip with `--no-demo`).
 * 3. `wrangler dev` (real workerd, local, port 8787 or a free one) with every collected setting, plus
 *    `DATABASE_URL`, `JWT_SECRET` (a dev secret kept in `.vibestack/`) and `VIBESTACK_DEV=1` unless set; prints
 *    which settings it passed and from where (names only).
 * 4. Prints the Worker URL and the DATABASE_URL once `GET /health` answers.
 *
 * Ctrl-C / SIGTERM stops wrangler, then Postgres, and exits 0. If wrangler dies on its own, Postgres is stopped
 * and the exit code is 1. Leftovers of a SIGKILLed earlier run are cleaned up first.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNC_PATH } from '@vibestack/proto';
import { tryLoadServerConfig } from '../config/config-check.ts';
import { isConfigError } from '../config/config-error.ts';
import {
  DEMO_USERS,
  DEV_CLUSTER_NAME,
  DEV_DATABASE,
  DEV_JWT_SECRET_FILE,
  DEV_PG_PORT,
  DEV_TOKEN_ROUTE,
  DEV_VARS_FILE,
  DEV_WORKER_PERSIST_DIR,
  DEV_WORKER_PORT,
  LOCAL_STATE_DIR,
  PG_CLUSTERS_DIR,
  RELOCATION_NOTE_FILE,
  ROUTES,
  WRANGLER_STATE_DIR,
} from '../constants.ts';
import { applyDemoSchema } from '../demo/apply-demo-schema.ts';
import { redactPostgresUrl } from './connection-info.ts';
import { startEmbeddedPostgres } from './embedded-pg.ts';
import { ensureDatabase } from './ensure-database.ts';
import { findProjectRoot } from './project-root.ts';
import { clearStaleStart, removeStartState, writeStartState } from './start-state.ts';
import { type CollectedWorkerVars, collectWorkerVars, startWorkerVars } from './worker-vars.ts';
import { startWranglerDev } from './wrangler-dev.ts';

const say = (line: string): void => console.log(`[vibestack] ${line}`);
const projectRoot = findProjectRoot();
const withDemo = !process.argv.includes('--no-demo');
const devVarsLabel = `server/${DEV_VARS_FILE}`;

/** Stand-ins for what npm start creates later, so that the settings can be checked before anything starts. */
const CHECK_STAND_INS = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/vibestack',
  JWT_SECRET: '0'.repeat(64),
  VIBESTACK_DEV: '1',
} as const;

/** Step 0: the Worker settings from the environment and `.dev.vars`, checked as the Worker will check them. */
function collectAndCheck(): CollectedWorkerVars {
  const collected = collectWorkerVars({
    env: process.env,
    devVarsFile: join(projectRoot, 'server', DEV_VARS_FILE),
    devVarsLabel,
  });
  const check = tryLoadServerConfig(startWorkerVars(collected, CHECK_STAND_INS).vars);
  if (!check.ok) throw check.error;
  return collected;
}

let collected: CollectedWorkerVars;
try {
  collected = collectAndCheck();
} catch (error) {
  if (!isConfigError(error)) throw error;
  console.error(`[vibestack] Configuration error, nothing started: ${error.message}`);
  process.exit(1);
}

const aborter = new AbortController();
const cleanups: { name: string; run: () => Promise<void>; stopped?: string }[] = [];
let exiting = false;
let startup: Promise<void> = Promise.resolve();

async function shutdown(code: number): Promise<never> {
  if (!exiting) {
    exiting = true;
    aborter.abort();
    await startup.catch(() => undefined); // let an in-flight step finish so that it can be cleaned up
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
        say(cleanup.stopped ?? `Stopped ${cleanup.name}.`);
      } catch (error) {
        console.error(`[vibestack] Could not stop ${cleanup.name}: ${(error as Error).message}`);
        code = code || 1;
      }
    }
    removeStartState(projectRoot);
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (exiting) {
      say('Still stopping; press Ctrl-C again in a few seconds only if this hangs.');
      return;
    }
    say(`${signal}: stopping …`);
    void shutdown(0);
  });
}

function checkAborted(): void {
  if (aborter.signal.aborted) throw new Error('aborted');
}

async function main(): Promise<void> {
  await clearStaleStart(projectRoot, say);
  writeStartState(projectRoot, { pid: process.pid });

  for (const name of collected.unknownInDevVars) {
    say(`${devVarsLabel} sets ${JSON.stringify(name)}, which is no Worker setting; not passed.`);
  }
  const external = collected.vars.DATABASE_URL;
  const externalSource =
    collected.sources.get('DATABASE_URL') === '.dev.vars' ? devVarsLabel : 'the environment';
  let databaseUrl: string;
  if (external) {
    databaseUrl = external;
    say(`Using DATABASE_URL from ${externalSource}: ${redactPostgresUrl(external)}`);
  } else {
    say('Starting embedded Postgres …');
    const pg = await startEmbeddedPostgres({
      name: DEV_CLUSTER_NAME,
      port: DEV_PG_PORT,
      projectRoot,
      log: say,
    });
    cleanups.push({
      name: 'Postgres',
      run: pg.stop,
      stopped: `Stopped Postgres; its data stays in ${pg.dataDir} for the next start.`,
    });
    checkAborted();
    say(`Postgres ${pg.port} ready (data: ${pg.dataDir}, log: ${pg.logFile}).`);
    if (pg.relocated) {
      say(
        `The data lives outside the checkout (the OS user postgres cannot reach it); ` +
          `${LOCAL_STATE_DIR}/${PG_CLUSTERS_DIR}/${RELOCATION_NOTE_FILE} says where.`,
      );
    }
    if (await ensureDatabase(pg.url, DEV_DATABASE)) say(`Created database "${DEV_DATABASE}".`);
    databaseUrl = pg.connectionFor(DEV_DATABASE).url;
  }
  checkAborted();

  if (withDemo) {
    const { seeded } = await applyDemoSchema(databaseUrl);
    say(
      seeded
        ? 'Demo schema created and demo rows inserted.'
        : 'Demo schema present (rows were seeded before).',
    );
    checkAborted();
  }

  // A dev-only token secret, kept between runs so tokens minted earlier keep working.
  const secretFile = join(projectRoot, LOCAL_STATE_DIR, DEV_JWT_SECRET_FILE);
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const jwtSecret = readFileSync(secretFile, 'utf8').trim();
  const { vars, summary } = startWorkerVars(
    collected,
    { DATABASE_URL: databaseUrl, JWT_SECRET: jwtSecret, VIBESTACK_DEV: '1' },
    devVarsLabel,
  );

  say(`${summary}.`);
  say('Starting wrangler dev (workerd) …');
  const worker = await startWranglerDev({
    port: DEV_WORKER_PORT,
    projectRoot,
    // .dev.vars is already merged in (under the environment), so wrangler gets exactly these.
    vars,
    persistTo: join(projectRoot, LOCAL_STATE_DIR, WRANGLER_STATE_DIR, DEV_WORKER_PERSIST_DIR),
    signal: aborter.signal,
    log: (line) => console.log(`[wrangler] ${line}`),
    onSpawn: (wranglerPid) => writeStartState(projectRoot, { pid: process.pid, wranglerPid }),
  });
  cleanups.push({ name: 'wrangler', run: worker.stop });
  checkAborted();

  void worker.exited.then(({ code, signal }) => {
    if (exiting) return;
    console.error(`[vibestack] wrangler exited unexpectedly (${signal ?? `code ${code}`}); stopping.`);
    void shutdown(1);
  });

  const health = (await (await fetch(`${worker.url}${ROUTES.health}`)).json()) as { status?: string };
  const shownUrl = external ? redactPostgresUrl(databaseUrl) : databaseUrl;
  const tokens =
    withDemo && vars.VIBESTACK_DEV === '1'
      ? await Promise.all(
          DEMO_USERS.map(async ([name, id]) => {
            const r = await fetch(`${worker.url}${DEV_TOKEN_ROUTE}?sub=${id}`);
            return `  ${name.padEnd(6)} ${id}  ${((await r.json()) as { token: string }).token}`;
          }),
        )
      : [];
  console.log(
    [
      '',
      '  VibeStack is running.',
      `  Worker:       ${worker.url}   (GET ${ROUTES.health} → ${health.status ?? 'unknown'})`,
      `  DATABASE_URL: ${shownUrl}${external ? `   (from ${externalSource})` : ''}`,
      external ? '  psql:         psql "$DATABASE_URL"' : `  psql:         psql "${shownUrl}"`,
      `  Sync:         ${worker.url.replace(/^http/, 'ws')}${SYNC_PATH}?client_id=<id>   (docs/protocol.md)`,
      ...(tokens.length > 0
        ? ['  Demo tokens (24 h; more at GET /dev/token?sub=<user id>):', ...tokens]
        : []),
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

startup = main();
startup.catch(async (error: unknown) => {
  if (exiting) return;
  console.error(`[vibestack] Start failed: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG && error instanceof Error) console.error(error);
  await shutdown(1);
});
