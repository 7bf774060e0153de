/**
 * Applies server changes to local tables inside an open local transaction (docs/protocol.md §8.4), batched:
 * changes are split per table (changes to different tables commute: no local foreign keys, §5 rule 8), and each
 * table's changes, in order, into runs of one kind that become ONE statement over `unnest` of text arrays —
 * inserts as upserts, updates with `unchanged` columns as UPDATE … FROM, deletes as DELETE … USING. A run ends
 * where a key repeats (ON CONFLICT cannot touch a row twice) or the kind changes. PGlite runs a statement in
 * ~0.5 ms, so batching is what makes thousands of changes per second possible.
 */

import { type Relation, UNCHANGED } from '@vibestack/proto';
import type { TextChange, TextRow, TextTransaction, UpdateRow } from '../core/client-types.ts';
import type { LocalTable } from './local-tables.ts';
import type { SqlRunner } from './sql.ts';

/** One table-level operation, in order. */
type Op =
  | { readonly kind: 'upsert'; readonly row: TextRow }
  | { readonly kind: 'update'; readonly row: UpdateRow; readonly mask: string }
  | { readonly kind: 'delete'; readonly key: TextRow }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'rekey'; readonly row: UpdateRow; readonly oldKey: TextRow };

const keyOf = (table: LocalTable, row: readonly unknown[]): string =>
  JSON.stringify(table.key.map((i) => row[i]));

function opOf(change: Exclude<TextChange, { op: 'truncate' }>): Op {
  if (change.op === 'insert') return { kind: 'upsert', row: change.row };
  if (change.op === 'delete') return { kind: 'delete', key: change.key };
  if (change.oldKey !== undefined) return { kind: 'rekey', row: change.row, oldKey: change.oldKey };
  const mask = change.row.map((v) => (v === UNCHANGED ? '1' : '0')).join('');
  // An update without unchanged values is an upsert (§8.4: insert it when the row is missing).
  return mask.includes('1')
    ? { kind: 'update', row: change.row, mask }
    : { kind: 'upsert', row: change.row as TextRow };
}

/** Splits the changes of `transactions` per table, keeping each table's order. */
function perTable(
  transactions: readonly TextTransaction[],
  tableOf: (relation: Relation) => LocalTable,
): Map<LocalTable, Op[]> {
  const out = new Map<LocalTable, Op[]>();
  const push = (t: LocalTable, op: Op) => {
    const list = out.get(t);
    if (list === undefined) out.set(t, [op]);
    else list.push(op);
  };
  for (const tx of transactions) {
    for (const c of tx.changes) {
      if (c.op === 'truncate') for (const r of c.relations) push(tableOf(r), { kind: 'truncate' });
      else push(tableOf(c.relation), opOf(c));
    }
  }
  return out;
}

const arrays = (rows: readonly (readonly unknown[])[], columns: readonly number[]) =>
  columns.map((i) => rows.map((r) => r[i]));
const params = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `$${from + i}::text[]`).join(', ');

async function upsert(db: SqlRunner, t: LocalTable, rows: readonly TextRow[]): Promise<void> {
  const all = t.columns.map((_, i) => i);
  const names = t.columns.map((c) => c.ident).join(', ');
  const casts = t.columns.map((c, i) => `u.c${i}::${c.type}`).join(', ');
  const aliases = all.map((i) => `c${i}`).join(', ');
  const set = all
    .filter((i) => !t.key.includes(i))
    .map((i) => `${t.columns[i]!.ident} = EXCLUDED.${t.columns[i]!.ident}`);
  const conflict = `ON CONFLICT (${t.key.map((i) => t.columns[i]!.ident).join(', ')}) ${set.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${set.join(', ')}`}`;
  await db.query(
    `INSERT INTO ${t.sql} (${names}) SELECT ${casts} FROM unnest(${params(all.length)}) AS u(${aliases}) ${conflict}`,
    arrays(rows, all),
  );
}

const keyMatch = (t: LocalTable, alias: string, column: (i: number) => string) =>
  t.key.map((i) => `${alias}.${t.columns[i]!.ident} = ${column(i)}::${t.columns[i]!.type}`).join(' AND ');

/** Updates rows that share one set of unchanged columns; missing rows are skipped (§8.4). */
async function update(db: SqlRunner, t: LocalTable, rows: readonly UpdateRow[], mask: string): Promise<void> {
  const changed = t.columns.map((_, i) => i).filter((i) => mask[i] === '0' && !t.key.includes(i));
  // Every non-key column unchanged: the row stays as it is, and a missing row is skipped.
  if (changed.length === 0) return;
  const used = [...t.key, ...changed];
  const set = changed.map((i) => `${t.columns[i]!.ident} = u.c${i}::${t.columns[i]!.type}`).join(', ');
  await db.query(
    `UPDATE ${t.sql} AS t SET ${set} FROM unnest(${params(used.length)}) AS u(${used.map((i) => `c${i}`).join(', ')})
      WHERE ${keyMatch(t, 't', (i) => `u.c${i}`)}`,
    arrays(rows, used),
  );
}

async function remove(db: SqlRunner, t: LocalTable, keys: readonly TextRow[]): Promise<void> {
  const positions = t.key.map((_, j) => j);
  await db.query(
    `DELETE FROM ${t.sql} AS t USING unnest(${params(positions.length)}) AS u(${positions.map((j) => `k${j}`).join(', ')})
      WHERE ${t.key.map((i, j) => `t.${t.columns[i]!.ident} = u.k${j}::${t.columns[i]!.type}`).join(' AND ')}`,
    arrays(keys, positions),
  );
}

/** An update that changed the key: move the row, taking unchanged values from the old one (§8.4). */
async function rekey(db: SqlRunner, t: LocalTable, row: UpdateRow, oldKey: TextRow): Promise<void> {
  const { rows } = await db.query<Record<string, string | null>>(
    `DELETE FROM ${t.sql} AS t WHERE ${t.key.map((i, j) => `t.${t.columns[i]!.ident} = $${j + 1}::${t.columns[i]!.type}`).join(' AND ')}
      RETURNING ${t.columns.map((c, i) => `t.${c.ident}::text AS c${i}`).join(', ')}`,
    [...oldKey],
  );
  const old = rows[0];
  if (old !== undefined) {
    await upsert(db, t, [row.map((v, i) => (v === UNCHANGED ? old[`c${i}`]! : v))]);
    return;
  }
  const mask = row.map((v) => (v === UNCHANGED ? '1' : '0')).join('');
  if (mask.includes('1')) await update(db, t, [row], mask);
  else await upsert(db, t, [row as TextRow]);
}

/** Runs one table's operations: consecutive operations of one kind as one statement. */
async function applyOps(db: SqlRunner, t: LocalTable, ops: readonly Op[]): Promise<void> {
  let i = 0;
  while (i < ops.length) {
    const first = ops[i]!;
    if (first.kind === 'truncate') {
      await db.exec(`DELETE FROM ${t.sql}`);
      i++;
      continue;
    }
    if (first.kind === 'rekey') {
      await rekey(db, t, first.row, first.oldKey);
      i++;
      continue;
    }
    const seen = new Set<string>();
    const run: Op[] = [];
    for (; i < ops.length; i++) {
      const op = ops[i]!;
      if (
        op.kind !== first.kind ||
        (op.kind === 'update' && first.kind === 'update' && op.mask !== first.mask)
      )
        break;
      const k = op.kind === 'delete' ? JSON.stringify(op.key) : keyOf(t, (op as { row: UpdateRow }).row);
      if (seen.has(k)) break;
      seen.add(k);
      run.push(op);
    }
    if (first.kind === 'upsert')
      await upsert(
        db,
        t,
        run.map((o) => (o as { row: TextRow }).row),
      );
    else if (first.kind === 'update')
      await update(
        db,
        t,
        run.map((o) => (o as { row: UpdateRow }).row),
        first.mask,
      );
    else
      await remove(
        db,
        t,
        run.map((o) => (o as { key: TextRow }).key),
      );
  }
}

/** Applies `transactions` in order, inside the caller's open local transaction. */
export async function applyTransactions(
  db: SqlRunner,
  transactions: readonly TextTransaction[],
  tableOf: (relation: Relation) => LocalTable,
): Promise<void> {
  for (const [table, ops] of perTable(transactions, tableOf)) await applyOps(db, table, ops);
}
