/**
 * Which logged transactions a REPEATABLE READ snapshot already contains (docs/protocol.md §6.3). A pure copy of
 * the rule `server/src/db/snapshot-reader.ts` applies, because core code must not import db code.
 *
 * `pg_current_snapshot()` gives (xmin, xmax, xip): a transaction is visible when it committed before the
 * snapshot — xid < xmin, or xid < xmax and not in xip. Xids here are 32-bit (`TransactionHeader.xid`), so they
 * are compared modulo 2^32 (Postgres's `TransactionIdPrecedes`), which is exact while the compared xids lie
 * within 2^31 of each other — always true within the change log's retention window.
 */

import type { TransactionHeader } from '../change.ts';

/** A snapshot's xid bounds (`pg_current_snapshot()`), as 32-bit xids (the low 32 bits of the xid8 values). */
export interface XidSnapshot {
  readonly xmin: number;
  readonly xmax: number;
  /** Transactions in progress when the snapshot was taken. */
  readonly xip: readonly number[];
}

/** `a` precedes `b` modulo 2^32. */
export function xidPrecedes(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Lowest normal xid; 0 (invalid), 1 (bootstrap) and 2 (frozen) precede every normal xid. */
const FIRST_NORMAL_XID = 3;

/** Whether the snapshot already contains the effects of the (committed) transaction `xid`. */
export function isVisibleInSnapshot(xid: number, snapshot: XidSnapshot): boolean {
  const x = xid >>> 0;
  if (x < FIRST_NORMAL_XID) return true;
  if (xidPrecedes(x, snapshot.xmin >>> 0)) return true;
  if (!xidPrecedes(x, snapshot.xmax >>> 0)) return false;
  return !snapshot.xip.some((p) => p >>> 0 === x);
}

/**
 * Whether a logged transaction is a handoff transaction of a snapshot taken at `snapshotLsn`: committed at or
 * before that LSN but not visible to the snapshot.
 */
export function isHandoffTransaction(
  header: TransactionHeader,
  snapshotLsn: bigint,
  snapshot: XidSnapshot,
): boolean {
  return header.commitLsn <= snapshotLsn && !isVisibleInSnapshot(header.xid, snapshot);
}
