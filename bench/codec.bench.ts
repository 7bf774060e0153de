/**
 * The wire codec: Postgres text → wire values (what the server does per change), wire values → Postgres text
 * (what the client does before COPY/INSERT), protobuf encode/decode of 1000-change frames, bytes per change,
 * and the size ratio against Electric's JSON format.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  decodeValueText,
  encodeTextValue,
  fastEncodeServerFrame,
  type ServerMessage,
  ServerMessageSchema,
  TransactionSchema,
  type Value,
} from '@vibestack/proto';
import { sampleTaskRows, TASK_COLUMNS, taskInsert, wireSizeRatios } from '../gen/src/testing/task-rows.ts';
import type { Benchmark } from './run.ts';

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

export const codecBenchmark: Benchmark = {
  name: 'codec',
  async run() {
    const rows = sampleTaskRows(20_000, 1);
    const cells = rows.length * TASK_COLUMNS.length;
    // Warm up the JIT.
    for (const row of rows.slice(0, 2000)) taskInsert(row);

    let changes = rows.map(taskInsert);
    const encodeSeconds = time(() => {
      changes = rows.map(taskInsert);
    });

    const rowValues = changes.map((c) =>
      c.kind.case === 'insert' ? (c.kind.value.newRow?.values ?? []) : [],
    );
    let sink = 0;
    const decodeSeconds = time(() => {
      for (const values of rowValues) {
        values.forEach((v: Value, i) => {
          const t = decodeValueText(TASK_COLUMNS[i]![1], v);
          if (typeof t === 'string') sink += t.length;
        });
      }
    });

    const frames: ServerMessage[] = [];
    for (let i = 0; i < changes.length; i += 1000) {
      frames.push(
        create(ServerMessageSchema, {
          message: {
            case: 'transaction',
            value: create(TransactionSchema, {
              commitLsn: BigInt(i + 1),
              changes: changes.slice(i, i + 1000),
            }),
          },
        }),
      );
    }
    let encoded: Uint8Array[] = [];
    const toBinarySeconds = time(() => {
      encoded = frames.map((f) => toBinary(ServerMessageSchema, f));
    });
    const fastSeconds = time(() => {
      for (const f of frames) fastEncodeServerFrame(f);
    });
    const fromBinarySeconds = time(() => {
      for (const bytes of encoded) fromBinary(ServerMessageSchema, bytes);
    });
    const totalBytes = encoded.reduce((s, b) => s + b.length, 0);
    const ratios = wireSizeRatios(sampleTaskRows(1000, 2));
    if (sink < 0) console.log(sink);
    // A text → value → text loop to be sure nothing is optimised away.
    encodeTextValue(TASK_COLUMNS[0]![1], rows[0]!.id ?? null);
    return {
      rows: rows.length,
      columnsPerRow: TASK_COLUMNS.length,
      'text→wire values/s': Math.round(cells / encodeSeconds),
      'text→wire rows/s': Math.round(rows.length / encodeSeconds),
      'wire→text values/s': Math.round(cells / decodeSeconds),
      'wire→text rows/s': Math.round(rows.length / decodeSeconds),
      'toBinary 1000-change frames/s': Math.round(frames.length / toBinarySeconds),
      'toBinary changes/s': Math.round(changes.length / toBinarySeconds),
      'fast encoder changes/s (same bytes)': Math.round(changes.length / fastSeconds),
      'fromBinary changes/s': Math.round(changes.length / fromBinarySeconds),
      'bytes per insert (in 1000-change frames)': totalBytes / changes.length,
      'size vs Electric JSON: 1 insert per tx': ratios.singleInsert,
      'size vs Electric JSON: 1000 inserts in one tx': ratios.batchInsert,
      'size vs Electric JSON: 1-column update': ratios.columnUpdate,
    };
  },
};
