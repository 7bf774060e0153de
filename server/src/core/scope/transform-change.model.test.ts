/**
 * Model-based test of the scope transform: random inserts, updates (owner moves, key changes, unchanged TOAST
 * values) and deletes over a small table, logged the way pgoutput logs them under REPLICA IDENTITY FULL or
 * DEFAULT, transformed for one user and applied to a client map with the rules of docs/protocol.md §8.4. After
 * every change the client must hold exactly the server rows the user may see, with their visible columns.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Datum, type LoggedChange, type Tuple, UNCHANGED_DATUM } from '../change.ts';
import type { TableScope } from './scope-config.ts';
import { scopeShape } from './scoped-shape.ts';
import { type ClientChange, resolveRowFetch, transformChange } from './transform-change.ts';
import { rowVisible, visibleColumns } from './visibility.ts';

type Row = readonly [id: string, owner: string | null, v: string, big: string, secret: string];
const COLUMNS = ['id', 'owner_id', 'v', 'big', 'secret'].map((name) => ({
  name,
  typeOid: 25,
  typeModifier: -1,
  isKey: false,
}));
const USERS = ['u1', 'u2', 'u3'];

type Op =
  | { op: 'insert'; id: number; owner: number; v: number }
  | {
      op: 'update';
      pick: number;
      owner: number | undefined;
      newId: number | undefined;
      v: number;
      big: boolean;
      toast: boolean;
    }
  | { op: 'delete'; pick: number }
  | { op: 'truncate' };

const ownerArb = fc.integer({ min: -1, max: USERS.length - 1 }); // -1 = NULL
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      id: fc.nat(12),
      owner: ownerArb,
      v: fc.nat(5),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      pick: fc.nat(),
      owner: fc.option(ownerArb, { nil: undefined }),
      newId: fc.option(fc.nat(12), { nil: undefined, freq: 4 }),
      v: fc.nat(5),
      big: fc.boolean(),
      toast: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'truncate' as const }) },
);

const owner = (i: number) => (i < 0 ? null : USERS[i]!);

/** §8.4 on a client map of visible rows (keyed by id, values in visible-column order). */
function apply(client: Map<string, Datum[]>, change: ClientChange, visible: readonly number[]): void {
  const project = (row: Tuple) => visible.map((i) => row[i] ?? null);
  switch (change.kind) {
    case 'insert':
      client.set(String(change.row[0]), project(change.row));
      return;
    case 'update': {
      const row = project(change.row);
      let base: Datum[] | undefined;
      if (change.oldKey !== undefined && client.has(String(change.oldKey[0]))) {
        base = client.get(String(change.oldKey[0]));
        client.delete(String(change.oldKey[0]));
      } else base = client.get(String(change.row[0]));
      if (base === undefined) {
        if (!row.includes(UNCHANGED_DATUM)) client.set(String(change.row[0]), row);
        return;
      }
      client.set(
        String(change.row[0]),
        row.map((d, i) => (d === UNCHANGED_DATUM ? base[i]! : d)),
      );
      return;
    }
    case 'delete':
      client.delete(String(change.oldKey[0]));
      return;
    case 'truncate':
      client.clear();
      return;
    case 'needs-row-fetch':
      throw new Error('resolved before applying');
  }
}

function run(
  ops: readonly Op[],
  identity: 'f' | 'd',
  table: TableScope,
  primaryKey: string[],
  user: string,
): void {
  const shape = scopeShape({ shapeId: 1, columns: COLUMNS }, primaryKey, table);
  const lookup = (id: number) => (id === 1 ? shape : undefined);
  const claims = { sub: user };
  const visible = visibleColumns(COLUMNS, table);
  // pgoutput's old key ('K'): the key columns, NULL elsewhere.
  const keyTuple = (r: Row): Tuple => r.map((d, i) => (shape.keyIndices.includes(i) ? d : null));
  const server = new Map<string, Row>();
  const client = new Map<string, Datum[]>();
  const rows = () => [...server.values()];
  for (const op of ops) {
    let logged: LoggedChange | undefined;
    if (op.op === 'insert') {
      const id = `k${op.id}`;
      if (server.has(id)) continue;
      const row: Row = [id, owner(op.owner), `v${op.v}`, `big${op.v}`, 'secret'];
      server.set(id, row);
      logged = { kind: 'insert', shapeId: 1, row };
    } else if (op.op === 'update' || op.op === 'delete') {
      const all = rows();
      if (all.length === 0) continue;
      const old = all[op.pick % all.length]!;
      if (op.op === 'delete') {
        server.delete(old[0]);
        logged = {
          kind: 'delete',
          shapeId: 1,
          old: identity === 'f' ? { kind: 'full', row: old } : { kind: 'key', row: keyTuple(old) },
        };
      } else {
        const id = op.newId === undefined ? old[0] : `k${op.newId}`;
        if (id !== old[0] && server.has(id)) continue;
        const next: Row = [
          id,
          op.owner === undefined ? old[1] : owner(op.owner),
          `v${op.v}`,
          op.big ? `big${op.v}!` : old[3],
          old[4],
        ];
        server.delete(old[0]);
        server.set(id, next);
        // pgoutput: an unchanged TOASTed value is not resent ('u').
        const logRow: Datum[] = [...next];
        if (!op.big && op.toast) logRow[3] = UNCHANGED_DATUM;
        const keyChanged = shape.keyIndices.some((i) => next[i] !== old[i]);
        const oldImage =
          identity === 'f'
            ? { kind: 'full' as const, row: old }
            : keyChanged
              ? { kind: 'key' as const, row: keyTuple(old) }
              : undefined;
        logged = {
          kind: 'update',
          shapeId: 1,
          row: logRow,
          ...(oldImage === undefined ? {} : { old: oldImage }),
        };
      }
    } else {
      server.clear();
      logged = { kind: 'truncate', shapeIds: [1], cascade: false, restartIdentity: false };
    }
    const out = transformChange(logged, lookup, claims);
    if (out !== undefined) {
      // The shell would fetch the row from Postgres; here the fetch sees the state right after the change.
      const resolved =
        out.kind === 'needs-row-fetch'
          ? resolveRowFetch(out, server.get(String(out.key[0])), shape, claims)
          : [out];
      for (const c of resolved) apply(client, c, visible);
    }
    const expected = new Map(
      rows()
        .filter((r) => rowVisible(r, COLUMNS, table.rule, claims))
        .map((r) => [r[0], visible.map((i) => r[i]!)] as const),
    );
    expect(new Map([...client].sort())).toEqual(new Map([...expected].sort()));
  }
}

describe('transformChange (model-based)', () => {
  const scoped: TableScope = {
    table: 'public.items',
    rule: { kind: 'claim', column: 'owner_id', claim: 'sub' },
    serverOnlyColumns: ['secret'],
  };
  const shared: TableScope = {
    table: 'public.items',
    rule: { kind: 'shared' },
    serverOnlyColumns: ['secret'],
  };
  const args = [fc.array(opArb, { maxLength: 60 }), fc.constantFrom(...USERS)] as const;

  it('a claim-scoped table under REPLICA IDENTITY FULL converges exactly', () => {
    fc.assert(
      fc.property(...args, (ops, user) => run(ops, 'f', scoped, ['id'], user)),
      { numRuns: 300 },
    );
  });

  it('a claim-scoped table under REPLICA IDENTITY DEFAULT converges too (with the documented leaks)', () => {
    fc.assert(
      fc.property(...args, (ops, user) => run(ops, 'd', scoped, ['id'], user)),
      { numRuns: 300 },
    );
  });

  it('a table whose scope column is part of the key works under DEFAULT', () => {
    fc.assert(
      fc.property(...args, (ops, user) => run(ops, 'd', scoped, ['id', 'owner_id'], user)),
      { numRuns: 200 },
    );
  });

  it('a shared table sends everything', () => {
    fc.assert(
      fc.property(...args, (ops, user) => run(ops, 'd', shared, ['id'], user)),
      { numRuns: 100 },
    );
  });
});
