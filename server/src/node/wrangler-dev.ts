import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEV_VARS_FILE,
  LOCAL_STATE_DIR,
  LOOPBACK_HOST,
  ROUTES,
  WORKER_START_TIMEOUT_MS,
  WRANGLER_ENV,
  WRANGLER_STATE_DIR,
} from '../constants.ts';
import { pickPort, randomFreePort } from './free-port.ts';
import { isProcessAlive } from './process-control.ts';
import { findProjectRoot } from './project-root.ts';

/** Options of {@link startWranglerDev}. All optional. */
export interface StartWranglerDevOptions {
  /** HTTP port to try first; when taken (or absent) a random free port is used. */
  readonly port?: number;
  /** Worker vars (e.g. `{ DATABASE_URL }`), passed through a mode-600 env file, never on the command line. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Also load `server/.dev.vars` (its values are overridden by `vars`). Default `false`. */
  readonly includeDevVars?: boolean;
  /** Local persistence directory (Durable Object storage, …). Default: a fresh directory removed on stop. */
  readonly persistTo?: string;
  /** Receives every line wrangler prints. Default: discarded (the last lines are kept for error messages). */
  readonly log?: (line: string) => void;
  /** Repository root. Default: found from this file. */
  readonly projectRoot?: string;
  /** Aborting stops wrangler; a pending start then rejects. */
  readonly signal?: AbortSignal;
  /** Called with wrangler's process (group) id right after it is spawned, before it is ready. */
  readonly onSpawn?: (pid: number) => void;
}

/** A running `wrangler dev` (real workerd, local mode). */
export interface WranglerDev {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Process id of wrangler, which is also the id of its process group (workerd included). */
  readonly pid: number;
  /** Resolves when wrangler exits, for whatever reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops wrangler and workerd (SIGINT to the process group, then SIGTERM, then SIGKILL). Idempotent. */
  stop(): Promise<void>;
  /**
   * Crashes wrangler and workerd: SIGKILL to the whole process group, no shutdown of any kind (Durable Objects
   * get no chance to finish), then waits until every process of the group is gone. A `persistTo` directory is
   * kept, so a new `startWranglerDev` on it finds the storage as the crash left it. Idempotent; `stop()` after
   * it only removes files.
   */
  kill(): Promise<void>;
}

const KEPT_LOG_LINES = 40;

function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
}

/** Whether any process of group `pgid` is still running. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops a process group started by {@link startWranglerDev} (also one left behind by a killed `npm start`):
 * SIGINT, then SIGTERM, then SIGKILL, waiting up to `stepMs` after each. Resolves `true` when it is gone.
 */
export async function stopProcessGroup(pgid: number, stepMs = 5_000): Promise<boolean> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    if (!isGroupAlive(pgid)) return true;
    signalGroup(pgid, signal);
    const deadline = Date.now() + stepMs;
    while (isGroupAlive(pgid) && Date.now() < deadline) await sleep(50);
  }
  return !isGroupAlive(pgid);
}

/**
 * SIGKILLs every process of group `pgid` and resolves `true` once none is left (`false` after `timeoutMs`).
 */
export async function killProcessGroup(pgid: number, timeoutMs = 5_000): Promise<boolean> {
  signalGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (isGroupAlive(pgid) && Date.now() < deadline) await sleep(20);
  return !isGroupAlive(pgid);
}

const VARS_FILE_PREFIX = 'vars-';
const SCRATCH_STATE_PREFIX = 'scratch-';

/** Removes env files and scratch state of `wrangler dev` runs whose harness process is gone (SIGKILL). */
function removeStaleFiles(stateDir: string): void {
  const pattern = new RegExp(`^(?:${VARS_FILE_PREFIX}|${SCRATCH_STATE_PREFIX})(\\d+)-\\d+(?:\\.env)?$`);
  for (const entry of readdirSync(stateDir)) {
    const owner = Number(pattern.exec(entry)?.[1]);
    if (owner && owner !== process.pid && !isProcessAlive(owner)) {
      rmSync(join(stateDir, entry), { recursive: true, force: true });
    }
  }
}

/** dotenv text; single quotes keep a value literal (`#`, `$`, `"` and backslashes included). */
function toDotEnv(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (/[\r\n]/.test(value)) throw new Error(`Worker var ${key} must be a single line`);
      return value.includes("'") ? `${key}=${JSON.stringify(value)}\n` : `${key}='${value}'\n`;
    })
    .join('');
}

/**
 * Waits until `GET <url>/health` answers with any HTTP status (200 ok or 503 degraded both mean "the Worker
 * runs"), or `exited` settles, or the timeout passes.
 */
async function waitForHealth(
  url: string,
  exited: Promise<unknown>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    if (signal?.aborted) throw new Error('aborted');
    try {
      const response = await fetch(`${url}${ROUTES.health}`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(
    gone ? 'wrangler dev exited before the Worker answered' : `no answer within ${timeoutMs} ms`,
  );
}

/**
 * Runs `wrangler dev` for `server/wrangler.jsonc` on 127.0.0.1 in local mode (real workerd; offline: metrics
 * and Cloudflare fetches off) and resolves once `GET /health` answers.
 *
 * @example
 * const worker = await startWranglerDev({ vars: { DATABASE_URL: url } });
 * const health = await (await fetch(`${worker.url}/health`)).json();
 * await worker.stop();
 */
export async function startWranglerDev(options: StartWranglerDevOptions = {}): Promise<WranglerDev> {
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const serverDir = join(projectRoot, 'server');
  const port = await pickPort(options.port);
  const inspectorPort = await randomFreePort();
  const stateDir = join(projectRoot, LOCAL_STATE_DIR, WRANGLER_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });

  removeStaleFiles(stateDir);
  const tag = `${process.pid}-${port}`;
  const envFile = join(stateDir, `${VARS_FILE_PREFIX}${tag}.env`);
  const persistTo = options.persistTo ?? join(stateDir, `${SCRATCH_STATE_PREFIX}${tag}`);
  writeFileSync(envFile, toDotEnv(options.vars ?? {}), { mode: 0o600 });
  const devVars = join(serverDir, DEV_VARS_FILE);
  const envFiles = options.includeDevVars && existsSync(devVars) ? [devVars, envFile] : [envFile];

  const args = [
    wranglerBin(),
    'dev',
    '--config',
    join(serverDir, 'wrangler.jsonc'),
    '--local',
    '--ip',
    LOOPBACK_HOST,
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--show-interactive-dev-session=false',
    '--persist-to',
    persistTo,
    ...envFiles.flatMap((file) => ['--env-file', file]),
  ];
  // Own process group: Ctrl-C reaches only the harness, and stop() can signal wrangler and workerd together.
  const child = spawn(process.execPath, args, {
    cwd: serverDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' },
  });
  const lastLines: string[] = [];
  const onOutput = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lastLines.push(line);
      if (lastLines.length > KEPT_LOG_LINES) lastLines.shift();
      options.log?.(line);
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      rmSync(envFile, { force: true });
      resolve({ code, signal });
    });
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const pid = child.pid ?? -1;
  options.onSpawn?.(pid);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopProcessGroup(pid);
      rmSync(envFile, { force: true });
      if (options.persistTo === undefined) rmSync(persistTo, { recursive: true, force: true });
    })();
    return stopping;
  };

  const kill = async (): Promise<void> => {
    if (!(await killProcessGroup(pid))) throw new Error(`process group ${pid} survived SIGKILL`);
    await exited;
  };

  options.signal?.addEventListener('abort', () => void stop(), { once: true });

  const url = `http://${LOOPBACK_HOST}:${port}`;
  try {
    await waitForHealth(url, exited, WORKER_START_TIMEOUT_MS, options.signal);
  } catch (error) {
    await stop();
    throw new Error(
      `wrangler dev did not start (${(error as Error).message}). Last output:\n${lastLines.join('\n')}`,
      {
        cause: error,
      },
    );
  }
  return { url, port, pid, exited, stop, kill };
}
