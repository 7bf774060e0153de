/**
 * One CLI process per database directory. PGlite does not lock its data directory: two processes opening it
 * would both write to the same files and corrupt it (and two `sync`s would share one client id, which the
 * server answers with REPLACED). The lock is a file holding the owner's pid, created atomically with a hard
 * link; a lock whose process is gone (killed with SIGKILL, a crash) is taken over.
 */

import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './cli-error.ts';
import { CLI_NAME, LOCK_FILE, PG_VERSION_FILE } from './constants.ts';

/** A held directory lock. */
export interface DirLock {
  /** Removes the lock file (if it is still ours). Never rejects. */
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of `dir` (which must exist) for this process.
 *
 * @throws CliError when another live process holds it.
 * @example
 * const lock = await lockDirectory('./data');
 * try { … } finally { await lock.release(); }
 */
export async function lockDirectory(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  const temp = `${path}.${process.pid}`;
  await writeFile(temp, `${process.pid}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await ownerOf(path);
      if (attempt > 0 || (owner !== undefined && owner !== process.pid && isAlive(owner))) {
        throw new CliError(
          `${dir} is in use by process ${owner ?? '?'} (a running "${CLI_NAME} sync"?): stop it first. ` +
            `If no process uses the directory, delete ${path}.`,
        );
      }
      await unlink(path).catch(() => undefined); // stale: its process is gone
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return {
    async release() {
      if ((await ownerOf(path)) === process.pid) await unlink(path).catch(() => undefined);
    },
  };
}

/** Whether `dir` holds a Postgres (PGlite) data directory. */
export async function isDatabaseDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, PG_VERSION_FILE))).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether `dir` may become a new database: it holds a database already, or nothing but the CLI's lock. Keeps
 * a mistyped `--dir` (a home directory, a project) from being filled with Postgres files.
 */
export async function isUsableForSync(dir: string): Promise<boolean> {
  if (await isDatabaseDirectory(dir)) return true;
  const entries = await readdir(dir);
  return entries.every((name) => name.startsWith(LOCK_FILE));
}
