/**
 * `@vibestack/client/react` — React bindings of the sync client: a provider for the client and its PGlite
 * database, the sync status as state, and live queries over the local database (PGlite's `live` extension).
 * Needs React 18 or later. See docs/react.md.
 *
 * For apps: `SyncProvider`, `useSyncClient`, `usePGlite`, `useSyncStatus`, `useLiveQuery`,
 * `useLiveIncrementalQuery`. For bindings to other frameworks: `subscribeLiveQuery`, the hooks' core without
 * React. (The exports below are in the order Biome sorts them.)
 */

export {
  type LiveDb,
  type LiveQueryListener,
  type LiveQuerySpec,
  subscribeLiveQuery,
} from './live-subscription.ts';
export { SyncProvider, type SyncProviderProps, usePGlite, useSyncClient } from './sync-provider.tsx';
export {
  type LiveQueryField,
  type LiveQueryResult,
  useLiveIncrementalQuery,
  useLiveQuery,
} from './use-live-query.ts';
export { useSyncStatus } from './use-sync-status.ts';
