/**
 * Bundles a browser test page with Vite's `build()` (a production build, as an app would ship it) into a
 * directory with an `index.html` that loads it. PGlite's wasm and data files are referenced from its code as
 * `new URL('./pglite.wasm', import.meta.url)`, which the build emits as hashed assets beside the page. Test-only.
 */

import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { build, type Rollup } from 'vite';

/** The result of {@link buildPage}. */
export interface PageBundle {
  /** The output directory: `index.html`, the entry script, chunks and `assets/`. */
  readonly dir: string;
  /** Absolute paths (or virtual ids) of every module in the bundle. */
  readonly moduleIds: readonly string[];
  /** Emitted asset file names, relative to `dir` (e.g. `assets/pglite-<hash>.wasm`). */
  readonly assets: readonly string[];
}

const ENTRY_NAME = 'page';

/** Builds the page whose entry module is `entry` (a `.ts` file) into `outDir` (emptied first). */
export async function buildPage(entry: string, outDir: string): Promise<PageBundle> {
  const result = await build({
    configFile: false,
    envFile: false,
    publicDir: false,
    root: dirname(entry),
    cacheDir: join(outDir, '.vite-cache'),
    // PGlite's Node-only branches (`node:module`, its nodefs) draw known warnings about browser externals and eval.
    logLevel: 'error',
    // Only the dev server pre-bundles dependencies; pre-bundling PGlite would move its code away from the wasm
    // and data files its `import.meta.url` points at. Harmless for `build()`, kept so the config also serves dev.
    optimizeDeps: { exclude: ['@electric-sql/pglite'] },
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      reportCompressedSize: false,
      // Emit every asset as a file (no data: URLs), the way PGlite's multi-megabyte files would ship.
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 10_000,
      rollupOptions: {
        input: { [ENTRY_NAME]: entry },
        output: { entryFileNames: '[name].js' },
      },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  const files = outputs.flatMap((o) => o.output);
  const moduleIds = files.flatMap((f) => (f.type === 'chunk' ? f.moduleIds : []));
  const assets = files.flatMap((f) => (f.type === 'asset' ? [f.fileName] : []));
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${basename(entry)}</title></head>\n` +
      `<body><script type="module" src="./${ENTRY_NAME}.js"></script></body></html>\n`,
  );
  return { dir: outDir, moduleIds, assets };
}
