import { describe, expect, it } from 'vitest';
import { createScopeConfig } from '../scope/index.ts';
import { buildRelation, orderByForeignKeys, type RelationDescriptor } from './relation-descriptor.ts';
import { AUDIT, PROJECTS, SCOPE, TASKS } from './testing/fixtures.ts';

describe('relation descriptors', () => {
  it('orders parents before children, by name otherwise, and survives cycles', () => {
    const names = (ds: RelationDescriptor[]) => ds.map((d) => d.name);
    expect(names(orderByForeignKeys([TASKS, AUDIT, PROJECTS]))).toEqual(['audit', 'projects', 'tasks']);
    const a: RelationDescriptor = {
      ...AUDIT,
      name: 'a',
      foreignKeys: [
        { columns: ['id'], referencedSchema: 'public', referencedTable: 'b', referencedColumns: ['id'] },
      ],
    };
    const b: RelationDescriptor = {
      ...AUDIT,
      name: 'b',
      foreignKeys: [
        { columns: ['id'], referencedSchema: 'public', referencedTable: 'a', referencedColumns: ['id'] },
      ],
    };
    expect(names(orderByForeignKeys([b, a]))).toHaveLength(2);
  });

  it('describes only visible columns, the key as indices into them, and foreign keys between synced tables', () => {
    const relation = buildRelation(7, TASKS, [0, 1, 2, 3], SCOPE);
    expect(relation.relationId).toBe(7);
    expect(relation.columns.map((c) => c.name)).toEqual(['id', 'project_id', 'owner_id', 'title']);
    expect(relation.primaryKey).toEqual([0]);
    expect(relation.foreignKeys).toMatchObject([
      { columns: [1], referencedTable: 'projects', referencedColumns: ['id'] },
    ]);
    const unsyncedParent = createScopeConfig([{ table: 'public.tasks', rule: { kind: 'shared' } }]);
    expect(buildRelation(1, TASKS, [0, 1, 2, 3], unsyncedParent).foreignKeys).toEqual([]);
    expect(buildRelation(1, TASKS, [0, 2, 3], SCOPE).foreignKeys).toEqual([]);
    expect(() => buildRelation(1, TASKS, [1, 2], SCOPE)).toThrow(/key column id is not visible/);
  });
});
