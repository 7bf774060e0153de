/**
 * Every fixed name, limit and default of the wire protocol, in one place (docs/protocol.md §2, §10, §11, §13).
 * Code never repeats these literals.
 */

/** The WebSocket path of the sync endpoint. */
export const SYNC_PATH = '/v1/sync';

/** The query parameter of the sync URL naming the client id (`/v1/sync?client_id=…`, docs/protocol.md §2.1). */
export const SYNC_CLIENT_ID_PARAM = 'client_id';

/** The WebSocket subprotocol (`Sec-WebSocket-Protocol`) of protocol family v1. */
export const SYNC_SUBPROTOCOL = 'vibestack.sync.v1';

/** Default and bounds of the negotiated maximum frame size, in bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const MIN_MAX_FRAME_BYTES = 64 * 1024;
export const MAX_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Flow control: default initial credit and the most credit that may be outstanding, in data frames. */
export const DEFAULT_INITIAL_CREDIT = 64;
export const MAX_OUTSTANDING_CREDIT = 65_535;

/** Heartbeats, in milliseconds; the peer is dead after `HEARTBEAT_MISSED_INTERVALS` silent intervals. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
export const MIN_HEARTBEAT_INTERVAL_MS = 1_000;
export const MAX_HEARTBEAT_INTERVAL_MS = 300_000;
export const HEARTBEAT_MISSED_INTERVALS = 3;

/** The server closes a connection that has not sent Hello within this many milliseconds. */
export const HELLO_TIMEOUT_MS = 10_000;

/** The largest Hello a server accepts, in bytes (the frame limit is negotiated only by the Hello itself). */
export const MAX_HELLO_FRAME_BYTES = 64 * 1024;

/** Size limits of individual fields and messages. */
export const MAX_ROWS_PER_CHUNK = 10_000;
export const MAX_MUTATIONS_PER_BATCH = 1_000;
export const MAX_AUTH_TOKEN_BYTES = 8 * 1024;
export const MAX_CLIENT_ID_BYTES = 64;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const MAX_AGENT_BYTES = 128;
export const MAX_ERROR_MESSAGE_BYTES = 1024;
export const MAX_ARRAY_DIMENSIONS = 6;
export const MAX_VECTOR_DIMENSIONS = 16_000;
export const MAX_OFFERED_PROTOCOL_VERSIONS = 16;

/** WebSocket close codes outside the ErrorCode mapping (RFC 6455 §7.4.1). */
export const CLOSE_NORMAL = 1000;
/** Close codes for errors are `ERROR_CLOSE_CODE_BASE + ErrorCode`. */
export const ERROR_CLOSE_CODE_BASE = 4000;
/** The highest close code reserved for ErrorCode values. */
export const ERROR_CLOSE_CODE_MAX = 4099;

/** The Postgres session settings under which text values are produced and parsed (docs/protocol.md §7). */
export const TEXT_VALUE_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  extra_float_digits: '1',
  bytea_output: 'hex',
  lc_monetary: 'C',
});
