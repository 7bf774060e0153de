import { describe, expect, it } from 'vitest';
import { type LoggedChange, UNCHANGED_DATUM } from '../change.ts';
import { createScopeConfig, requiresReplicaIdentityFull } from './scope-config.ts';
import { scopeShape } from './scoped-shape.ts';
import { resolveRowFetch, transformChange } from './transform-change.ts';
import { rowVisible, visibleColumns } from './visibility.ts';

const columns = [{ name: 'id' }, { name: 'owner_id' }, { name: 'title' }, { name: 'secret' }];
const tasks = {
  table: 'public.tasks',
  rule: { kind: 'claim', column: 'owner_id', claim: 'sub' },
  serverOnlyColumns: ['secret'],
} as const;
const shared = { table: 'public.projects', rule: { kind: 'shared' } } as const;
const t = scopeShape(
  { shapeId: 1, columns: columns.map((c) => ({ ...c, typeOid: 25, typeModifier: -1, isKey: false })) },
  ['id'],
  tasks,
);
const s = scopeShape(
  { shapeId: 2, columns: columns.map((c) => ({ ...c, typeOid: 25, typeModifier: -1, isKey: false })) },
  ['id'],
  shared,
);
const lookup = (id: number) => (id === 1 ? t : id === 2 ? s : undefined);
const ann = { sub: 'ann' };

describe('scope config and visibility', () => {
  it('validates tables and lists the ones needing REPLICA IDENTITY FULL', () => {
    const config = createScopeConfig([tasks, shared]);
    expect(requiresReplicaIdentityFull(config)).toEqual(['public.tasks']);
    expect(() => createScopeConfig([shared, shared])).toThrow(/twice/);
    expect(() => createScopeConfig([{ table: 'tasks', rule: { kind: 'shared' } }])).toThrow(
      /schema-qualified/,
    );
    expect(() => scopeShape({ shapeId: 1, columns: [] }, ['id'], tasks)).toThrow(/not in shape/);
    expect(() =>
      scopeShape({ shapeId: 1, columns: [{ name: 'id' }] }, ['id'], { ...shared, serverOnlyColumns: ['id'] }),
    ).toThrow(/server-only/);
  });

  it('compares claims as Postgres text; NULL and non-scalar claims never match', () => {
    expect(rowVisible(['1', 'ann', 'x', 's'], columns, tasks.rule, ann)).toBe(true);
    expect(rowVisible(['1', 'bob', 'x', 's'], columns, tasks.rule, ann)).toBe(false);
    expect(rowVisible(['1', null, 'x', 's'], columns, tasks.rule, ann)).toBe(false);
    expect(rowVisible(['1', '42', 'x', 's'], columns, tasks.rule, { sub: 42 })).toBe(true);
    expect(rowVisible(['1', 'true', 'x', 's'], columns, tasks.rule, { sub: true })).toBe(false);
    expect(rowVisible(['1', 'ann', 'x', 's'], columns, tasks.rule, {})).toBe(false);
    expect(rowVisible(['1', UNCHANGED_DATUM, 'x', 's'], columns, tasks.rule, ann)).toBe(false);
    expect(rowVisible(['1', null, 'x', 's'], columns, shared.rule, {})).toBe(true);
    expect(visibleColumns(columns, tasks)).toEqual([0, 1, 2]);
  });
});

describe('transformChange', () => {
  const full = (row: (string | null)[]) => ({ kind: 'full' as const, row });
  const cases: [string, LoggedChange, unknown][] = [
    [
      'visible insert',
      { kind: 'insert', shapeId: 1, row: ['1', 'ann', 'a', 's'] },
      { kind: 'insert', shapeId: 1, row: ['1', 'ann', 'a', 's'] },
    ],
    ['invisible insert', { kind: 'insert', shapeId: 1, row: ['1', 'bob', 'a', 's'] }, undefined],
    ['insert into an unsynced table', { kind: 'insert', shapeId: 9, row: ['1'] }, undefined],
    [
      'update inside the scope, unchanged values filled from the full old row',
      {
        kind: 'update',
        shapeId: 1,
        row: ['1', 'ann', UNCHANGED_DATUM, 's'],
        old: full(['1', 'ann', 'a', 's']),
      },
      { kind: 'update', shapeId: 1, row: ['1', 'ann', 'a', 's'] },
    ],
    [
      'move-out becomes a delete of the old key',
      { kind: 'update', shapeId: 1, row: ['2', 'bob', 'a', 's'], old: full(['1', 'ann', 'a', 's']) },
      { kind: 'delete', shapeId: 1, oldKey: ['1'] },
    ],
    [
      'move-in becomes an insert of the full row, filled from the old row',
      {
        kind: 'update',
        shapeId: 1,
        row: ['1', 'ann', UNCHANGED_DATUM, 's'],
        old: full(['1', 'bob', 'big', 's']),
      },
      { kind: 'insert', shapeId: 1, row: ['1', 'ann', 'big', 's'] },
    ],
    [
      'update outside the scope',
      { kind: 'update', shapeId: 1, row: ['1', 'bob', 'a', 's'], old: full(['1', 'cy', 'a', 's']) },
      undefined,
    ],
    [
      'key change inside the scope carries the old key',
      { kind: 'update', shapeId: 1, row: ['2', 'ann', 'a', 's'], old: full(['1', 'ann', 'a', 's']) },
      { kind: 'update', shapeId: 1, row: ['2', 'ann', 'a', 's'], oldKey: ['1'] },
    ],
    [
      'unknown old, new invisible: delete anyway',
      { kind: 'update', shapeId: 1, row: ['1', 'bob', 'a', 's'] },
      { kind: 'delete', shapeId: 1, oldKey: ['1'] },
    ],
    [
      'unknown old, new visible, complete row: update',
      { kind: 'update', shapeId: 1, row: ['1', 'ann', 'a', 's'] },
      { kind: 'update', shapeId: 1, row: ['1', 'ann', 'a', 's'] },
    ],
    [
      'unknown old, new visible, unchanged TOAST: fetch',
      {
        kind: 'update',
        shapeId: 1,
        row: ['2', 'ann', UNCHANGED_DATUM, 's'],
        old: { kind: 'key', row: ['1', null, null, null] },
      },
      { kind: 'needs-row-fetch', shapeId: 1, key: ['2'], oldKey: ['1'] },
    ],
    [
      'visible delete (full old row)',
      { kind: 'delete', shapeId: 1, old: full(['1', 'ann', 'a', 's']) },
      { kind: 'delete', shapeId: 1, oldKey: ['1'] },
    ],
    [
      'invisible delete (full old row)',
      { kind: 'delete', shapeId: 1, old: full(['1', 'bob', 'a', 's']) },
      undefined,
    ],
    [
      'key-only delete is sent (no-op for a client without the row)',
      { kind: 'delete', shapeId: 1, old: { kind: 'key', row: ['1', null, null, null] } },
      { kind: 'delete', shapeId: 1, oldKey: ['1'] },
    ],
    [
      'truncate keeps only synced tables',
      { kind: 'truncate', shapeIds: [1, 9, 2], cascade: false, restartIdentity: false },
      { kind: 'truncate', shapeIds: [1, 2] },
    ],
    [
      'truncate of unsynced tables only',
      { kind: 'truncate', shapeIds: [9], cascade: false, restartIdentity: false },
      undefined,
    ],
  ];
  it.each(cases)('%s', (_name, change, expected) => {
    expect(transformChange(change, lookup, ann)).toEqual(expected);
  });

  it('resolves a row fetch into an insert, an update under the old key, or deletes', () => {
    const pending = { kind: 'needs-row-fetch', shapeId: 1, key: ['2'], oldKey: ['1'] } as const;
    expect(resolveRowFetch(pending, ['2', 'ann', 'a', 's'], t, ann)).toEqual([
      { kind: 'update', shapeId: 1, row: ['2', 'ann', 'a', 's'], oldKey: ['1'] },
    ]);
    expect(
      resolveRowFetch({ kind: 'needs-row-fetch', shapeId: 1, key: ['2'] }, ['2', 'ann', 'a', 's'], t, ann),
    ).toEqual([{ kind: 'insert', shapeId: 1, row: ['2', 'ann', 'a', 's'] }]);
    expect(resolveRowFetch(pending, undefined, t, ann)).toEqual([
      { kind: 'delete', shapeId: 1, oldKey: ['2'] },
      { kind: 'delete', shapeId: 1, oldKey: ['1'] },
    ]);
  });
});
