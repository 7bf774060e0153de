/**
 * The server side of the session's model-based test: random operations on the fixture tables, applied to an
 * in-memory server that logs them the way pgoutput would, what one user may see, and an oracle for which
 * transactions concern that user (written independently of the scope module). Test-only.
 */

import fc from 'fast-check';
import type { LoggedChange, Tuple } from '../../change.ts';
import type { LogTransaction } from '../session-types.ts';
import { OTHER_SHAPE, PROJECTS_SHAPE, TASKS_SHAPE, task } from './fixtures.ts';

export const USER = 'u1';
export const FLOOR = 50n;

export type Op =
  | { op: 'task'; id: number; owner: number }
  | { op: 'update'; pick: number; owner: number | undefined; title: number }
  | { op: 'delete'; pick: number }
  | { op: 'project'; id: number }
  | { op: 'audit' }
  | { op: 'truncate' };

export const ops = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({ op: fc.constant('task' as const), id: fc.nat(15), owner: fc.nat(2) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('update' as const),
        pick: fc.nat(),
        owner: fc.option(fc.nat(2), { nil: undefined }),
        title: fc.nat(9),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('project' as const), id: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'audit' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'truncate' as const }) },
  ),
  { minLength: 1, maxLength: 3 },
);

const owners = ['u1', 'u2', null];

/** The server: applies ops, producing logged changes the way pgoutput would (tasks: REPLICA IDENTITY FULL). */
export class Server {
  tasks = new Map<string, Tuple>();
  projects = new Map<string, Tuple>();
  apply(op: Op): LoggedChange | undefined {
    const all = [...this.tasks.values()];
    switch (op.op) {
      case 'task': {
        const row = task(op.id, owners[op.owner]!);
        if (this.tasks.has(row[0] as string)) return undefined;
        this.tasks.set(row[0] as string, row);
        return { kind: 'insert', shapeId: TASKS_SHAPE, row };
      }
      case 'update': {
        const old = all[op.pick % Math.max(1, all.length)];
        if (old === undefined) return undefined;
        const row = task(
          Number(old[0]),
          op.owner === undefined ? (old[2] as string | null) : owners[op.owner]!,
          `t${op.title}`,
        );
        this.tasks.set(row[0] as string, row);
        return { kind: 'update', shapeId: TASKS_SHAPE, row, old: { kind: 'full', row: old } };
      }
      case 'delete': {
        const old = all[op.pick % Math.max(1, all.length)];
        if (old === undefined) return undefined;
        this.tasks.delete(old[0] as string);
        return { kind: 'delete', shapeId: TASKS_SHAPE, old: { kind: 'full', row: old } };
      }
      case 'project': {
        const row: Tuple = [String(op.id), `p${op.id}`];
        const old = this.projects.get(row[0] as string);
        this.projects.set(row[0] as string, row);
        return old === undefined
          ? { kind: 'insert', shapeId: PROJECTS_SHAPE, row }
          : { kind: 'update', shapeId: PROJECTS_SHAPE, row };
      }
      case 'audit':
        return { kind: 'insert', shapeId: OTHER_SHAPE, row: ['1', 'x'] };
      case 'truncate':
        this.tasks.clear();
        return {
          kind: 'truncate',
          shapeIds: [TASKS_SHAPE, OTHER_SHAPE],
          cascade: false,
          restartIdentity: false,
        };
    }
  }
  /** What the user may see, in the client model's form. */
  visible(): Record<string, [string, (string | null)[]][]> {
    const out: Record<string, [string, (string | null)[]][]> = {};
    const p = [...this.projects.values()].map(
      (r) => [JSON.stringify([r[0]]), [...r]] as [string, (string | null)[]],
    );
    const t = [...this.tasks.values()]
      .filter((r) => r[2] === USER)
      .map((r) => [JSON.stringify([r[0]]), r.slice(0, 4)] as [string, (string | null)[]]);
    if (p.length > 0) out.projects = p.sort(([a], [b]) => a.localeCompare(b));
    if (t.length > 0) out.tasks = t.sort(([a], [b]) => a.localeCompare(b));
    return out;
  }
}

/** Whether a transaction concerns USER (an independent oracle, not the scope module). */
export function concerns(tx: LogTransaction): boolean {
  return tx.changes.some((c) => {
    if (c.kind === 'truncate') return true;
    if (c.shapeId === PROJECTS_SHAPE) return true;
    if (c.shapeId !== TASKS_SHAPE) return false;
    if (c.kind === 'insert') return c.row[2] === USER;
    if (c.kind === 'delete') return c.old.row[2] === USER;
    return c.row[2] === USER || c.old?.row[2] === USER;
  });
}
