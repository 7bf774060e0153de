import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOCAL_STATE_DIR,
  PG_CLUSTERS_DIR,
  PG_LOG_FILE_SUFFIX,
  PG_OS_USER,
  PG_OWNER_FILE_SUFFIX,
  RELOCATED_DIR_PREFIX,
} from '../constants.ts';
import { copyBinaries, locatePackagedBinaries, type PostgresBinaries } from './postgres-binaries.ts';
import { canEnterDirectory, canExecute, type RunAs } from './postgres-os-user.ts';

/** Where one named cluster keeps its binaries, data, log and owner file. */
export interface ClusterLayout {
  readonly binaries: PostgresBinaries;
  /** Directory holding all clusters (`.vibestack/pg` or its relocated twin). */
  readonly clustersDir: string;
  /** The Postgres data directory (`PGDATA`). */
  readonly dataDir: string;
  /** The server's stderr (`<name>.log` beside the data directory). */
  readonly logFile: string;
  /** JSON naming the Node process that runs the cluster (`<name>.owner`). */
  readonly ownerFile: string;
  /** True when binaries or data were moved under `os.tmpdir()` because the checkout is unreachable. */
  readonly relocated: boolean;
}

/** Options of {@link resolveClusterLayout}. */
export interface ClusterLayoutOptions {
  /** Cluster name: the data directory's base name. */
  readonly name: string;
  /** Repository root; clusters live in `<projectRoot>/.vibestack/pg` unless relocated. */
  readonly projectRoot: string;
  /** Overrides the clusters directory (default `<projectRoot>/.vibestack/pg`). */
  readonly clustersDir?: string | undefined;
  /** Who Postgres runs as. */
  readonly runAs: RunAs;
  readonly log: (line: string) => void;
}

/** `os.tmpdir()/vibestack-<hash of projectRoot>`: stable per checkout, distinct between checkouts. */
export function relocationDir(projectRoot: string): string {
  const hash = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  return join(tmpdir(), `${RELOCATED_DIR_PREFIX}${hash}`);
}

/**
 * A world-traversable directory we own. `os.tmpdir()` is writable by everyone, so a directory found there is
 * only trusted when this process's user owns it and nobody else can write to it (it holds binaries we run).
 */
function ensureTrustedDir(dir: string): void {
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

/**
 * Decides where a cluster lives. Normally: binaries inside `node_modules`, data in
 * `<projectRoot>/.vibestack/pg/<name>`. When running as root, Postgres runs as the OS user `postgres`, which
 * must be able to reach both; a checkout under a mode-700 directory (such as `/root`) breaks that, so the
 * unreachable part is copied to / kept in `os.tmpdir()/vibestack-<hash>` instead.
 */
export async function resolveClusterLayout(options: ClusterLayoutOptions): Promise<ClusterLayout> {
  const packaged = locatePackagedBinaries();
  const preferredClusters =
    options.clustersDir ?? join(options.projectRoot, LOCAL_STATE_DIR, PG_CLUSTERS_DIR);
  mkdirSync(preferredClusters, { recursive: true });

  const binariesOk = canExecute(options.runAs, packaged.postgres);
  const dataOk = canEnterDirectory(options.runAs, preferredClusters);
  let binaries = packaged;
  let clustersDir = preferredClusters;
  if (!binariesOk || !dataOk) {
    const base = relocationDir(options.projectRoot);
    ensureTrustedDir(base);
    const moved = [!binariesOk ? 'binaries' : undefined, !dataOk ? 'data' : undefined].filter(Boolean);
    options.log(
      `The OS user "${PG_OS_USER}" cannot reach ${!dataOk ? preferredClusters : packaged.nativeDir} ` +
        `(a parent directory is not world-traversable, e.g. mode 700); using ${base} for Postgres ` +
        `${moved.join(' and ')} instead.`,
    );
    if (!binariesOk) binaries = await copyBinaries(packaged, base);
    if (!dataOk) {
      clustersDir = join(base, PG_CLUSTERS_DIR);
      mkdirSync(clustersDir, { recursive: true, mode: 0o755 });
    }
    if (!canExecute(options.runAs, binaries.postgres) || !canEnterDirectory(options.runAs, clustersDir)) {
      throw new Error(
        `The OS user "${PG_OS_USER}" cannot reach ${base} either; check the permissions of ${tmpdir()}.`,
      );
    }
  }
  return {
    binaries,
    clustersDir,
    dataDir: join(clustersDir, options.name),
    logFile: join(clustersDir, `${options.name}${PG_LOG_FILE_SUFFIX}`),
    ownerFile: join(clustersDir, `${options.name}${PG_OWNER_FILE_SUFFIX}`),
    relocated: binaries !== packaged || clustersDir !== preferredClusters,
  };
}
