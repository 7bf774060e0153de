// @ts-check
/**
 * Loads the CLI's TypeScript source quickly. The package ships TypeScript; running it through a TypeScript
 * loader (tsx) sends every one of ~125 modules through the loader's hooks on every start, which cost more than a
 * second of the CLI's start-up. Instead, the entry module and everything it imports is bundled by esbuild into
 * one ES module, written to a cache directory with a manifest of its input files (size and mtime), and reused
 * while every input is unchanged — an edited source file, a `git checkout` or an upgraded dependency rebuilds it
 * on the next start (~0.3 s). There is no build step: a fresh clone builds the bundle on its first run.
 *
 * The cache is `node_modules/.cache/vibestack-client/` in the nearest `node_modules` above the package; when it
 * cannot be written, the bundle is built on every start and imported from memory.
 */

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Bumped whenever the build options below change, so that bundles built by an older loader are rebuilt.
 */
const BUNDLE_FORMAT = 1;
/**
 * A bundle is not cached when one of its inputs changed less than this long (ms) before the build started, or
 * during it: esbuild may have read the file before the change, and the manifest would call the stale bundle
 * fresh.
 */
const SETTLE_MS = 2_000;

/**
 * @typedef {object} BundleOptions
 * @property {string} entry Absolute path of the entry module (TypeScript or JavaScript).
 * @property {string | undefined} cacheDir Where bundles are kept; `undefined`: build in memory every time.
 * @property {readonly string[]} [external] Packages (and their subpaths) left out of the bundle and imported
 *   from where they are installed, by absolute URL — for packages that find files next to their own modules
 *   (PGlite's WebAssembly) or load native addons.
 */

/**
 * @typedef {object} LoadedBundle
 * @property {Record<string, unknown>} module The entry module's namespace.
 * @property {'cached' | 'built' | 'built-in-memory'} source Where it came from.
 */

/**
 * The cache directory for `packageDir`: `.cache/vibestack-client` in the nearest `node_modules` at or above it
 * (where other tools keep their caches), or `undefined` when there is none.
 *
 * @param {string} packageDir
 * @returns {string | undefined}
 */
export function defaultCacheDir(packageDir) {
  for (let dir = packageDir; ; dir = dirname(dir)) {
    const modules = basename(dir) === 'node_modules' ? dir : join(dir, 'node_modules');
    if (existsSync(modules)) return join(modules, '.cache', 'vibestack-client');
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * @param {string} path
 * @returns {[string, number, number]} path, size, mtime (ms)
 */
function fingerprint(path) {
  const s = statSync(path);
  return [path, s.size, s.mtimeMs];
}

/**
 * Whether the manifest at `path` describes a bundle of the current input files.
 *
 * @param {string} path
 * @param {string} entry
 * @returns {boolean}
 */
function isFresh(path, entry) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
  if (manifest?.format !== BUNDLE_FORMAT || manifest.entry !== entry || !Array.isArray(manifest.inputs)) {
    return false;
  }
  try {
    return manifest.inputs.every(
      /** @param {[string, number, number]} input */
      ([file, size, mtimeMs]) => {
        const [, nowSize, nowMtime] = fingerprint(file);
        return nowSize === size && nowMtime === mtimeMs;
      },
    );
  } catch {
    return false; // an input is gone
  }
}

/**
 * Bundles `entry` as `outfile` (not written); external packages are resolved now and imported by absolute
 * `file:` URL, so the bundle works from any directory (or from memory). The source map is a separate file that
 * Node reads only with `--enable-source-maps` (stack traces then point into the TypeScript source).
 *
 * @param {string} entry
 * @param {string} outfile
 * @param {readonly string[]} external
 * @returns {Promise<{ code: string; map: string; inputs: string[] }>}
 */
async function build(entry, outfile, external) {
  const esbuild = await import('esbuild');
  const escaped = external.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const filter = new RegExp(`^(${escaped.join('|')})(/|$)`);
  /** @type {import('esbuild').Plugin} */
  const externalByUrl = {
    name: 'external-by-url',
    setup(b) {
      b.onResolve({ filter }, async (args) => {
        if (args.pluginData === 'resolving') return undefined;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'resolving',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: pathToFileURL(resolved.path).href, external: true };
      });
    },
  };
  const workingDir = dirname(entry);
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: workingDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The caller's tsconfig must not matter (nor the package's, which an installed copy may lack).
    tsconfigRaw: {},
    outfile,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    plugins: external.length > 0 ? [externalByUrl] : [],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
  if (code === undefined || map === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(workingDir, p));
  return { code, map, inputs };
}

/**
 * Writes `text` to `path` atomically (a temporary file renamed over it), so that a concurrent start never
 * reads a half-written file.
 *
 * @param {string} path
 * @param {string} text
 */
function writeAtomically(path, text) {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {}
    throw error;
  }
}

/**
 * Writes the bundle, then its manifest, into the cache; false when the cache cannot be written.
 *
 * @param {string} cacheDir
 * @param {{ path: string; text: string }[]} files
 * @returns {boolean}
 */
function writeCache(cacheDir, files) {
  try {
    mkdirSync(cacheDir, { recursive: true });
    for (const { path, text } of files) writeAtomically(path, text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Imports `entry` from a cached bundle, building (and caching) it first when it is missing or stale.
 *
 * @param {BundleOptions} options
 * @returns {Promise<LoadedBundle>}
 * @example
 * const { module } = await importBundled({ entry, cacheDir: defaultCacheDir(packageDir) });
 */
export async function importBundled(options) {
  const { entry, cacheDir } = options;
  const external = options.external ?? [];
  const key = createHash('sha256')
    .update(`${entry}\0${external.join('\0')}`)
    .digest('hex')
    .slice(0, 16);
  const name = `${basename(entry).replace(/\.[^.]*$/, '')}-${key}`;
  const dir = cacheDir ?? dirname(entry);
  const bundle = join(dir, `${name}.mjs`);
  const manifest = join(dir, `${name}.json`);
  // The bundle's mtime in the URL: a process that imports a rebuilt bundle gets the new module (tests do).
  const importCached = async () => import(`${pathToFileURL(bundle).href}?${statSync(bundle).mtimeMs}`);
  if (cacheDir !== undefined && isFresh(manifest, entry) && existsSync(bundle)) {
    return { module: await importCached(), source: 'cached' };
  }
  const started = Date.now();
  const built = await build(entry, bundle, external);
  const fingerprints = built.inputs.map(fingerprint);
  const settled = fingerprints.every(([, , mtimeMs]) => mtimeMs < started - SETTLE_MS);
  if (
    cacheDir !== undefined &&
    settled &&
    writeCache(cacheDir, [
      { path: `${bundle}.map`, text: built.map },
      { path: bundle, text: built.code },
      { path: manifest, text: `${JSON.stringify({ format: BUNDLE_FORMAT, entry, inputs: fingerprints })}\n` },
    ])
  ) {
    return { module: await importCached(), source: 'built' };
  }
  // Not cached (no usable cache directory, or inputs still changing): run from memory.
  const url = `data:text/javascript;base64,${Buffer.from(built.code).toString('base64')}`;
  return { module: await import(url), source: 'built-in-memory' };
}
