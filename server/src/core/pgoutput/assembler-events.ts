/**
 * The events of the transaction assembler ({@link createTransactionAssembler}): what the change log receives.
 */

import type { LoggedChange, TableShape, TransactionHeader } from '../change.ts';
import type { LogicalMessage } from './messages.ts';

/** A transaction header before its Commit: everything but `endLsn`. */
export type OpenTransactionHeader = Omit<TransactionHeader, 'endLsn'>;

/** What {@link TransactionAssembler.push} produces. */
export type AssemblerEvent =
  /**
   * A transaction starts. For a non-streamed transaction its `chunk`s and then its `commit` follow. For a
   * streamed one (`streamed: true`, emitted on Stream Commit) its changes were already handed out as
   * `stream-chunk`s of `header.xid`, and `commit` follows immediately.
   */
  | { readonly type: 'begin'; readonly header: OpenTransactionHeader; readonly streamed: boolean }
  /** A table shape, emitted when a Relation message gives a relation a shape id it did not have here. */
  | { readonly type: 'shape'; readonly shape: TableShape }
  /** Up to `maxChunkChanges` changes of the open transaction, in order; `seq` counts from 0. */
  | {
      readonly type: 'chunk';
      readonly commitLsn: bigint;
      readonly seq: number;
      readonly changes: readonly LoggedChange[];
    }
  /**
   * The transaction committed. `chunks`/`changes`: how many (stream-)chunks and changes it was handed out in
   * (for a streamed transaction including the changes of its aborted subtransactions).
   */
  | {
      readonly type: 'commit';
      readonly header: TransactionHeader;
      readonly chunks: number;
      readonly changes: number;
    }
  /**
   * Up to `maxChunkChanges` changes of the in-progress streamed transaction `xid`; `seq` counts from 0 across
   * stream blocks. `subxids[i]` is the (sub)transaction xid of `changes[i]` (equal to `xid` for top-level changes).
   */
  | {
      readonly type: 'stream-chunk';
      readonly xid: number;
      readonly seq: number;
      readonly changes: readonly LoggedChange[];
      readonly subxids: readonly number[];
    }
  /**
   * A streamed transaction aborted: all of it when `subxid === xid`, otherwise only the changes whose
   * `subxids` entry is `subxid`.
   */
  | { readonly type: 'abort'; readonly xid: number; readonly subxid: number }
  /**
   * A logical decoding message. A transactional one is emitted in its place among the changes (the changes
   * before it have been handed out in chunks already); a non-transactional one as soon as it is decoded.
   */
  | { readonly type: 'message'; readonly message: LogicalMessage };
