/** The client's checks of a Welcome (docs/protocol.md §4.2.1, §4.7). */

import {
  DEFAULT_MAX_FRAME_BYTES,
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
import type { HelloFields } from './client-frames.ts';

const inRange = (v: number, min: number, max: number) => v >= min && v <= max;

/** What a Welcome is checked against: the Hello the client sent on that connection. */
export type WelcomeOffer = Pick<HelloFields, 'protocolVersions' | 'clientId' | 'maxFrameBytes'>;

/** The first rule of §4.2.1/§4.7 the Welcome breaks, or undefined. */
function problemOf(w: Welcome, hello: WelcomeOffer): string | undefined {
  if (!hello.protocolVersions.includes(w.protocolVersion)) {
    return `protocol version ${w.protocolVersion} was not offered`;
  }
  if (w.mode !== SyncMode.INITIAL && w.mode !== SyncMode.CATCH_UP && w.mode !== SyncMode.LIVE) {
    return `sync mode ${w.mode}`;
  }
  // §4.4: the id as bound equals Hello.client_id. (JSON: the server's string may hold anything.)
  if (w.clientId !== hello.clientId) {
    return `client_id ${JSON.stringify(w.clientId.slice(0, 128))} is not the Hello's "${hello.clientId}"`;
  }
  if (!inRange(w.heartbeatIntervalMs, MIN_HEARTBEAT_INTERVAL_MS, MAX_HEARTBEAT_INTERVAL_MS)) {
    return `heartbeat interval ${w.heartbeatIntervalMs} ms`;
  }
  if (!inRange(w.maxFrameBytes, MIN_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES)) {
    return `max_frame_bytes ${w.maxFrameBytes}`;
  }
  // §4.7: min(the client's offer, the server's limit), so never above the offer.
  const offered = hello.maxFrameBytes === 0 ? DEFAULT_MAX_FRAME_BYTES : hello.maxFrameBytes;
  if (w.maxFrameBytes > offered) return `max_frame_bytes ${w.maxFrameBytes} is above the ${offered} offered`;
  if (!inRange(w.maxRowsPerChunk, 1, MAX_ROWS_PER_CHUNK)) return `max_rows_per_chunk ${w.maxRowsPerChunk}`;
  return undefined;
}

/**
 * Checks a Welcome against the Hello sent on its connection.
 * @throws SyncError MALFORMED_FRAME for a version not offered, an unknown mode, a limit out of range, a client id
 *   other than the Hello's, or a frame limit above the one offered (`Hello.max_frame_bytes`, 0 = 4 MiB).
 */
export function checkWelcome(w: Welcome, hello: WelcomeOffer): void {
  const problem = problemOf(w, hello);
  if (problem !== undefined) throw new SyncError(ErrorCode.MALFORMED_FRAME, `bad Welcome: ${problem}`);
}
