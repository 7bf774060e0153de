import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderByForeignKeys, type TableName, type TableReference } from './fk-order.ts';

const t = (name: string): TableName => ({ schema: 'public', name });
const ref = (from: string, to: string, constraint = `${from}_${to}_fkey`): TableReference => ({
  from: t(from),
  to: t(to),
  constraint,
});
const names = (tables: readonly TableName[]): string[] => tables.map((x) => x.name);

describe('orderByForeignKeys', () => {
  it('puts parents before children along a chain, whatever the input order', () => {
    const refs = [ref('comments', 'tasks'), ref('tasks', 'projects'), ref('projects', 'users')];
    const tables = ['comments', 'users', 'tasks', 'projects'].map(t);
    expect(names(orderByForeignKeys(tables, refs).order)).toEqual(['users', 'projects', 'tasks', 'comments']);
    expect(orderByForeignKeys(tables, refs).broken).toEqual([]);
  });

  it('ignores self-references and references to tables outside the set', () => {
    const result = orderByForeignKeys([t('b'), t('a')], [ref('a', 'a'), ref('b', 'zzz'), ref('b', 'a')]);
    expect(names(result.order)).toEqual(['a', 'b']);
    expect(result.broken).toEqual([]);
  });

  it('breaks a cycle deterministically and reports the broken reference', () => {
    // c → a → b → a: the cycle {a, b} is broken at its first table by name.
    const refs = [ref('a', 'b'), ref('b', 'a'), ref('c', 'a')];
    const result = orderByForeignKeys([t('c'), t('b'), t('a')], refs);
    expect(names(result.order)).toEqual(['a', 'b', 'c']);
    expect(result.broken).toEqual([ref('a', 'b')]);
  });

  it('respects every unbroken reference and returns each table once (property)', () => {
    const arb = fc
      .integer({ min: 1, max: 8 })
      .chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 20 }),
          fc.array(fc.nat(1000), { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(arb, ([n, edges, shuffle]) => {
        const tables = Array.from({ length: n }, (_, i) => t(`t${i}`));
        const refs = edges.map(([a, b]) => ref(`t${a}`, `t${b}`));
        const result = orderByForeignKeys(tables, refs);
        const shuffled = tables
          .map((x, i) => [shuffle[i]!, x] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, x]) => x);
        expect(orderByForeignKeys(shuffled, [...refs].reverse())).toEqual(result);
        expect(names(result.order).sort()).toEqual(names(tables).sort());
        const position = new Map(result.order.map((x, i) => [x.name, i]));
        const broken = new Set(result.broken.map((r) => `${r.from.name}>${r.to.name}`));
        for (const r of refs) {
          if (r.from.name === r.to.name || broken.has(`${r.from.name}>${r.to.name}`)) continue;
          expect(position.get(r.to.name)!).toBeLessThan(position.get(r.from.name)!);
        }
        if (result.broken.length === 0) return;
        // Only references inside a cycle are broken: the referenced table reaches back to the referencing one.
        for (const b of result.broken) {
          const reach = new Set([b.to.name]);
          for (let changed = true; changed; ) {
            changed = false;
            for (const r of refs) {
              if (reach.has(r.from.name) && !reach.has(r.to.name)) {
                reach.add(r.to.name);
                changed = true;
              }
            }
          }
          expect(reach.has(b.from.name)).toBe(true);
        }
      }),
    );
  });
});
