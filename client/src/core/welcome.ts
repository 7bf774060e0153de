/** The client's checks of a Welcome (docs/protocol.md §4.2.1, §4.7). */

import {
  ErrorCode,
  MAX_HEARTBEAT_INTERVAL_MS,
  MAX_MAX_FRAME_BYTES,
  MAX_ROWS_PER_CHUNK,
  MIN_HEARTBEAT_INTERVAL_MS,
  MIN_MAX_FRAME_BYTES,
  SyncError,
  SyncMode,
  type Welcome,
} from '@vibestack/proto';

const inRange = (v: number, min: number, max: number) => v >= min && v <= max;

/** @throws SyncError MALFORMED_FRAME for a version not offered, an unknown mode or a limit out of range. */
export function checkWelcome(w: Welcome, offered: readonly number[]): void {
  const problem = !offered.includes(w.protocolVersion)
    ? `protocol version ${w.protocolVersion} was not offered`
    : w.mode !== SyncMode.INITIAL && w.mode !== SyncMode.CATCH_UP && w.mode !== SyncMode.LIVE
      ? `sync mode ${w.mode}`
      : !inRange(w.heartbeatIntervalMs, MIN_HEARTBEAT_INTERVAL_MS, MAX_HEARTBEAT_INTERVAL_MS)
        ? `heartbeat interval ${w.heartbeatIntervalMs} ms`
        : !inRange(w.maxFrameBytes, MIN_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES)
          ? `max_frame_bytes ${w.maxFrameBytes}`
          : !inRange(w.maxRowsPerChunk, 1, MAX_ROWS_PER_CHUNK)
            ? `max_rows_per_chunk ${w.maxRowsPerChunk}`
            : undefined;
  if (problem !== undefined) throw new SyncError(ErrorCode.MALFORMED_FRAME, `bad Welcome: ${problem}`);
}
