/**
 * Change application in a real PGlite (docs/protocol.md §8.3, §8.4): any sequence of transactions, applied in
 * any grouping into local transactions, ends in the state a straightforward reference model computes, with the
 * last LSN; and applies are marked for write-capture triggers.
 */

import type { PGlite } from '@electric-sql/pglite';
import { formatLsn, UNCHANGED, ValueEncoding } from '@vibestack/proto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextChange, TextTransaction } from '../core/client-types.ts';
import type { SyncStore } from './sync-store.ts';
import { appliedLsn, col, freshPGlite, openStore, relation, rowsOf } from './testing/pglite.ts';

let db: PGlite;
let store: SyncStore;
beforeAll(async () => {
  db = await freshPGlite();
  store = await openStore(db);
});
afterAll(() => db.close());

const T = relation(1, 't', [
  col('id', 'integer', ValueEncoding.INT, { nullable: false, baseTypeOid: 23 }),
  col('a', 'text', ValueEncoding.TEXT),
  col('b', 'integer', ValueEncoding.INT, { baseTypeOid: 23 }),
]);

type Cell = string | null | typeof UNCHANGED;
type Model = Map<string, [string | null, string | null]>;

const id = fc.integer({ min: 1, max: 5 }).map(String);
const a = fc.option(fc.constantFrom('x', 'y', "it's", 'a\\b', ''), { nil: null });
const b = fc.option(fc.integer({ min: -3, max: 3 }).map(String), { nil: null });
const maybe = <V>(arb: fc.Arbitrary<V>): fc.Arbitrary<V | typeof UNCHANGED> =>
  fc.oneof(arb, fc.constant(UNCHANGED));
const change: fc.Arbitrary<TextChange> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(id, a, b).map((row): TextChange => ({ op: 'insert', relation: T, row })) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(id, maybe(a), maybe(b))
      .map((row): TextChange => ({ op: 'update', relation: T, row })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(id, id, maybe(a), maybe(b))
      .map(([old, ...row]): TextChange => ({ op: 'update', relation: T, row, oldKey: [old] })),
  },
  { weight: 3, arbitrary: id.map((k): TextChange => ({ op: 'delete', relation: T, key: [k] })) },
  { weight: 1, arbitrary: fc.constant<TextChange>({ op: 'truncate', relations: [T] }) },
);
const history = fc
  .array(fc.array(change, { minLength: 0, maxLength: 6 }), { minLength: 1, maxLength: 10 })
  .map((txs) => txs.map((changes, i): TextTransaction => ({ commitLsn: 1000n + BigInt(i) * 16n, changes })));

/** §8.4, as plainly as possible. */
function reference(transactions: readonly TextTransaction[]): Model {
  const m: Model = new Map();
  const merge = (
    row: readonly Cell[],
    base: readonly (string | null)[] | undefined,
  ): [string | null, string | null] =>
    [1, 2].map((i) => (row[i] === UNCHANGED ? base![i - 1]! : row[i])) as [string | null, string | null];
  const update = (row: readonly Cell[]) => {
    const k = row[0] as string;
    const current = m.get(k);
    if (current !== undefined) m.set(k, merge(row, current));
    else if (!row.includes(UNCHANGED)) m.set(k, merge(row, undefined));
  };
  for (const t of transactions) {
    for (const c of t.changes) {
      if (c.op === 'insert') m.set(c.row[0]!, [c.row[1]!, c.row[2]!]);
      else if (c.op === 'delete') m.delete(c.key[0]!);
      else if (c.op === 'truncate') m.clear();
      else if (c.oldKey !== undefined && m.has(c.oldKey[0]!)) {
        const old = m.get(c.oldKey[0]!)!;
        m.delete(c.oldKey[0]!);
        m.set(c.row[0] as string, merge(c.row, old));
      } else update(c.row);
    }
  }
  return m;
}

const asRows = (m: Model) =>
  [...m].map(([k, [va, vb]]) => ({ id: k, a: va, b: vb })).sort((x, y) => Number(x.id) - Number(y.id));

/** Cuts `list` into consecutive groups at the given points. */
function groups<V>(list: readonly V[], cuts: readonly number[]): V[][] {
  const at = [...new Set(cuts.map((c) => c % (list.length + 1)))].sort((x, y) => x - y);
  const out: V[][] = [];
  let from = 0;
  for (const c of [...at, list.length]) {
    if (c > from) out.push(list.slice(from, c));
    from = Math.max(from, c);
  }
  return out;
}

describe('applying transactions to PGlite (§8.3, §8.4)', () => {
  it('gives the same final state and LSN for any sequence in any grouping', async () => {
    await fc.assert(
      fc.asyncProperty(history, fc.array(fc.nat(), { maxLength: 6 }), async (txs, cuts) => {
        await store.apply({
          kind: 'transactions',
          transactions: [{ commitLsn: 1n, changes: [{ op: 'truncate', relations: [T] }] }],
          lsn: 1n,
        });
        for (const g of groups(txs, cuts)) {
          await store.apply({ kind: 'transactions', transactions: g, lsn: g.at(-1)!.commitLsn });
        }
        expect(await rowsOf(db, 'public', 't', ['id', 'a', 'b'])).toEqual(asRows(reference(txs)));
        expect(await appliedLsn(db)).toBe(formatLsn(txs.at(-1)!.commitLsn));
      }),
      { numRuns: 40 },
    );
  });

  it('keeps unchanged values, moves re-keyed rows, ignores deletes of missing rows', async () => {
    const tx = (changes: TextChange[], lsn: bigint) =>
      store.apply({ kind: 'transactions', transactions: [{ commitLsn: lsn, changes }], lsn });
    await tx(
      [
        { op: 'truncate', relations: [T] },
        { op: 'insert', relation: T, row: ['1', 'one', '10'] },
      ],
      2000n,
    );
    await tx([{ op: 'update', relation: T, row: ['1', UNCHANGED, '11'] }], 2001n);
    await tx([{ op: 'update', relation: T, row: ['2', UNCHANGED, '20'] }], 2002n); // missing row, unchanged: skipped
    await tx([{ op: 'update', relation: T, row: ['3', 'three', null] }], 2003n); // missing row, full: inserted
    await tx([{ op: 'update', relation: T, row: ['4', UNCHANGED, '40'], oldKey: ['1'] }], 2004n);
    await tx([{ op: 'delete', relation: T, key: ['9'] }], 2005n);
    expect(await rowsOf(db, 'public', 't', ['id', 'a', 'b'])).toEqual([
      { id: '3', a: 'three', b: null },
      { id: '4', a: 'one', b: '40' },
    ]);
  });

  it("marks its transactions with vibestack.applying = 'on' for write-capture triggers", async () => {
    await db.exec(`
      CREATE TABLE public.capture_log (applying text);
      CREATE FUNCTION public.capture() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO public.capture_log VALUES (current_setting('vibestack.applying', true)); RETURN NEW; END $$;
      CREATE TRIGGER capture AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.capture();`);
    await store.apply({
      kind: 'transactions',
      transactions: [{ commitLsn: 3000n, changes: [{ op: 'insert', relation: T, row: ['5', 's', null] }] }],
      lsn: 3000n,
    });
    await db.query(`INSERT INTO public.t VALUES (6, 'app', null)`);
    const { rows } = await db.query<{ applying: string | null }>('SELECT applying FROM public.capture_log');
    expect(rows.map((r) => r.applying === 'on')).toEqual([true, false]);
    await db.exec('DROP TRIGGER capture ON public.t');
  });

  it('skips zero-filling new WAL segments inside its transactions only (PGlite runs as a superuser)', async () => {
    await db.exec(`
      CREATE TABLE public.settings_log (wal_init_zero text);
      CREATE FUNCTION public.log_settings() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO public.settings_log VALUES (current_setting('wal_init_zero')); RETURN NEW; END $$;
      CREATE TRIGGER log_settings AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.log_settings();`);
    await store.apply({
      kind: 'transactions',
      transactions: [{ commitLsn: 3001n, changes: [{ op: 'insert', relation: T, row: ['7', 's', null] }] }],
      lsn: 3001n,
    });
    const { rows } = await db.query<{ wal_init_zero: string }>(
      'SELECT wal_init_zero FROM public.settings_log',
    );
    expect(rows.map((r) => r.wal_init_zero)).toEqual(['off']);
    expect((await db.query<{ v: string }>("SELECT current_setting('wal_init_zero') AS v")).rows[0]!.v).toBe(
      'on',
    );
    await db.exec('DROP TRIGGER log_settings ON public.t');
  });
});
