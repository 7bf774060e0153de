/**
 * `useSyncStatus`: the sync client's status as React state, read through `useSyncExternalStore` so every
 * component of one render sees the same status (no tearing under concurrent rendering).
 */

import { useCallback, useSyncExternalStore } from 'react';
import type { ClientStatus } from '../core/client-types.ts';
import { useSyncContext } from './sync-provider.tsx';

/**
 * The status of the {@link SyncProvider}'s client (state, applied LSN, snapshot progress, last error); the
 * component re-renders on every change.
 *
 * With `select`, the component re-renders only when the selected value changes (compared with `Object.is`), e.g.
 * `useSyncStatus((s) => s.state)` ignores the applied LSN moving on every server transaction. `select` must
 * return a primitive or a value it does not create anew on each call.
 *
 * @throws Error outside a `SyncProvider`.
 * @example
 * function SyncBadge() {
 *   const { state, error } = useSyncStatus();
 *   return <span title={error?.message}>{state === 'LIVE' ? 'Up to date' : state.toLowerCase()}</span>;
 * }
 */
export function useSyncStatus(): ClientStatus;
export function useSyncStatus<T>(select: (status: ClientStatus) => T): T;
export function useSyncStatus<T>(select?: (status: ClientStatus) => T): T | ClientStatus {
  const { client } = useSyncContext('useSyncStatus');
  const subscribe = useCallback((onChange: () => void) => client.subscribe(() => onChange()), [client]);
  const read = (): T | ClientStatus => (select === undefined ? client.status : select(client.status));
  return useSyncExternalStore(subscribe, read, read);
}
