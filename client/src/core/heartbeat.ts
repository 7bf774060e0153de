/**
 * Liveness (docs/protocol.md §11) from the client's side: a Ping after one interval without sending, dead after
 * three intervals without receiving. Pure time arithmetic.
 */

import { HEARTBEAT_MISSED_INTERVALS } from '@vibestack/proto';

/** The times liveness depends on, ms. */
export interface HeartbeatClock {
  readonly intervalMs: number;
  readonly lastSentAt: number;
  readonly lastReceivedAt: number;
}

/** What is due at `now`, most severe first. */
export function heartbeatDue(clock: HeartbeatClock, now: number): 'peer-silent' | 'ping' | undefined {
  if (now >= clock.lastReceivedAt + HEARTBEAT_MISSED_INTERVALS * clock.intervalMs) return 'peer-silent';
  if (now >= clock.lastSentAt + clock.intervalMs) return 'ping';
  return undefined;
}

/** The next time something may be due. */
export function heartbeatDeadline(clock: HeartbeatClock): number {
  return Math.min(
    clock.lastSentAt + clock.intervalMs,
    clock.lastReceivedAt + HEARTBEAT_MISSED_INTERVALS * clock.intervalMs,
  );
}
