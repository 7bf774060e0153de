/**
 * What the snapshot and log streams share with the session once the handshake is done: the connection's tables,
 * the outbox, the user's claims, the negotiated limits, and the way out for effects.
 */

import type { Claims } from '../scope/index.ts';
import type { Outbox } from './outbox.ts';
import type { SessionEffect } from './session-types.ts';
import type { TableViews } from './table-views.ts';

/** Limits of one connection. */
export interface StreamLimits {
  /** The negotiated `max_frame_bytes`. */
  readonly maxFrameBytes: number;
  readonly maxRowsPerChunk: number;
  /** Rows per snapshot read (several chunks' worth: fewer database round trips). */
  readonly snapshotReadRows: number;
  readonly maxChangesPerFrame: number;
  /** Backlog bound: pushed log batches are dropped (and re-read later) at or above it. */
  readonly maxQueuedFrames: number;
  /** Below this many queued frames the streams ask for more rows or transactions. */
  readonly lowWater: number;
  readonly logReadLimit: number;
  readonly progressIntervalMs: number;
}

/** The streams' view of the session. */
export interface StreamContext {
  readonly views: TableViews;
  readonly outbox: Outbox;
  readonly claims: Claims;
  readonly limits: StreamLimits;
  emit(effect: SessionEffect): void;
  /** The time of the event being handled, ms. */
  now(): number;
}
