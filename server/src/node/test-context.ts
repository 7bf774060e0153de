import type { TEST_PG_CONTEXT_KEY } from '../constants.ts';
import type { PostgresConnectionInfo } from './connection-info.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * Admin connection (superuser, `postgres` database) of the embedded cluster the global setup started for
     * this vitest run, or `null` when the run has no `.pg.test.ts` / `.workerd.test.ts` / `.e2e.test.ts` file.
     */
    [TEST_PG_CONTEXT_KEY]: PostgresConnectionInfo | null;
  }
}
