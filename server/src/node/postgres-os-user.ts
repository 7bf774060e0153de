import { execFileSync, spawnSync } from 'node:child_process';
import { PG_OS_USER } from '../constants.ts';

/** The OS identity Postgres runs as: `undefined` means "as the current user". */
export type RunAs = { readonly uid: number; readonly gid: number } | undefined;

function lookupIds(user: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number.parseInt(execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: 'pipe' }), 10);
    const gid = Number.parseInt(execFileSync('id', ['-g', user], { encoding: 'utf8', stdio: 'pipe' }), 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who Postgres must run as. Postgres refuses to run as root, so when this process is root the OS user
 * {@link PG_OS_USER} is used, and created (system account, no home, no login) when missing. Otherwise
 * Postgres runs as the current user.
 */
export function resolvePostgresRunAs(log: (line: string) => void): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const existing = lookupIds(PG_OS_USER);
  if (existing) return existing;
  log(
    `Running as root: creating the OS user "${PG_OS_USER}" for Postgres (Postgres refuses to run as root).`,
  );
  try {
    const groupExists = spawnSync('getent', ['group', PG_OS_USER]).status === 0;
    if (!groupExists) execFileSync('groupadd', ['--system', PG_OS_USER], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '--gid', PG_OS_USER, '--no-create-home', PG_OS_USER], {
      stdio: 'pipe',
    });
  } catch (error) {
    throw new Error(
      `Could not create the OS user "${PG_OS_USER}" that Postgres runs as when started by root`,
      {
        cause: error,
      },
    );
  }
  const created = lookupIds(PG_OS_USER);
  if (!created) throw new Error(`The OS user "${PG_OS_USER}" was created but cannot be looked up`);
  return created;
}

/** Spawn options that make a child run as `runAs` (empty when running as the current user). */
export function runAsSpawnOptions(runAs: RunAs): { uid?: number; gid?: number } {
  return runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid };
}

/**
 * Whether `runAs` can enter `dir` (execute permission on it and on every ancestor). Checked by actually
 * trying, as that user, so ACLs and group membership count exactly as they will for Postgres.
 */
export function canEnterDirectory(runAs: RunAs, dir: string): boolean {
  if (runAs === undefined) return true;
  const result = spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], {
    ...runAsSpawnOptions(runAs),
    cwd: '/',
  });
  return result.status === 0;
}

/** Whether `runAs` can execute `binary` (`binary --version` exits 0 as that user). */
export function canExecute(runAs: RunAs, binary: string): boolean {
  const result = spawnSync(binary, ['--version'], { ...runAsSpawnOptions(runAs), cwd: '/', stdio: 'ignore' });
  return result.status === 0;
}
