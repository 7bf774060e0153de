/**
 * The React context of the bindings: `SyncProvider` hands a running sync client and the PGlite database it
 * keeps in sync to every component below it; `useSyncClient` and `usePGlite` read them back.
 */

import type { PGliteWithLive } from '@electric-sql/pglite/live';
import { createContext, type ReactNode, useContext, useMemo } from 'react';
import type { SyncClient } from '../sync-client.ts';

/** What {@link SyncProvider} provides. */
export interface SyncContextValue {
  readonly client: SyncClient;
  readonly db: PGliteWithLive;
}

const SyncContext = createContext<SyncContextValue | null>(null);

/** Props of {@link SyncProvider}. */
export interface SyncProviderProps {
  /** The running client (`createSyncClient`). The provider neither starts nor stops it. */
  readonly client: SyncClient;
  /**
   * The database the client syncs into, created with the `live` extension:
   * `PGlite.create({ extensions: { live } })` (`live` from `@electric-sql/pglite/live`).
   */
  readonly db: PGliteWithLive;
  readonly children?: ReactNode;
}

/**
 * Makes `client` and `db` available to the hooks (`useSyncStatus`, `useLiveQuery`, …) of every component below.
 * Create both once, outside React (or in a top-level effect), and stop/close them yourself when done.
 *
 * @throws TypeError when `db` has no `live` extension.
 * @example
 * const db = await PGlite.create('idb://my-app', { extensions: { live } });
 * const client = await createSyncClient({ url: 'https://sync.example.com', db, token: getToken });
 * createRoot(element).render(
 *   <SyncProvider client={client} db={db}>
 *     <App />
 *   </SyncProvider>,
 * );
 */
export function SyncProvider({ client, db, children }: SyncProviderProps): ReactNode {
  if ((db as Partial<PGliteWithLive>).live === undefined) {
    throw new TypeError(
      'SyncProvider: db has no live extension; create it with PGlite.create({ extensions: { live } })',
    );
  }
  const value = useMemo(() => ({ client, db }), [client, db]);
  return <SyncContext.Provider value={value}>{children}</SyncContext.Provider>;
}

/** The nearest provider's value; `hook` names the public hook in the error thrown outside a provider. Internal. */
export function useSyncContext(hook: string): SyncContextValue {
  const value = useContext(SyncContext);
  if (value === null) throw new Error(`${hook}() must be called inside a <SyncProvider>`);
  return value;
}

/**
 * The sync client of the nearest {@link SyncProvider} (for `waitForLsn`, `whenLive`, …; for its status use
 * `useSyncStatus`, which re-renders on changes).
 *
 * @throws Error outside a `SyncProvider`.
 */
export function useSyncClient(): SyncClient {
  return useSyncContext('useSyncClient').client;
}

/**
 * The PGlite database of the nearest {@link SyncProvider}, for one-off queries and local writes.
 *
 * @throws Error outside a `SyncProvider`.
 * @example
 * const db = usePGlite();
 * const add = (title: string) => db.query('INSERT INTO todos (title) VALUES ($1)', [title]);
 */
export function usePGlite(): PGliteWithLive {
  return useSyncContext('usePGlite').db;
}
