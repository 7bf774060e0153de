import { create, equals } from '@bufbuild/protobuf';
import { ValueEncoding } from '@vibestack/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowStateSchema, type State, StateSchema, TableStateSchema } from '../proto.ts';
import { canonicalState, cellOf, compareUtf8, type TableLayout } from './canonical-state.ts';
import { diffStates, formatDifference } from './state-diff.ts';

const items: TableLayout = {
  schema: 'public',
  name: 'items',
  columns: [
    { name: 'id', encoding: ValueEncoding.INT },
    { name: 'label', encoding: ValueEncoding.TEXT },
  ],
  primaryKey: ['id'],
};
const pairs: TableLayout = {
  schema: 'app',
  name: 'pairs',
  columns: [
    { name: 'a', encoding: ValueEncoding.TEXT },
    { name: 'b', encoding: ValueEncoding.INT },
  ],
  primaryKey: ['a', 'b'],
};

const table = (layout: TableLayout, columns: string[], rows: (string | null)[][]) =>
  create(TableStateSchema, {
    schema: layout.schema,
    name: layout.name,
    columns,
    rows: rows.map((r) => create(RowStateSchema, { cells: r.map(cellOf) })),
  });
const state = (...tables: ReturnType<typeof table>[]) => create(StateSchema, { tables });

describe('canonicalState', () => {
  it('orders tables by schema and name, columns as the layout, INT keys numerically, others by code point', () => {
    const dumped = state(
      table(
        items,
        ['label', 'id'],
        [
          ['ten', '10'],
          [null, '-2'],
          ['nine', '9'],
        ],
      ),
      table(
        pairs,
        ['b', 'a'],
        [
          ['2', 'b'],
          ['10', 'a'],
          ['1', '😀'],
          ['1', '\uffff'],
          ['3', 'a'],
        ],
      ),
    );
    const canonical = canonicalState(dumped, [items, pairs]);
    expect(canonical.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['app.pairs', 'public.items']);
    const text = (s: State) =>
      s.tables.map((t) => [
        t.columns,
        ...t.rows.map((r) => r.cells.map((c) => (c.kind.case === 'text' ? c.kind.value : null))),
      ]);
    expect(text(canonical)).toEqual([
      [
        ['a', 'b'],
        ['a', '3'],
        ['a', '10'],
        ['b', '2'],
        ['\uffff', '1'], // U+FFFF sorts before U+1F600 in UTF-8 (not in UTF-16 code units)
        ['😀', '1'],
      ],
      [
        ['id', 'label'],
        ['-2', null],
        ['9', 'nine'],
        ['10', 'ten'],
      ],
    ]);
  });

  it('compareUtf8 is the order of the UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const bytes = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
        expect(Math.sign(compareUtf8(a, b))).toBe(bytes);
      }),
    );
  });

  it('is idempotent and ignores the order of tables, columns and rows', () => {
    const row = fc.tuple(fc.integer({ min: -50, max: 50 }), fc.option(fc.string(), { nil: null }));
    fc.assert(
      fc.property(
        fc.uniqueArray(row, { selector: ([id]) => id, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (rows, swapColumns, reverseRows) => {
          const ordered = rows.map(([id, label]) => [String(id), label]);
          const base = state(table(items, ['id', 'label'], ordered));
          const shuffled = (reverseRows ? [...ordered].reverse() : ordered).map((r) =>
            swapColumns ? [r[1]!, r[0]!] : r,
          );
          const other = state(table(items, swapColumns ? ['label', 'id'] : ['id', 'label'], shuffled));
          const a = canonicalState(base, [items]);
          expect(equals(StateSchema, a, canonicalState(other, [items]))).toBe(true);
          expect(equals(StateSchema, a, canonicalState(a, [items]))).toBe(true);
          expect(diffStates(base, other, [items])).toEqual([]);
        },
      ),
    );
  });
});

describe('diffStates', () => {
  it('reports missing and unexpected tables, columns and rows, and differing values, in key order', () => {
    const expected = state(
      table(
        items,
        ['id', 'label'],
        [
          ['1', 'a'],
          ['2', null],
          ['3', ''],
          ['4', 'x'],
        ],
      ),
      table(pairs, ['a', 'b'], []),
    );
    const actual = state(
      table(
        items,
        ['label', 'id', 'extra'],
        [
          ['x', '4', null],
          ['', '2', null],
          [null, '3', null],
          ['a', '5', null],
        ],
      ),
    );
    expect(diffStates(expected, actual, [items, pairs]).map(formatDifference)).toEqual([
      'app.pairs: missing table',
      'public.items, column "extra": unexpected column',
      'public.items ("1"): missing row',
      'public.items ("2"), column "label": value differs: expected NULL, got ""',
      'public.items ("3"), column "label": value differs: expected "", got NULL',
      'public.items ("5"): unexpected row',
    ]);
    expect(diffStates(expected, actual, [items, pairs], { limit: 2 })).toHaveLength(2);
  });
});
