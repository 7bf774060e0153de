import { defineConfig } from 'vitest/config';

// One vitest run for the whole monorepo. Tests live beside their source; the environment is in the suffix
// (`.test.ts` pure, `.pglite.test.ts` real PGlite, `.pg.test.ts` real Postgres, `.workerd.test.ts` real workerd,
// `.e2e.test.ts` everything, `.browser.test.ts` everything plus Chromium).
// Tests that need Postgres share one embedded cluster per run (started by the global setup) and get a fresh
// database per file.
export default defineConfig({
  test: {
    include: [
      '{gen,server,client,conformance,dataforge,bench}/src/**/*.test.{ts,tsx}',
      'scripts/**/*.test.ts',
    ],
    globalSetup: ['server/src/node/test-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
