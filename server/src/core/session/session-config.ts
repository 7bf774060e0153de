/** Defaults and validation of {@link SessionConfig}. */

import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_HEARTBEAT_INTERVAL_MS,
  MAX_MAX_FRAME_BYTES,
  MAX_ROWS_PER_CHUNK,
  MIN_HEARTBEAT_INTERVAL_MS,
  MIN_MAX_FRAME_BYTES,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@vibestack/proto';
import type { SessionConfig } from './session-types.ts';

/** Default `Welcome.max_rows_per_chunk`. */
export const DEFAULT_ROWS_PER_CHUNK = 1_000;
/** Default rows per snapshot read. */
export const DEFAULT_SNAPSHOT_READ_ROWS = 5_000;
/** Default most changes per Transaction frame. */
export const DEFAULT_CHANGES_PER_FRAME = 1_000;
/** Default backlog bound, in data frames. */
export const DEFAULT_MAX_QUEUED_FRAMES = 256;
/** Default transactions per log read. */
export const DEFAULT_LOG_READ_LIMIT = 256;
/** Default least time between two LIVE Progress frames, ms. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 5_000;
/** Default grace after the token's `exp` before the connection is closed, ms. */
export const DEFAULT_TOKEN_LEEWAY_MS = 30_000;

/** A config with every default filled in. */
export type ResolvedSessionConfig = Required<SessionConfig>;

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer within ${min}–${max}, got ${value}`);
  }
  return value;
}

/** Fills in defaults. @throws RangeError on an out-of-range setting. */
export function resolveSessionConfig(config: SessionConfig): ResolvedSessionConfig {
  const schemaVersion = config.schemaVersion ?? '';
  return {
    clientId: config.clientId,
    scope: config.scope,
    schemaVersion,
    acceptsSchemaVersion: config.acceptsSchemaVersion ?? ((v) => v === schemaVersion),
    serverAgent: config.serverAgent ?? 'vibestack-server/0.1.0',
    heartbeatIntervalMs: inRange(
      'heartbeatIntervalMs',
      config.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      MIN_HEARTBEAT_INTERVAL_MS,
      MAX_HEARTBEAT_INTERVAL_MS,
    ),
    maxFrameBytes: inRange(
      'maxFrameBytes',
      config.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      MIN_MAX_FRAME_BYTES,
      MAX_MAX_FRAME_BYTES,
    ),
    maxRowsPerChunk: inRange(
      'maxRowsPerChunk',
      config.maxRowsPerChunk ?? DEFAULT_ROWS_PER_CHUNK,
      1,
      MAX_ROWS_PER_CHUNK,
    ),
    snapshotReadRows: inRange(
      'snapshotReadRows',
      config.snapshotReadRows ?? DEFAULT_SNAPSHOT_READ_ROWS,
      1,
      1_000_000,
    ),
    maxChangesPerFrame: inRange(
      'maxChangesPerFrame',
      config.maxChangesPerFrame ?? DEFAULT_CHANGES_PER_FRAME,
      1,
      1_000_000,
    ),
    maxQueuedFrames: inRange(
      'maxQueuedFrames',
      config.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES,
      2,
      1_000_000,
    ),
    logReadLimit: inRange('logReadLimit', config.logReadLimit ?? DEFAULT_LOG_READ_LIMIT, 1, 1_000_000),
    progressIntervalMs: inRange(
      'progressIntervalMs',
      config.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
      0,
      3_600_000,
    ),
    tokenLeewayMs: inRange('tokenLeewayMs', config.tokenLeewayMs ?? DEFAULT_TOKEN_LEEWAY_MS, 0, 3_600_000),
    supportedProtocolVersions: config.supportedProtocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS,
  };
}
