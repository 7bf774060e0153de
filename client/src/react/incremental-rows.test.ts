/**
 * Rows from change sets in the shape of `db.live.changes`: inserts, partial updates, deletes, resets, order
 * moves, and a delete and an insert after the same predecessor in one set (which PGlite 0.5.14's own
 * `incrementalQuery` gets wrong), in either order within the set.
 */

import type { Change } from '@electric-sql/pglite/live';
import { describe, expect, it } from 'vitest';
import { createIncrementalRows } from './incremental-rows.ts';

type Todo = { id: number; title: string | null; done: boolean | null };

const ins = (id: number, title: string, after: number | null): Change<Todo> =>
  ({ __op__: 'INSERT', __changed_columns__: [], __after__: after, id, title, done: false }) as never;
const del = (id: number): Change<Todo> =>
  ({ __op__: 'DELETE', __changed_columns__: [], __after__: undefined, id, title: null, done: null }) as never;
const upd = (id: number, changed: Partial<Todo> & { __after__?: number | null }): Change<Todo> =>
  ({
    __op__: 'UPDATE',
    __changed_columns__: Object.keys(changed),
    id,
    title: null,
    done: null,
    ...changed,
  }) as never;

const titles = (rows: readonly Todo[]) => rows.map((r) => r.title);

describe('createIncrementalRows', () => {
  it('builds the initial rows and follows inserts, partial updates and deletes', () => {
    const rows = createIncrementalRows<Todo>('id');
    rows.apply([ins(2, 'eggs', 1), ins(1, 'milk', null), ins(3, 'tax', 2)]);
    expect(rows.rows()).toEqual([
      { id: 1, title: 'milk', done: false },
      { id: 2, title: 'eggs', done: false },
      { id: 3, title: 'tax', done: false },
    ]);
    rows.apply([upd(2, { done: true })]);
    expect(rows.rows()[1]).toEqual({ id: 2, title: 'eggs', done: true });
    rows.apply([del(1), upd(2, { __after__: null })]);
    expect(titles(rows.rows())).toEqual(['eggs', 'tax']);
  });

  it.each([
    ['delete first', [del(3), ins(8, 'apples', 2)]],
    ['insert first', [ins(8, 'apples', 2), del(3)]],
  ])('keeps a row inserted where another was deleted in the same set (%s)', (_, set) => {
    const rows = createIncrementalRows<Todo>('id');
    rows.apply([ins(1, 'milk', null), ins(2, 'eggs', 1), ins(3, 'tax', 2)]);
    rows.apply(set);
    expect(titles(rows.rows())).toEqual(['milk', 'eggs', 'apples']);
  });

  it('moves rows when their predecessor changes', () => {
    const rows = createIncrementalRows<Todo>('id');
    rows.apply([ins(1, 'a', null), ins(2, 'b', 1), ins(3, 'c', 2)]);
    // ORDER BY title after 'a' became 'z': b, c, z.
    rows.apply([upd(1, { title: 'z', __after__: 3 }), upd(2, { __after__: null })]);
    expect(titles(rows.rows())).toEqual(['b', 'c', 'z']);
  });

  it('starts over on RESET', () => {
    const rows = createIncrementalRows<Todo>('id');
    rows.apply([ins(1, 'a', null), ins(2, 'b', 1)]);
    rows.apply([{ __op__: 'RESET' } as never, ins(5, 'e', null)]);
    expect(titles(rows.rows())).toEqual(['e']);
  });

  it('keeps the objects of rows no change touched', () => {
    const rows = createIncrementalRows<Todo>('id');
    rows.apply([ins(1, 'a', null), ins(2, 'b', 1), ins(3, 'c', 2)]);
    const [a, b, c] = rows.rows();
    const before = rows.rows();
    rows.apply([upd(2, { title: 'B' })]);
    const after = rows.rows();
    expect(after).not.toBe(before);
    expect(after[0]).toBe(a);
    expect(after[1]).not.toBe(b);
    expect(after[2]).toBe(c);
  });

  it('matches keys by value for dates', () => {
    type Ev = { at: Date; name: string };
    const rows = createIncrementalRows<Ev>('at');
    const d = (ms: number) => new Date(ms);
    const ev = (ms: number, name: string, after: number | null): Change<Ev> =>
      ({
        __op__: 'INSERT',
        __changed_columns__: [],
        __after__: after === null ? null : d(after),
        at: d(ms),
        name,
      }) as never;
    rows.apply([ev(1, 'one', null), ev(2, 'two', 1)]);
    rows.apply([
      { __op__: 'DELETE', __changed_columns__: [], __after__: undefined, at: d(1), name: null } as never,
    ]);
    rows.apply([
      {
        __op__: 'UPDATE',
        __changed_columns__: ['__after__'],
        __after__: null,
        at: d(2),
        name: null,
      } as never,
    ]);
    expect(rows.rows().map((r) => r.name)).toEqual(['two']);
  });
});
