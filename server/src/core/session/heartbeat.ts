/**
 * Liveness (docs/protocol.md §11): the server pings after one silent interval of its own, gives up after three
 * silent intervals of the client's, and closes a connection whose token expired. Pure time arithmetic.
 */

import { HEARTBEAT_MISSED_INTERVALS } from '@vibestack/proto';

/** The times a connection's liveness depends on, ms. */
export interface HeartbeatClock {
  readonly intervalMs: number;
  readonly lastSentAt: number;
  readonly lastReceivedAt: number;
  /** When the token expires (with leeway); undefined when it has no `exp`. */
  readonly expiresAt: number | undefined;
}

/** What is due at `now`, most severe first. */
export type HeartbeatDue = 'peer-silent' | 'token-expired' | 'ping' | undefined;

export function heartbeatDue(clock: HeartbeatClock, now: number): HeartbeatDue {
  if (now >= clock.lastReceivedAt + HEARTBEAT_MISSED_INTERVALS * clock.intervalMs) return 'peer-silent';
  if (clock.expiresAt !== undefined && now >= clock.expiresAt) return 'token-expired';
  if (now >= clock.lastSentAt + clock.intervalMs) return 'ping';
  return undefined;
}

/** The next time something may be due (the timer to set), given other deadlines. */
export function heartbeatDeadline(clock: HeartbeatClock, ...others: (number | undefined)[]): number {
  const times = [
    clock.lastSentAt + clock.intervalMs,
    clock.lastReceivedAt + HEARTBEAT_MISSED_INTERVALS * clock.intervalMs,
    clock.expiresAt,
    ...others,
  ];
  return Math.min(...times.filter((t): t is number => t !== undefined));
}
