/**
 * What the ReplicationDO hands a SyncDO over RPC: transactions with their chunks still encoded (RPC values are
 * structured-cloned, and the unchanged marker is a symbol), plus the shapes they use.
 */

import type { TableShape, TransactionHeader } from '../core/change.ts';
import type { LogRead } from '../core/log/change-log.ts';
import { decodeChunk } from '../core/log/chunk-codec.ts';
import type { RelationDescriptor } from '../core/session/relation-descriptor.ts';
import type { LogBatch } from '../core/session/session-types.ts';

/** The change log's head and floor. */
export interface LogPositions {
  readonly head: bigint;
  readonly floor: bigint;
}

/** The ReplicationDO's answer to `attach`: what a session needs to start or continue, or why it cannot. */
export type AttachResult =
  | (LogPositions & { readonly ok: true; readonly catalog: readonly RelationDescriptor[] })
  | { readonly ok: false; readonly reason: string };

/** A transaction, or a run of its chunks (see `LogTransaction`), as sent over RPC. */
export interface RawLogTransaction {
  readonly header: TransactionHeader;
  readonly payloads: readonly string[];
  readonly fromChunk: number;
  readonly more: boolean;
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
      fromChunk: t.fromChunk,
      chunkCount: t.payloads.length,
      more: t.more,
    })),
    shapes: raw.shapes,
    head: raw.head,
    floor: raw.floor,
  };
}

/** A change-log read in its RPC form. */
export function toRawLogBatch(read: LogRead, shapes: readonly TableShape[]): RawLogBatch {
  return {
    afterLsn: read.afterLsn,
    throughLsn: read.throughLsn,
    transactions: read.parts.map(({ tx, fromChunk, payloads, more }) => ({
      header: { commitLsn: tx.commitLsn, endLsn: tx.endLsn, xid: tx.xid, commitTimeUs: tx.commitTimeUs },
      payloads,
      fromChunk,
      more,
    })),
    shapes,
    head: read.head,
    floor: read.floor,
  };
}
