/**
 * Rows shaped like the demo schema's `tasks` table, their wire form, and the same changes in Electric's JSON
 * shape-log format — the yardstick of the protocol's compactness target (docs/protocol.md §7). Shared by the
 * wire-size test and the codec benchmark.
 */

import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { ServerMessageSchema } from '../gen/vibestack/sync/v1/envelope_pb.ts';
import { ValueEncoding } from '../gen/vibestack/sync/v1/schema_pb.ts';
import type { Change } from '../gen/vibestack/sync/v1/transaction_pb.ts';
import { ChangeSchema, TransactionSchema } from '../gen/vibestack/sync/v1/transaction_pb.ts';
import { RowSchema } from '../gen/vibestack/sync/v1/value_pb.ts';
import { encodeTextValue, UNCHANGED_VALUE } from '../values/value-codec.ts';
import type { ValueType } from '../values/value-type.ts';

/** A task row in Postgres text form, by column name. */
export type TaskRow = Record<string, string | null>;

/** The columns of `tasks` and their wire types, in wire order. */
export const TASK_COLUMNS: readonly (readonly [string, ValueType])[] = [
  ['id', { encoding: ValueEncoding.UUID }],
  ['project_id', { encoding: ValueEncoding.UUID }],
  ['assignee_id', { encoding: ValueEncoding.UUID }],
  ['title', { encoding: ValueEncoding.TEXT }],
  ['status', { encoding: ValueEncoding.TEXT }],
  ['priority', { encoding: ValueEncoding.INT }],
  ['done', { encoding: ValueEncoding.BOOL }],
  ['estimate_hours', { encoding: ValueEncoding.TEXT }],
  ['due_on', { encoding: ValueEncoding.DATE }],
  ['created_at', { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }],
  ['updated_at', { encoding: ValueEncoding.TIMESTAMP, withTimeZone: true }],
  ['tags', { encoding: ValueEncoding.ARRAY, element: { encoding: ValueEncoding.TEXT } }],
];

const words = ['write', 'docs', 'fix', 'sync', 'bug', 'review', 'ship', 'release', 'plan', 'test'];
const day = fc.date({ min: new Date('2024-01-01'), max: new Date('2027-12-31'), noInvalidDate: true });
const instant = (micros: string) =>
  day.map((d) => `${d.toISOString().replace('T', ' ').replace('Z', '')}${micros}+00`);

/** Arbitrary task rows in Postgres text form. */
export const taskRow: fc.Arbitrary<TaskRow> = fc.record({
  id: fc.uuid(),
  project_id: fc.uuid(),
  assignee_id: fc.option(fc.uuid(), { nil: null }),
  title: fc.array(fc.constantFrom(...words), { minLength: 2, maxLength: 6 }).map((w) => w.join(' ')),
  status: fc.constantFrom('todo', 'in_progress', 'done'),
  priority: fc.integer({ min: 0, max: 5 }).map(String),
  done: fc.constantFrom('t', 'f'),
  estimate_hours: fc.integer({ min: 0, max: 9999 }).map((n) => (n / 100).toFixed(2)),
  due_on: day.map((d) => d.toISOString().slice(0, 10)),
  created_at: instant('123'),
  updated_at: instant('456'),
  tags: fc.array(fc.constantFrom(...words), { maxLength: 3 }).map((t) => `{${t.join(',')}}`),
});

/** `count` task rows, the same for the same seed. */
export function sampleTaskRows(count: number, seed = 42): TaskRow[] {
  return fc.sample(taskRow, { seed, numRuns: count });
}

/** An Insert change of a task row (relation id 3). */
export function taskInsert(row: TaskRow): Change {
  const values = TASK_COLUMNS.map(([c, t]) => encodeTextValue(t, row[c] ?? null));
  return create(ChangeSchema, {
    kind: { case: 'insert', value: { relationId: 3, newRow: create(RowSchema, { values }) } },
  });
}

/** An Update change that sets `column` and marks every other non-key column `unchanged`. */
export function taskColumnUpdate(row: TaskRow, column: string): Change {
  const values = TASK_COLUMNS.map(([c, t]) =>
    c === 'id' || c === column ? encodeTextValue(t, row[c] ?? null) : UNCHANGED_VALUE,
  );
  return create(ChangeSchema, {
    kind: { case: 'update', value: { relationId: 3, newRow: create(RowSchema, { values }) } },
  });
}

/** The encoded size of one ServerMessage frame carrying a transaction with `changes`. */
export function transactionFrameBytes(changes: Change[], i: number): number {
  const tx = create(TransactionSchema, {
    commitLsn: 0x1_6b37_4d48n + BigInt(i * 4096),
    xid: 750_000 + i,
    commitTimeUs: 1_764_000_000_000_000n,
    changes,
  });
  return toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { message: { case: 'transaction', value: tx } }),
  ).length;
}

/** Electric's JSON shape-log message for an insert (full row) or an update (key + changed columns). */
export function electricMessage(
  row: TaskRow,
  operation: 'insert' | 'update',
  i: number,
  last: boolean,
): unknown {
  return {
    key: `"public"."tasks"/"${row.id}"`,
    value: row,
    headers: {
      operation,
      relation: ['public', 'tasks'],
      lsn: String(0x1_6b37_4d48 + i * 4096),
      op_position: 0,
      txids: [750_000 + i],
      ...(last ? { last: true } : {}),
    },
  };
}

/** The UTF-8 size of Electric's JSON response holding `messages`. */
export function electricBytes(messages: unknown[]): number {
  return new TextEncoder().encode(JSON.stringify(messages)).length;
}

/** Wire bytes / Electric JSON bytes for three workloads over `rows`. */
export function wireSizeRatios(rows: TaskRow[]): {
  singleInsert: number;
  batchInsert: number;
  columnUpdate: number;
} {
  const single = rows.reduce((s, row, i) => s + transactionFrameBytes([taskInsert(row)], i), 0);
  const singleElectric = rows.reduce(
    (s, row, i) => s + electricBytes([electricMessage(row, 'insert', i, true)]),
    0,
  );
  const batch = transactionFrameBytes(rows.map(taskInsert), 0);
  const batchElectric = electricBytes(
    rows.map((row, i) => electricMessage(row, 'insert', 0, i === rows.length - 1)),
  );
  let update = 0;
  let updateElectric = 0;
  rows.forEach((row, i) => {
    const changed = { ...row, done: row.done === 't' ? 'f' : 't' };
    update += transactionFrameBytes([taskColumnUpdate(changed, 'done')], i);
    updateElectric += electricBytes([
      electricMessage({ id: row.id ?? null, done: changed.done }, 'update', i, true),
    ]);
  });
  return {
    singleInsert: single / singleElectric,
    batchInsert: batch / batchElectric,
    columnUpdate: update / updateElectric,
  };
}
