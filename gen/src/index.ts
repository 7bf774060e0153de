/**
 * `@vibestack/proto` — the `vibestack.sync.v1` wire protocol: the generated messages, and the hand-written parts
 * every implementation in TypeScript shares (value codec, LSNs, errors and close codes, framing, limits).
 */

export { closeCodeForError, errorForCloseCode } from './close-code.ts';
// Limits and names.
export * from './constants.ts';
// Framing (the fast path is byte-identical to toBinary).
export { fastChangeSize, fastEncodeServerFrame, fastRowSize } from './fast-encode.ts';
export type { FrameData } from './frame.ts';
export {
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  frameBytes,
} from './frame.ts';
// The generated messages.
export * from './gen/vibestack/sync/v1/envelope_pb.ts';
export * from './gen/vibestack/sync/v1/error_pb.ts';
export * from './gen/vibestack/sync/v1/flow_pb.ts';
export * from './gen/vibestack/sync/v1/handshake_pb.ts';
export * from './gen/vibestack/sync/v1/mutation_pb.ts';
export * from './gen/vibestack/sync/v1/schema_pb.ts';
export * from './gen/vibestack/sync/v1/snapshot_pb.ts';
export * from './gen/vibestack/sync/v1/transaction_pb.ts';
export * from './gen/vibestack/sync/v1/value_pb.ts';
// LSNs.
export type { Lsn } from './lsn.ts';
export { assertLsn, compareLsn, formatLsn, isLsn, LSN_MAX, LSN_NONE, maxLsn, parseLsn } from './lsn.ts';
// The protocol version and its negotiation.
export {
  MIN_SUPPORTED_PROTOCOL_VERSION,
  negotiateProtocolVersion,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './protocol-version.ts';
// Errors.
export type { SyncErrorOptions } from './sync-error.ts';
export { errorCodeName, isFatalByDefault, isRetryable, isSyncError, SyncError } from './sync-error.ts';
// Values.
export type { PgArrayText } from './values/pg-array.ts';
export { formatPgArray, parsePgArray } from './values/pg-array.ts';
export { formatPgBytea, formatPgUuid, parsePgBytea, parsePgUuid } from './values/pg-bytes.ts';
export {
  DATE_NEG_INFINITY,
  DATE_POS_INFINITY,
  formatPgDate,
  formatPgTimestamp,
  parsePgDate,
  parsePgTimestamp,
  TIMESTAMP_NEG_INFINITY,
  TIMESTAMP_POS_INFINITY,
} from './values/pg-datetime.ts';
export { formatPgFloat4, formatPgFloat8, isPgFloat4, parsePgFloat } from './values/pg-float.ts';
export { PGVECTOR_TYPE_NAME, PgOid } from './values/pg-type-oids.ts';
export { formatPgVector, parsePgVector } from './values/pg-vector.ts';
export {
  checkValue,
  decodeValueText,
  encodeTextValue,
  NULL_VALUE,
  UNCHANGED,
  UNCHANGED_VALUE,
} from './values/value-codec.ts';
export type { PgTypeInfo, ScalarValueType, ValueType } from './values/value-type.ts';
export { valueTypeOfColumn, valueTypeOfPgType } from './values/value-type.ts';
