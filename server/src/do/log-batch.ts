/**
 * What the ReplicationDO hands a SyncDO over RPC: transactions with their chunks still encoded (RPC values are
 * structured-cloned, and the unchanged marker is a symbol), plus the shapes they use.
 */

import type { TableShape, TransactionHeader } from '../core/change.ts';
import { decodeChunk } from '../core/log/chunk-codec.ts';
import type { LogBatch } from '../core/session/session-types.ts';

/** The change log's head and floor. */
export interface LogPositions {
  readonly head: bigint;
  readonly floor: bigint;
}

/** A transaction as sent over RPC. */
export interface RawLogTransaction {
  readonly header: TransactionHeader;
  readonly payloads: readonly string[];
}

/** A log read as sent over RPC. */
export interface RawLogBatch {
  readonly afterLsn: bigint;
  readonly throughLsn: bigint;
  readonly transactions: readonly RawLogTransaction[];
  readonly shapes: readonly TableShape[];
  readonly head: bigint;
  readonly floor: bigint;
}

/** Decodes an RPC log batch into the session's form. */
export function decodeLogBatch(raw: RawLogBatch, requestId?: number): LogBatch {
  return {
    ...(requestId === undefined ? {} : { requestId }),
    afterLsn: raw.afterLsn,
    throughLsn: raw.throughLsn,
    transactions: raw.transactions.map((t) => ({
      header: t.header,
      changes: t.payloads.flatMap(decodeChunk),
    })),
    shapes: raw.shapes,
    head: raw.head,
    floor: raw.floor,
  };
}
