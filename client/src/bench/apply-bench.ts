/**
 * Apply speed of the PGlite layer on `tasks` rows (the demo schema's 12 columns): the initial-sync bulk path
 * (checked wire rows → binary COPY into staging in 10k-row groups → swap at the commit) in rows/s, and live
 * transaction apply (one-change transactions grouped per local transaction) in changes/s, with the cost of the
 * core's row check and text conversion. Prints and writes `bench/results/client-apply.json`. Not a test.
 * Run: `npx tsx client/src/bench/apply-bench.ts [rows]`.
 */

import { create } from '@bufbuild/protobuf';
import { PGlite } from '@electric-sql/pglite';
import { ColumnSchema, type Relation, RelationSchema, ValueEncoding } from '@vibestack/proto';
import { sampleTaskRows, TASK_COLUMNS, taskInsert } from '../../../gen/src/testing/task-rows.ts';
import type { TextRow, TextTransaction } from '../core/client-types.ts';
import { checkFullRow, describeRelation, fullRow } from '../core/relations.ts';
import { createSyncStore } from '../pglite/sync-store.ts';
import { writeResults } from './bench-util.ts';

const N = Number(process.argv[2] ?? 100_000);
const PG_TYPES: Record<string, [string, number]> = {
  id: ['uuid', 2950],
  project_id: ['uuid', 2950],
  assignee_id: ['uuid', 2950],
  title: ['text', 25],
  status: ['text', 25],
  priority: ['integer', 23],
  done: ['boolean', 16],
  estimate_hours: ['numeric(6,2)', 1700],
  due_on: ['date', 1082],
  created_at: ['timestamp with time zone', 1184],
  updated_at: ['timestamp with time zone', 1184],
  tags: ['text[]', 1009],
};
const tasks: Relation = create(RelationSchema, {
  relationId: 3,
  schema: 'public',
  name: 'tasks',
  primaryKey: [0],
  columns: TASK_COLUMNS.map(([name, type]) => {
    const [typeName, oid] = PG_TYPES[name]!;
    return create(ColumnSchema, {
      name,
      typeName,
      baseTypeName: typeName,
      baseTypeOid: oid,
      typeModifier: -1,
      nullable: name !== 'id',
      encoding: type.encoding,
      elementEncoding:
        type.encoding === ValueEncoding.ARRAY ? type.element.encoding : ValueEncoding.UNSPECIFIED,
      elementTypeOid: type.encoding === ValueEncoding.ARRAY ? 25 : 0,
    });
  }),
});

const seconds = (from: number) => (performance.now() - from) / 1000;
const wire = sampleTaskRows(N).map((r) => {
  const c = taskInsert(r);
  return c.kind.case === 'insert' ? c.kind.value.newRow! : undefined!;
});
const known = describeRelation(tasks);

let t = performance.now();
const text: TextRow[] = wire.map((r) => fullRow(known, r));
const convertS = seconds(t);
t = performance.now();
const checked = wire.map((r) => checkFullRow(known, r));
const checkS = seconds(t);

const db = await PGlite.create();
const store = createSyncStore(db);
await store.open();

// Initial sync: 1000-row chunks grouped 10 per local transaction (what the session's grouping does).
t = performance.now();
await store.apply({ kind: 'snapshot-begin', snapshotId: 'bench' });
for (let i = 0; i < N; i += 10_000) {
  const chunks = [];
  for (let j = i; j < Math.min(N, i + 10_000); j += 1000)
    chunks.push({ relation: tasks, rows: checked.slice(j, j + 1000) });
  await store.apply({ kind: 'snapshot-chunks', snapshotId: 'bench', chunks, cursor: new Uint8Array([1]) });
}
const stageS = seconds(t);
t = performance.now();
await store.apply({
  kind: 'snapshot-commit',
  snapshotId: 'bench',
  lsn: 100n,
  tables: [tasks],
  rowCounts: [BigInt(N)],
});
const swapS = seconds(t);

// Live: one-change transactions (updates of existing rows as upserts), grouped `group` per local transaction.
async function live(count: number, group: number, lsn: bigint): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i += group) {
    const transactions: TextTransaction[] = [];
    for (let j = i; j < Math.min(count, i + group); j++) {
      transactions.push({
        commitLsn: lsn + BigInt(j),
        changes: [{ op: 'insert', relation: tasks, row: text[j % N]! }],
      });
    }
    await store.apply({ kind: 'transactions', transactions, lsn: transactions.at(-1)!.commitLsn });
  }
  return Math.round(count / seconds(start));
}
const liveGrouped1000 = await live(Math.min(N, 50_000), 1000, 1000n);
const liveGrouped100 = await live(Math.min(N, 20_000), 100, 1_000_000n);
const liveUngrouped = await live(2000, 1, 2_000_000n);
await db.close();

const results = {
  rows: N,
  coreTextConversionRowsPerS: Math.round(N / convertS),
  snapshotStageRowsPerS: Math.round(N / stageS),
  snapshotSwapRowsPerS: Math.round(N / swapS),
  snapshotApplyRowsPerS: Math.round(N / (stageS + swapS)),
  coreRowCheckRowsPerS: Math.round(N / checkS),
  snapshotWithCheckRowsPerS: Math.round(N / (checkS + stageS + swapS)),
  liveChangesPerS: {
    grouped1000: liveGrouped1000,
    grouped100: liveGrouped100,
    oneTransactionPerCommit: liveUngrouped,
  },
};
console.log(results);
writeResults('apply', results);
