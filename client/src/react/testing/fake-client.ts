/** A hand-driven `SyncClient` for hook tests that need a status but no server. Test-only. */

import type { ClientStatus } from '../../core/client-types.ts';
import type { SyncClient } from '../../sync-client.ts';

/** A {@link SyncClient} whose status the test sets. */
export interface FakeSyncClient extends SyncClient {
  /**
   * Replaces the status and notifies the listeners, as the real client does on a status effect
   * (`notify: false`: without telling anyone, to model a change React has not heard of yet).
   */
  set(status: ClientStatus, notify?: boolean): void;
  /** How many listeners are subscribed. */
  readonly listeners: number;
}

/**
 * Only the status part of {@link SyncClient} is implemented (all the hooks use); the other members are absent,
 * so the fake does not have to follow every addition to the interface.
 */
export function createFakeClient(
  initial: ClientStatus = { state: 'IDLE', appliedLsn: 0n, caughtUpLsn: 0n },
): FakeSyncClient {
  let status = initial;
  const listeners = new Set<(s: ClientStatus) => void>();
  const fake: Pick<FakeSyncClient, 'status' | 'listeners' | 'set' | 'subscribe' | 'whenLive' | 'stop'> = {
    get status() {
      return status;
    },
    get listeners() {
      return listeners.size;
    },
    set(next, notify = true) {
      status = next;
      if (notify) for (const l of listeners) l(status);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenLive: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  return fake as FakeSyncClient;
}
