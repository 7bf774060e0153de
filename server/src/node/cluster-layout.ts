import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  LOCAL_STATE_DIR,
  PG_CLUSTERS_DIR,
  PG_LOG_FILE_SUFFIX,
  PG_OS_USER,
  PG_OWNER_FILE_SUFFIX,
} from '../constants.ts';
import { copyBinaries, locatePackagedBinaries, type PostgresBinaries } from './postgres-binaries.ts';
import { canEnterDirectory, canExecute, type RunAs } from './postgres-os-user.ts';
import { adoptLegacyCluster, prepareRelocationDir, writeRelocationNote } from './relocation.ts';

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
  /** True when binaries or data live in `/var/lib/vibestack/<hash>` because the checkout is unreachable. */
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

/**
 * Decides where a cluster lives. Normally: binaries inside `node_modules`, data in
 * `<projectRoot>/.vibestack/pg/<name>`. When running as root, Postgres runs as the OS user `postgres`, which
 * must be able to reach both; a checkout under a mode-700 directory (such as `/root`) breaks that, so the
 * unreachable part is copied to / kept in `/var/lib/vibestack/<hash of the checkout>` instead (see
 * `relocation.ts`: persistent, reused, named in `.vibestack/pg/RELOCATED.txt`, stale copies cleaned).
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
    const base = prepareRelocationDir(options.projectRoot, packaged.version, options.log);
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
      await adoptLegacyCluster(options.projectRoot, clustersDir, options.name, options.log);
      writeRelocationNote(preferredClusters, clustersDir);
    }
    if (!canExecute(options.runAs, binaries.postgres) || !canEnterDirectory(options.runAs, clustersDir)) {
      throw new Error(`The OS user "${PG_OS_USER}" cannot reach ${base} either; check its permissions.`);
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
