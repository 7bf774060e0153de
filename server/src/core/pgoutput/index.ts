/**
 * pgoutput: the decoder (bytes → {@link PgoutputMessage}) and the transaction assembler (messages → bounded
 * chunks of committed changes). Sans-IO; the replication reader in `src/db/` feeds it.
 */

export type { AssemblerEvent, OpenTransactionHeader } from './assembler-events.ts';
// Callers (the replication reader)
export type { DecodeOptions, PgoutputDecoder } from './decoder.ts';
export { createPgoutputDecoder, decodePgoutputMessage } from './decoder.ts';
export type { PgoutputDecodeErrorCode, PgoutputProtocolErrorCode } from './errors.ts';
export {
  isPgoutputDecodeError,
  isPgoutputProtocolError,
  PgoutputDecodeError,
  PgoutputProtocolError,
} from './errors.ts';
// Message types
export type {
  BeginMessage,
  CommitMessage,
  DeleteMessage,
  InsertMessage,
  LogicalMessage,
  OriginMessage,
  PgoutputDataMessage,
  PgoutputMessage,
  RelationColumn,
  RelationMessage,
  StreamAbortMessage,
  StreamCommitMessage,
  StreamStartMessage,
  StreamStopMessage,
  TruncateMessage,
  TupleData,
  TupleValue,
  TypeMessage,
  UpdateMessage,
} from './messages.ts';
export type { TransactionAssembler, TransactionAssemblerOptions } from './transaction-assembler.ts';
export { createTransactionAssembler } from './transaction-assembler.ts';
