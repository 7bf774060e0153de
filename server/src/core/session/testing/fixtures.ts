/**
 * Test fixtures for the session: a two-table catalog (`public.projects` shared, `public.tasks` scoped by
 * `owner_id = sub` with a server-only column), its change-log shapes, and helpers to build log transactions.
 * Test-only: not exported from the package.
 */

import { type Lsn, PgOid, ValueEncoding } from '@vibestack/proto';
import type { LoggedChange, TableShape, Tuple } from '../../change.ts';
import { createScopeConfig } from '../../scope/index.ts';
import type { ColumnDescriptor, RelationDescriptor } from '../relation-descriptor.ts';
import type { LogTransaction } from '../session-types.ts';

export const PROJECTS_OID = 16_400;
export const TASKS_OID = 16_410;
export const PROJECTS_SHAPE = 1;
export const TASKS_SHAPE = 2;
export const OTHER_SHAPE = 3;

function column(name: string, type: 'int8' | 'text', nullable = true): ColumnDescriptor {
  const int = type === 'int8';
  return {
    name,
    typeName: int ? 'bigint' : 'text',
    typeOid: int ? PgOid.int8 : PgOid.text,
    typeModifier: -1,
    encoding: int ? ValueEncoding.INT : ValueEncoding.TEXT,
    elementEncoding: ValueEncoding.UNSPECIFIED,
    nullable,
    enumLabels: [],
    baseTypeOid: int ? PgOid.int8 : PgOid.text,
    elementTypeOid: 0,
    baseTypeName: int ? 'bigint' : 'text',
  };
}

export const PROJECTS: RelationDescriptor = {
  relationOid: PROJECTS_OID,
  schema: 'public',
  name: 'projects',
  columns: [column('id', 'int8', false), column('name', 'text')],
  primaryKey: ['id'],
  foreignKeys: [],
};

export const TASKS: RelationDescriptor = {
  relationOid: TASKS_OID,
  schema: 'public',
  name: 'tasks',
  columns: [
    column('id', 'int8', false),
    column('project_id', 'int8'),
    column('owner_id', 'text'),
    column('title', 'text'),
    column('secret', 'text'),
  ],
  primaryKey: ['id'],
  foreignKeys: [
    {
      columns: ['project_id'],
      referencedSchema: 'public',
      referencedTable: 'projects',
      referencedColumns: ['id'],
    },
  ],
};

/** A table the scope does not sync. */
export const AUDIT: RelationDescriptor = {
  relationOid: 16_420,
  schema: 'public',
  name: 'audit',
  columns: [column('id', 'int8', false), column('what', 'text')],
  primaryKey: ['id'],
  foreignKeys: [],
};

export const CATALOG: readonly RelationDescriptor[] = [TASKS, PROJECTS, AUDIT];

export const SCOPE = createScopeConfig([
  { table: 'public.projects', rule: { kind: 'shared' } },
  {
    table: 'public.tasks',
    rule: { kind: 'claim', column: 'owner_id', claim: 'sub' },
    serverOnlyColumns: ['secret'],
  },
]);

function shapeOf(
  shapeId: number,
  d: RelationDescriptor,
  replicaIdentity: TableShape['replicaIdentity'],
): TableShape {
  return {
    shapeId,
    relationOid: d.relationOid,
    schema: d.schema,
    name: d.name,
    replicaIdentity,
    columns: d.columns.map((c) => ({
      name: c.name,
      typeOid: c.typeOid,
      typeModifier: c.typeModifier,
      isKey: c.name === 'id',
    })),
  };
}

export const SHAPES: readonly TableShape[] = [
  shapeOf(PROJECTS_SHAPE, PROJECTS, 'd'),
  shapeOf(TASKS_SHAPE, TASKS, 'f'),
  shapeOf(OTHER_SHAPE, AUDIT, 'd'),
];

/** A task row: [id, project_id, owner_id, title, secret]. */
export function task(id: number, owner: string | null, title = `t${id}`, project: number | null = 1): Tuple {
  return [String(id), project === null ? null : String(project), owner, title, 'hush'];
}

/** A project row: [id, name]. */
export function project(id: number, name = `p${id}`): Tuple {
  return [String(id), name];
}

/** A log transaction with the given commit LSN (xid = LSN mod 2^32 unless given). */
export function txn(
  commitLsn: Lsn,
  changes: readonly LoggedChange[],
  xid = Number(commitLsn % 4_000_000_000n),
): LogTransaction {
  return {
    header: { commitLsn, endLsn: commitLsn + 1n, xid, commitTimeUs: 1_704_359_700_000_000n + commitLsn },
    changes,
  };
}

export const insertTask = (row: Tuple): LoggedChange => ({ kind: 'insert', shapeId: TASKS_SHAPE, row });
export const updateTask = (old: Tuple, row: Tuple): LoggedChange => ({
  kind: 'update',
  shapeId: TASKS_SHAPE,
  row,
  old: { kind: 'full', row: old },
});
export const deleteTask = (old: Tuple): LoggedChange => ({
  kind: 'delete',
  shapeId: TASKS_SHAPE,
  old: { kind: 'full', row: old },
});
export const insertProject = (row: Tuple): LoggedChange => ({ kind: 'insert', shapeId: PROJECTS_SHAPE, row });
