/**
 * Where Postgres' binaries and data go when the OS user `postgres` cannot reach the checkout (root running from
 * a mode-700 directory such as `/root`): `/var/lib/vibestack/<hash of the checkout path>`. Persistent state
 * belongs under `/var/lib`, not `/tmp` (which Debian empties at boot), and the path is stable per checkout, so
 * the next run reuses the data. Findable: the checkout's clusters directory gets a `RELOCATED.txt` naming it, the
 * directory a `checkout` file naming the checkout, and the harness prints it at start and at stop. Cleaned:
 * directories whose checkout is gone, binaries copies of other Postgres versions and half-finished copies of
 * killed runs are removed at the next relocated start; data that an older version kept in
 * `os.tmpdir()/vibestack-<hash>` is moved here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PG_CLUSTERS_DIR,
  PG_LOG_FILE_SUFFIX,
  PG_OWNER_FILE_SUFFIX,
  RELOCATED_DIR_PREFIX,
  RELOCATION_CHECKOUT_FILE,
  RELOCATION_NOTE_FILE,
  RELOCATION_ROOT,
} from '../constants.ts';
import { isProcessAlive } from './process-control.ts';
import { clearStaleServer, readPostmasterPid } from './stale-server.ts';

const hashOf = (projectRoot: string): string =>
  createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);

/** `/var/lib/vibestack/<hash of projectRoot>`: stable per checkout, distinct between checkouts. */
export function relocationDir(projectRoot: string): string {
  return join(RELOCATION_ROOT, hashOf(projectRoot));
}

/** Where versions before this one relocated to (`os.tmpdir()/vibestack-<hash>`); its data is moved over. */
export function legacyRelocationDir(projectRoot: string): string {
  return join(tmpdir(), `${RELOCATED_DIR_PREFIX}${hashOf(projectRoot)}`);
}

/**
 * A world-traversable directory we own. It holds binaries we run, so it is only trusted when this process's
 * user owns it and nobody else can write to it.
 */
export function ensureTrustedDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stat = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) {
    throw new Error(
      `${dir} exists but is not a directory owned by uid ${uid} and writable only by it; remove it and retry.`,
    );
  }
  chmodSync(dir, 0o755);
}

/** True when a Postgres server still runs on a data directory under `clustersDir`. */
function servesAny(clustersDir: string): boolean {
  if (!existsSync(clustersDir)) return false;
  return readdirSync(clustersDir).some((entry) => {
    const postmaster = readPostmasterPid(join(clustersDir, entry));
    return postmaster !== undefined && isProcessAlive(postmaster.pid);
  });
}

/** Removes relocation directories whose checkout no longer exists (and whose servers are all stopped). */
function removeOrphanedDirs(keep: string, log: (line: string) => void): void {
  for (const entry of readdirSync(RELOCATION_ROOT)) {
    const dir = join(RELOCATION_ROOT, entry);
    if (dir === keep) continue;
    let checkout: string;
    try {
      checkout = readFileSync(join(dir, RELOCATION_CHECKOUT_FILE), 'utf8').trim();
    } catch {
      continue; // not ours, or not finished: leave it
    }
    if (checkout === '' || existsSync(checkout) || servesAny(join(dir, PG_CLUSTERS_DIR))) continue;
    log(`Removing ${dir}: Postgres files of the checkout ${checkout}, which no longer exists.`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes binaries copies of other Postgres versions and copies a killed run left half-done. */
function removeStaleCopies(base: string, version: string, log: (line: string) => void): void {
  const current = `postgres-${version}`;
  const staging = /^postgres-.+\.tmp-(\d+)-\d+$/;
  const inUse = servesAny(join(base, PG_CLUSTERS_DIR));
  for (const entry of readdirSync(base)) {
    const copier = Number(staging.exec(entry)?.[1]);
    const stale = copier
      ? copier !== process.pid && !isProcessAlive(copier)
      : entry.startsWith('postgres-') && entry !== current && !inUse;
    if (!stale) continue;
    log(`Removing ${join(base, entry)} (${copier ? 'an interrupted copy' : 'binaries of another version'}).`);
    rmSync(join(base, entry), { recursive: true, force: true });
  }
}

/**
 * Creates (or checks) the relocation directory of `projectRoot`, records the checkout in it, and cleans stale
 * copies: relocation directories of checkouts that are gone, other Postgres versions, interrupted copies.
 * Returns the directory.
 */
export function prepareRelocationDir(
  projectRoot: string,
  version: string,
  log: (line: string) => void,
): string {
  const base = relocationDir(projectRoot);
  ensureTrustedDir(RELOCATION_ROOT);
  ensureTrustedDir(base);
  writeFileSync(join(base, RELOCATION_CHECKOUT_FILE), `${projectRoot}\n`);
  removeOrphanedDirs(base, log);
  removeStaleCopies(base, version, log);
  return base;
}

/**
 * Moves cluster `name` (data directory and log) from the legacy location (`os.tmpdir()`) to `clustersDir`, when
 * it is there and not here; a server a killed run left running on it is shut down first. Returns true when it
 * moved.
 */
export async function adoptLegacyCluster(
  projectRoot: string,
  clustersDir: string,
  name: string,
  log: (line: string) => void,
): Promise<boolean> {
  const legacyClusters = join(legacyRelocationDir(projectRoot), PG_CLUSTERS_DIR);
  const from = join(legacyClusters, name);
  const to = join(clustersDir, name);
  if (!existsSync(join(from, 'PG_VERSION')) || existsSync(to)) return false;
  await clearStaleServer({ dataDir: from, ownerFile: `${from}${PG_OWNER_FILE_SUFFIX}` }, log);
  log(`Moving the Postgres data an earlier version kept in ${from} to ${to}.`);
  // `mv` keeps owner and modes (the files belong to the OS user postgres), also across file systems.
  execFileSync('mv', ['--', from, to], { stdio: 'pipe' });
  if (existsSync(`${from}${PG_LOG_FILE_SUFFIX}`)) {
    execFileSync('mv', ['--', `${from}${PG_LOG_FILE_SUFFIX}`, `${to}${PG_LOG_FILE_SUFFIX}`], {
      stdio: 'pipe',
    });
  }
  rmSync(`${from}${PG_OWNER_FILE_SUFFIX}`, { force: true });
  if (readdirSync(legacyClusters).length === 0) {
    rmSync(legacyRelocationDir(projectRoot), { recursive: true, force: true });
  }
  return true;
}

/** Writes `RELOCATED.txt` into the checkout's own clusters directory, naming where the clusters really are. */
export function writeRelocationNote(preferredClusters: string, clustersDir: string): void {
  writeFileSync(
    join(preferredClusters, RELOCATION_NOTE_FILE),
    [
      `Postgres data of this checkout is kept in ${clustersDir}`,
      '(as root, Postgres runs as the OS user "postgres", which cannot reach this directory: a parent is not',
      'world-traversable, e.g. mode 700). The next start reuses it. To start afresh, stop VibeStack and remove',
      `${clustersDir} and this file.`,
      '',
    ].join('\n'),
  );
}
