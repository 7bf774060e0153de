/**
 * One poll of the replication path: read pgoutput from the slot (without consuming), assemble transactions,
 * write them to the change log, and only then advance the slot. Runs in the ReplicationDO (and in Node tests);
 * every decision it makes is in the core (decoder, assembler, log), this only moves data between them.
 *
 * Durability order (FIELD-NOTES §2): chunk → log, commit → log, then `pg_replication_slot_advance`. A crash at
 * any point re-reads the same WAL next time; the log ignores what it already committed and rewrites pending
 * chunks identically.
 */

import type { Lsn } from '@vibestack/proto';
import type { ChangeLog } from '../core/log/change-log.ts';
import { createPgoutputDecoder } from '../core/pgoutput/decoder.ts';
import { shapeOfRelation } from '../core/pgoutput/relation-shape.ts';
import { createTransactionAssembler } from '../core/pgoutput/transaction-assembler.ts';
import { advanceSlot, readReplicationBatch } from '../db/replication-reader.ts';
import type { SqlClient } from '../db/sql-client.ts';

/** Options of {@link pumpReplication}. */
export interface PumpOptions {
  readonly slot: string;
  readonly publication: string;
  /** Rows per FETCH from the slot cursor. */
  readonly fetchSize: number;
  /** Rows after which the poll ends at the next commit (more is read by the next poll). */
  readonly maxRows: number;
  /** Changes per stored chunk: the most changes held in memory at once. */
  readonly chunkChanges: number;
  readonly nowMs: () => number;
}

/** What one poll did. */
export interface PumpResult {
  readonly rowsRead: number;
  /** Transactions newly committed to the log by this poll (re-read ones it already had are not counted). */
  readonly transactions: number;
  /** Changes in those transactions. */
  readonly changes: number;
  /** The slot's confirmed LSN after the poll. */
  readonly slotLsn: Lsn | null;
  /** True when the poll read everything committed so far: poll again later. False: poll again at once. */
  readonly caughtUp: boolean;
}

/** Runs one poll. `client` must not be inside a transaction. */
export async function pumpReplication(
  client: SqlClient,
  log: ChangeLog,
  options: PumpOptions,
): Promise<PumpResult> {
  const decoder = createPgoutputDecoder();
  const assembler = createTransactionAssembler({
    maxChunkChanges: options.chunkChanges,
    shapeFor: (relation) => log.internShape(shapeOfRelation(relation)),
  });
  let transactions = 0;
  let changes = 0;
  let lastEnd: Lsn | null = null;

  const batch = await readReplicationBatch(client, {
    slot: options.slot,
    publication: options.publication,
    fetchSize: options.fetchSize,
    maxRows: options.maxRows,
    onRow: (_lsn, _xid, data) => {
      let boundary = false;
      for (const event of assembler.push(decoder.decode(data))) {
        switch (event.type) {
          case 'chunk':
            log.appendChunk(event.commitLsn, event.seq, event.changes);
            break;
          case 'commit':
            if (log.commit(event.header, event.chunks, options.nowMs())) {
              transactions++;
              changes += event.changes;
            }
            lastEnd = event.header.endLsn;
            boundary = true;
            break;
          case 'stream-chunk':
          case 'abort':
            // Protocol v1 is requested: Postgres never streams in-progress transactions to us.
            throw new Error(`unexpected ${event.type} event with pgoutput protocol v1`);
          default:
            break;
        }
      }
      return boundary ? 'boundary' : undefined;
    },
  });

  let slotLsn: Lsn | null = null;
  const wholeRead = batch.exhausted && !assembler.busy;
  if (wholeRead) {
    // Everything committed before uptoLsn is logged, including "nothing" when only unpublished tables changed:
    // move the slot and the head there so WAL does not pile up.
    log.advanceHead(batch.uptoLsn - 1n);
    slotLsn = await advanceSlot(client, options.slot, batch.uptoLsn);
  } else if (lastEnd !== null) {
    slotLsn = await advanceSlot(client, options.slot, lastEnd);
  }
  return { rowsRead: batch.rowsRead, transactions, changes, slotLsn, caughtUp: wholeRead };
}
