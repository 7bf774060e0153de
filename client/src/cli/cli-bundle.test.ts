/**
 * The bin's bundle cache (`bin/cli-bundle.js`): the CLI runs from one esbuild bundle of its TypeScript source,
 * rebuilt exactly when an input changed, imported from memory when the cache cannot be written, with external
 * packages imported from where they are installed.
 */

import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultCacheDir, importBundled } from '../../bin/cli-bundle.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vibestack-cli-bundle-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Writes `text` with an mtime `ageSeconds` in the past (a fresh file is not cached: it may still change). */
async function writeSource(path: string, text: string, ageSeconds = 60): Promise<void> {
  await writeFile(path, text);
  const at = new Date(Date.now() - ageSeconds * 1000);
  await utimes(path, at, at);
}

it('builds once, reuses the bundle while its inputs are unchanged, and rebuilds when one changes', async () => {
  const entry = join(tmp, 'entry.ts');
  const helper = join(tmp, 'helper.ts');
  const cacheDir = join(tmp, 'cache');
  await writeSource(helper, 'export const n: number = 1;\n');
  await writeSource(entry, "import { n } from './helper.ts';\nexport const value = (): number => n;\n");
  const first = await importBundled({ entry, cacheDir });
  expect(first.source).toBe('built');
  expect((first.module.value as () => number)()).toBe(1);
  expect((await importBundled({ entry, cacheDir })).source).toBe('cached');

  await writeSource(helper, 'export const n: number = 22;\n', 30);
  const rebuilt = await importBundled({ entry, cacheDir });
  expect(rebuilt.source).toBe('built');
  expect((rebuilt.module.value as () => number)()).toBe(22);
  expect((await importBundled({ entry, cacheDir })).source).toBe('cached');
});

it('does not cache a bundle whose inputs changed just now, and runs from memory without a usable cache', async () => {
  const entry = join(tmp, 'recent.ts');
  await writeSource(entry, 'export const value: string = "recent";\n', 0);
  const cacheDir = join(tmp, 'cache-recent');
  expect((await importBundled({ entry, cacheDir })).source).toBe('built-in-memory');
  expect((await importBundled({ entry, cacheDir })).source).toBe('built-in-memory');

  const settled = join(tmp, 'settled.ts');
  await writeSource(settled, 'export const value: string = "from memory";\n');
  const notADirectory = join(tmp, 'file');
  await writeFile(notADirectory, '');
  const loaded = await importBundled({ entry: settled, cacheDir: join(notADirectory, 'cache') });
  expect(loaded).toMatchObject({ source: 'built-in-memory', module: { value: 'from memory' } });
  expect((await importBundled({ entry: settled, cacheDir: undefined })).source).toBe('built-in-memory');
});

it('bundles the CLI with PGlite and ws imported from where they are installed', async () => {
  const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
  const cacheDir = join(tmp, 'cli-cache');
  const { module, source } = await importBundled({
    entry,
    cacheDir,
    external: ['@electric-sql/pglite', 'ws'],
  });
  expect(['built', 'built-in-memory']).toContain(source); // in memory while a source file was just edited
  expect(typeof module.main).toBe('function');
  if (source === 'built') {
    const [bundle] = (await import('node:fs')).readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'));
    const code = await readFile(join(cacheDir, bundle!), 'utf8');
    expect(code).toMatch(/from "file:\/\/\/[^"]+\/@electric-sql\/pglite\/dist\/index\.js"/);
    expect(code).toMatch(/import\("file:\/\/\/[^"]+\/ws\/wrapper\.mjs"\)/);
  }
});

it('keeps its cache in the nearest node_modules', () => {
  const clientDir = fileURLToPath(new URL('../..', import.meta.url));
  expect(defaultCacheDir(clientDir)).toMatch(/\/node_modules\/\.cache\/vibestack-client$/);
});
