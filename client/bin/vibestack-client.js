#!/usr/bin/env node
// The `vibestack-client` command. The package ships TypeScript source: src/cli/main.ts and what it imports run
// from one cached esbuild bundle, rebuilt when a source file changes (cli-bundle.js). With
// NODE_OPTIONS=--enable-source-maps, stack traces point into the TypeScript source.
import { fileURLToPath } from 'node:url';
import { defaultCacheDir, importBundled } from './cli-bundle.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const { module, source } = await importBundled({
  entry: fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)),
  cacheDir: defaultCacheDir(packageDir),
  external: ['@electric-sql/pglite', 'ws'],
});
// The first start-up phase in the format of src/cli/timing.ts (VIBESTACK_CLI_TIMING, docs/cli.md).
if (process.env.VIBESTACK_CLI_TIMING === '1') {
  process.stderr.write(`vibestack-client: timing: bundle ${source} ${performance.now().toFixed(0)} ms\n`);
}
const { main } = /** @type {{ main: (argv: string[]) => Promise<number> }} */ (module);
process.exit(await main(process.argv.slice(2)));
