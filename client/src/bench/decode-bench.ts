/**
 * Decode speed of server frames: protobuf-es `fromBinary` against the hand-written reader, on 1000-row frames of
 * 12-column `tasks` rows (the demo schema). Prints rows/s and writes them to `bench/results/client-decode.json`. Not a
 * test: it asserts nothing. Run: `npx tsx client/src/bench/decode-bench.ts`.
 */

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ServerMessageSchema, SnapshotChunkSchema, TransactionSchema } from '@vibestack/proto';
import { sampleTaskRows, taskInsert } from '../../../gen/src/testing/task-rows.ts';
import { decodeServerMessage } from '../core/fast-decode.ts';
import { measure, writeResults } from './bench-util.ts';

const changes = sampleTaskRows(1000).map(taskInsert);
const frame = (message: Parameters<typeof create<typeof ServerMessageSchema>>[1]) =>
  toBinary(ServerMessageSchema, create(ServerMessageSchema, message));
const tx = frame({
  message: { case: 'transaction', value: create(TransactionSchema, { commitLsn: 5n, changes }) },
});
const rows = changes.map((c) => (c.kind.case === 'insert' ? c.kind.value.newRow! : undefined)!);
const chunk = frame({
  message: { case: 'snapshotChunk', value: create(SnapshotChunkSchema, { relationId: 3, rows }) },
});

const results = {
  frameBytes: tx.length,
  fromBinaryTransactionRowsPerS: measure(() => fromBinary(ServerMessageSchema, tx), 1000),
  fastTransactionRowsPerS: measure(() => decodeServerMessage(tx), 1000),
  fromBinaryChunkRowsPerS: measure(() => fromBinary(ServerMessageSchema, chunk), 1000),
  fastChunkRowsPerS: measure(() => decodeServerMessage(chunk), 1000),
};
console.log(results);
writeResults('decode', results);
