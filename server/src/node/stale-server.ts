import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PG_STOP_TIMEOUT_MS } from '../constants.ts';
import type { ClusterLayout } from './cluster-layout.ts';
import { isProcessAlive, processCommandLine, stopProcess } from './process-control.ts';

/** The first lines of `postmaster.pid`: the server's process id and port. */
export interface PostmasterPid {
  readonly pid: number;
  readonly port: number | undefined;
}

/** Parses `<dataDir>/postmaster.pid`, or `undefined` when there is none (or it is unreadable). */
export function readPostmasterPid(dataDir: string): PostmasterPid | undefined {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    if (!Number.isInteger(pid)) return undefined;
    return { pid, port: Number.isInteger(port) ? port : undefined };
  } catch {
    return undefined;
  }
}

interface OwnerRecord {
  readonly pid: number;
  readonly startedAt: string;
}

function readOwner(ownerFile: string): OwnerRecord | undefined {
  try {
    const parsed = JSON.parse(readFileSync(ownerFile, 'utf8')) as Partial<OwnerRecord>;
    return typeof parsed.pid === 'number'
      ? { pid: parsed.pid, startedAt: String(parsed.startedAt) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Records this process as the owner of the cluster (see {@link clearStaleServer}). */
export function writeOwner(layout: ClusterLayout): void {
  const record: OwnerRecord = { pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(layout.ownerFile, `${JSON.stringify(record)}\n`);
}

/** Removes the owner record if this process wrote it. */
export function removeOwner(layout: ClusterLayout): void {
  if (readOwner(layout.ownerFile)?.pid === process.pid) rmSync(layout.ownerFile, { force: true });
}

/**
 * Makes the data directory startable after an earlier run ended badly:
 *
 * - `postmaster.pid` names a dead process (Postgres or the machine crashed): the file is removed.
 * - It names a live Postgres of this data directory whose owner (the Node process that started it) is gone
 *   (the harness was SIGKILLed): that orphan is shut down (fast, then immediate, then forced).
 * - It names a live Postgres whose owner is alive: another process is using the cluster; this throws with a
 *   message saying which process, instead of failing later with an unexplained error.
 */
export async function clearStaleServer(
  layout: Pick<ClusterLayout, 'dataDir' | 'ownerFile'>,
  log: (line: string) => void,
): Promise<void> {
  const postmaster = readPostmasterPid(layout.dataDir);
  const pidFile = join(layout.dataDir, 'postmaster.pid');
  if (!postmaster) {
    if (existsSync(pidFile)) rmSync(pidFile, { force: true });
    return;
  }
  const commandLine = isProcessAlive(postmaster.pid) ? processCommandLine(postmaster.pid) : undefined;
  const isOurPostgres = commandLine?.includes('postgres') === true && commandLine.includes(layout.dataDir);
  if (!isOurPostgres) {
    log(`Removing stale ${pidFile} (process ${postmaster.pid} is not a running Postgres of this directory).`);
    rmSync(pidFile, { force: true });
    return;
  }
  const owner = readOwner(layout.ownerFile);
  if (owner && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
    throw new Error(
      `The Postgres cluster in ${layout.dataDir} is in use: server pid ${postmaster.pid} on port ` +
        `${postmaster.port ?? '?'}, started by process ${owner.pid} at ${owner.startedAt}. Stop that process ` +
        '(Ctrl-C in its terminal) or set DATABASE_URL to use another database.',
    );
  }
  log(
    `A Postgres server from an earlier run is still running on this data directory (pid ${postmaster.pid}, ` +
      `port ${postmaster.port ?? '?'}) and its owner is gone; shutting it down before starting a new one.`,
  );
  const stopped = await stopProcess(postmaster.pid, ['SIGINT', 'SIGQUIT', 'SIGKILL'], PG_STOP_TIMEOUT_MS);
  if (!stopped) {
    throw new Error(`Could not stop the stale Postgres server (pid ${postmaster.pid}); stop it by hand.`);
  }
  rmSync(pidFile, { force: true });
  rmSync(layout.ownerFile, { force: true });
}
