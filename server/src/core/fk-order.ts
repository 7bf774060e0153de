/**
 * Orders tables so that every table comes after the tables it references (parents first), which is the order an
 * initial sync sends them in. Pure: no IO.
 *
 * Foreign-key cycles (a → b → a) cannot be ordered; they are broken deterministically: inside each cycle
 * (strongly connected component) the table with the fewest not-yet-placed parents goes first (ties: by schema,
 * then name), and the references it then precedes are reported as broken. A table referencing itself is not a
 * cycle between tables and is ignored (its rows come in primary-key order).
 */

/** A schema-qualified table (structurally the same as the db layer's `TableName`). */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** A foreign key between two tables of the set (referencing → referenced). */
export interface TableReference {
  readonly from: TableName;
  readonly to: TableName;
  /** The constraint name, for messages. */
  readonly constraint: string;
}

/** The result of {@link orderByForeignKeys}. */
export interface ForeignKeyOrder<T extends TableName> {
  /** Every input table once, parents first. */
  readonly order: readonly T[];
  /** References whose table is placed before the table it references, to break a cycle. Empty without cycles. */
  readonly broken: readonly TableReference[];
}

const key = (t: TableName): string => `${t.schema}\u0000${t.name}`;
const nameOf = (t: TableName): TableName => ({ schema: t.schema, name: t.name });
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Tarjan's strongly connected components over `parents` edges; each component's members sorted by key. */
function components(keys: readonly string[], parents: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of [...(parents.get(v) ?? [])].sort(compareKeys)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      out.push(component.sort(compareKeys));
    }
  };
  for (const v of keys) if (!index.has(v)) visit(v);
  return out;
}

/**
 * Orders `tables` parents-first by `references` (references to tables outside the set are ignored).
 * Deterministic: the same input in any order gives the same output.
 */
export function orderByForeignKeys<T extends TableName>(
  tables: readonly T[],
  references: readonly TableReference[],
): ForeignKeyOrder<T> {
  const byKey = new Map(tables.map((t) => [key(t), t] as const));
  const keys = [...byKey.keys()].sort(compareKeys);
  const parents = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  const constraints = new Map<string, string[]>();
  for (const ref of references) {
    const from = key(ref.from);
    const to = key(ref.to);
    if (from === to || !byKey.has(from) || !byKey.has(to)) continue;
    parents.get(from)!.add(to);
    const edge = `${from}\u0001${to}`;
    constraints.set(edge, [...(constraints.get(edge) ?? []), ref.constraint].sort(compareKeys));
  }

  // Tarjan emits a component only after every component it reaches through `parents`: parents first. Visiting
  // in sorted key order (and parents sorted) makes the order between independent tables deterministic.
  const placed = new Set<string>();
  const order: T[] = [];
  const broken: TableReference[] = [];
  for (const component of components(keys, parents)) {
    const members = new Set(component);
    const pending = (k: string): string[] =>
      [...parents.get(k)!].filter((p) => members.has(p) && !placed.has(p)).sort(compareKeys);
    const remaining = [...component];
    while (remaining.length > 0) {
      let pick = remaining.find((k) => pending(k).length === 0);
      if (pick === undefined) {
        // A cycle: take the member with the fewest unplaced parents (ties: first by key) and break its edges.
        pick = remaining.reduce((best, k) => (pending(k).length < pending(best).length ? k : best));
        for (const parent of pending(pick)) {
          for (const constraint of constraints.get(`${pick}\u0001${parent}`) ?? []) {
            broken.push({ from: nameOf(byKey.get(pick)!), to: nameOf(byKey.get(parent)!), constraint });
          }
        }
      }
      placed.add(pick);
      order.push(byKey.get(pick)!);
      remaining.splice(remaining.indexOf(pick), 1);
    }
  }
  return { order, broken };
}
