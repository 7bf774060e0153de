/** Records every status a sync client reports, with the time, for assertions on its state history. Test-only. */

import type { ClientState, ClientStatus } from '../core/client-types.ts';
import type { SyncClient } from '../sync-client.ts';

/** One reported status. */
export interface StatusEntry {
  /** `Date.now()` when it was reported. */
  readonly at: number;
  readonly status: ClientStatus;
}

/** The statuses of one client, from the moment of {@link recordStatuses} on. */
export interface StatusLog {
  readonly entries: readonly StatusEntry[];
  /** The states entered (consecutive repeats collapsed), from entry `from` on. */
  states(from?: number): ClientState[];
  /** The number of entries so far (a mark for `states(from)`). */
  mark(): number;
  /** The states since `from` and the last error, for failure messages. */
  describe(from?: number): string;
  /** Stops recording. */
  stop(): void;
}

/** Starts recording `client`'s statuses (the current one first). */
export function recordStatuses(client: SyncClient): StatusLog {
  const entries: StatusEntry[] = [{ at: Date.now(), status: client.status }];
  const unsubscribe = client.subscribe((status) => {
    entries.push({ at: Date.now(), status });
  });
  const states = (from = 0): ClientState[] => {
    const out: ClientState[] = [];
    for (const e of entries.slice(from)) if (out.at(-1) !== e.status.state) out.push(e.status.state);
    return out;
  };
  return {
    entries,
    states,
    mark: () => entries.length,
    describe(from = 0) {
      const error = entries.at(-1)?.status.error;
      return `states ${states(from).join(' → ')}${error === undefined ? '' : `; last error: ${error.message}`}`;
    },
    stop: unsubscribe,
  };
}
