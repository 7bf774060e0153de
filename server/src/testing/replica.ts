/**
 * A test replica: applies the frames a protocol client recorded exactly as docs/protocol.md §5, §6 and §8 tell
 * a client to (snapshot rows, then transactions atomically after their last frame, as upserts / deletes), keyed
 * by table and primary key, with every value in Postgres text form. Tests compare it with the database
 * ({@link diffWithDatabase}) and check the commit LSNs it saw ({@link Replica.commits}).
 */
import {
  type Change,
  decodeValueText,
  type Lsn,
  type Relation,
  type Row,
  type ServerMessage,
  UNCHANGED,
  valueTypeOfColumn,
} from '@vibestack/proto';
import type pg from 'pg';

/** A row: Postgres text per visible column (wire order), `null` for NULL. */
export type ReplicaRow = (string | null)[];

/** One synced table as the replica holds it. */
export interface ReplicaTable {
  /** The newest descriptor seen. */
  relation: Relation;
  /** Rows by `JSON.stringify` of their primary key values (text). */
  readonly rows: Map<string, ReplicaRow>;
}

/** A transaction the replica applied. */
export interface AppliedTransaction {
  readonly commitLsn: Lsn;
  /** Which `applyConnection` call (0, 1, …) delivered it. */
  readonly connection: number;
}

/** See the file comment. */
export interface Replica {
  /** Tables by `schema.name`. */
  readonly tables: Map<string, ReplicaTable>;
  /** Every complete transaction applied, in the order received. */
  readonly commits: AppliedTransaction[];
  /** The applied LSN: the last complete transaction, `SnapshotEnd` or `Progress` applied. */
  appliedLsn(): Lsn;
  /**
   * Applies the frames one connection delivered, in order. Relation ids are per connection (§5 rule 2), so
   * each call starts with no relation known. A transaction whose last frame never came (the connection died)
   * is dropped, as a client rolls it back.
   */
  applyConnection(frames: readonly ServerMessage[]): void;
}

const qualified = (r: { schema: string; name: string }) => `${r.schema}.${r.name}`;

/** Creates an empty replica. */
export function createReplica(): Replica {
  const tables = new Map<string, ReplicaTable>();
  const commits: AppliedTransaction[] = [];
  let applied: Lsn = 0n;
  let connections = 0;

  const decode = (rel: Relation, row: Row, key = false): (string | null | typeof UNCHANGED)[] =>
    row.values.map((v, i) => {
      const column = rel.columns[key ? rel.primaryKey[i]! : i]!;
      return decodeValueText(valueTypeOfColumn(column), v);
    });
  const keyOf = (rel: Relation, values: readonly unknown[]) =>
    JSON.stringify(rel.primaryKey.map((i) => values[i]));

  const applyChange = (relations: Map<number, Relation>, c: Change): void => {
    const table = (id: number) => {
      const rel = relations.get(id);
      if (!rel) throw new Error(`change for undescribed relation ${id}`);
      return { rel, rows: tables.get(qualified(rel))!.rows };
    };
    switch (c.kind.case) {
      case 'insert': {
        const { rel, rows } = table(c.kind.value.relationId);
        const row = decode(rel, c.kind.value.newRow!) as ReplicaRow;
        rows.set(keyOf(rel, row), row);
        return;
      }
      case 'update': {
        const { rel, rows } = table(c.kind.value.relationId);
        const next = decode(rel, c.kind.value.newRow!);
        let prev: ReplicaRow | undefined;
        if (c.kind.value.oldKey) {
          const oldKey = JSON.stringify(decode(rel, c.kind.value.oldKey, true));
          prev = rows.get(oldKey);
          rows.delete(oldKey);
        }
        const key = keyOf(rel, next);
        prev ??= rows.get(key);
        if (prev === undefined && next.includes(UNCHANGED)) return; // §8.4: skip
        rows.set(
          key,
          next.map((v, i) => (v === UNCHANGED ? (prev?.[i] ?? null) : v)),
        );
        return;
      }
      case 'delete': {
        const { rel, rows } = table(c.kind.value.relationId);
        rows.delete(JSON.stringify(decode(rel, c.kind.value.oldKey!, true)));
        return;
      }
      case 'truncate':
        for (const id of c.kind.value.relationIds) table(id).rows.clear();
        return;
      default:
        throw new Error('a Change with no case');
    }
  };

  return {
    tables,
    commits,
    appliedLsn: () => applied,
    applyConnection(frames) {
      const connection = connections++;
      const relations = new Map<number, Relation>();
      let pending: { commitLsn: Lsn; next: number; changes: Change[] } | undefined;
      for (const message of frames) {
        const m = message.message;
        if (m.case === 'relation') {
          relations.set(m.value.relationId, m.value);
          const name = qualified(m.value);
          const existing = tables.get(name);
          if (existing) existing.relation = m.value;
          else tables.set(name, { relation: m.value, rows: new Map() });
        } else if (m.case === 'snapshotBegin') {
          // resumed = false: the snapshot replaces the synced state (§6.4).
          if (!m.value.resumed) for (const t of tables.values()) t.rows.clear();
        } else if (m.case === 'snapshotChunk') {
          const rel = relations.get(m.value.relationId)!;
          const rows = tables.get(qualified(rel))!.rows;
          for (const r of m.value.rows) {
            const row = decode(rel, r) as ReplicaRow;
            rows.set(keyOf(rel, row), row);
          }
        } else if (m.case === 'snapshotEnd') {
          applied = m.value.lsn;
        } else if (m.case === 'progress') {
          if (m.value.lsn > applied) applied = m.value.lsn;
        } else if (m.case === 'transaction') {
          const tx = m.value;
          if (tx.frameIndex === 0) pending = { commitLsn: tx.commitLsn, next: 0, changes: [] };
          if (!pending || pending.commitLsn !== tx.commitLsn || pending.next !== tx.frameIndex) {
            throw new Error(`transaction frame out of sequence at ${tx.commitLsn}/${tx.frameIndex}`);
          }
          pending.next++;
          pending.changes.push(...tx.changes);
          if (!tx.hasMore) {
            // Atomic after the last frame (§8.3); a skipped duplicate (§8.9) is not applied.
            if (tx.commitLsn > applied) {
              for (const c of pending.changes) applyChange(relations, c);
              applied = tx.commitLsn;
            }
            commits.push({ commitLsn: tx.commitLsn, connection });
            pending = undefined;
          }
        }
      }
    },
  };
}

/** What differs between a replica table and the database (at most `limit` keys of each kind). */
export interface TableDiff {
  readonly missing: string[];
  readonly extra: string[];
  readonly different: string[];
  readonly replicaRows: number;
  readonly databaseRows: number;
}

/**
 * Reads `schema.name` from the database (the replica's visible columns, as Postgres text) and lists the keys
 * that are missing from the replica, extra in it, or different. `sql` must be connected.
 */
export async function diffWithDatabase(
  sql: pg.Client,
  replica: Replica,
  table: string,
  limit = 5,
): Promise<TableDiff> {
  const t = replica.tables.get(table);
  if (!t) throw new Error(`the replica has no table ${table}`);
  const columns = t.relation.columns.map((c) => sql.escapeIdentifier(c.name)).join(', ');
  const from = `${sql.escapeIdentifier(t.relation.schema)}.${sql.escapeIdentifier(t.relation.name)}`;
  const { rows } = await sql.query<ReplicaRow>({
    text: `SELECT ${columns} FROM ${from}`,
    rowMode: 'array',
    types: { getTypeParser: () => (v: string) => v },
  });
  const expected = new Map(rows.map((r) => [JSON.stringify(t.relation.primaryKey.map((i) => r[i])), r]));
  const missing = [...expected.keys()].filter((k) => !t.rows.has(k));
  const extra = [...t.rows.keys()].filter((k) => !expected.has(k));
  const different = [...expected]
    .filter(([k, row]) => t.rows.has(k) && JSON.stringify(t.rows.get(k)) !== JSON.stringify(row))
    .map(([k]) => k);
  return {
    missing: missing.slice(0, limit),
    extra: extra.slice(0, limit),
    different: different.slice(0, limit),
    replicaRows: t.rows.size,
    databaseRows: expected.size,
  };
}
