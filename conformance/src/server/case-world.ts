/**
 * The server side of one case: what the reference server answers the session core from. The change log is the
 * server's own (`ChangeLog` over an in-memory SQLite), filled from the fixture by the fixture feeder; the
 * catalog comes from `fixture.tables`; an initial sync reads the fixture's recorded state at the case's snapshot
 * point; client records live in memory. Every connection of the case shares one world, as every connection of a
 * client id shares one SyncDO.
 */

import { type Lsn, maxLsn } from '@vibestack/proto';
import type { Tuple } from '../../../server/src/core/change.ts';
import { ChangeLog } from '../../../server/src/core/log/change-log.ts';
import { createMemorySql } from '../../../server/src/core/log/testing/memory-sql.ts';
import type {
  ClientRecord,
  RelationDescriptor,
  XidSnapshot,
} from '../../../server/src/core/session/index.ts';
import { createFixtureFeeder, type FixtureFeeder, fixturePointLsn } from '../fixture/fixture-feeder.ts';
import type { Fixture, FixtureTable, State } from '../proto.ts';
import { cellText, compareKeys } from '../state/canonical-state.ts';

/** Where the case's server stands, as fixture positions (transactions counted from the start). */
export interface WorldPositions {
  /** The state an initial sync serves. */
  readonly snapshotAt: number;
  /** Transactions logged when the case starts. */
  readonly head: number;
  /** The retention floor. */
  readonly floor: number;
}

/** Rows of one table at the snapshot point, in key order, values in `FixtureTable.columns` order. */
interface SnapshotTable {
  readonly table: FixtureTable;
  readonly rows: readonly Tuple[];
}

/** See {@link createCaseWorld}. */
export interface CaseWorld {
  readonly fixture: Fixture;
  readonly log: ChangeLog;
  readonly feeder: FixtureFeeder;
  readonly catalog: readonly RelationDescriptor[];
  readonly records: Map<string, ClientRecord>;
  /** The snapshot an initial sync serves: its LSN, xids, and the rows per relation OID. */
  readonly snapshot: {
    readonly lsn: Lsn;
    readonly xids: XidSnapshot;
    readonly tables: ReadonlyMap<number, SnapshotTable>;
  };
  /** The floor LSN the server reports (at least the log's own). */
  floor(): Lsn;
  /**
   * Moves the retention floor to after `count` transactions (never down, never above the head); the snapshot
   * moves up with it when it was below.
   * @throws RangeError beyond the head.
   */
  moveFloor(count: number): void;
  /**
   * Rows of a table at the snapshot point with a key after `afterKey` (and, with `filter`, the column's text
   * equal to the value), at most `limit`, in `columns` order.
   */
  snapshotRows(
    relationOid: number,
    columns: readonly string[],
    afterKey: Tuple | undefined,
    limit: number,
    filter?: { readonly column: string; readonly equals: string },
  ): { rows: Tuple[]; done: boolean };
  /**
   * The current rows (the state at the log's head) with the given keys (in `keyColumns` order), in `columns`
   * order; `undefined` for a key without a row. What a server's row fetch reads from the database.
   */
  currentRows(
    relationOid: number,
    columns: readonly string[],
    keyColumns: readonly string[],
    keys: readonly Tuple[],
  ): (Tuple | undefined)[];
  /** Releases the log's storage. */
  close(): void;
}

function emptyState(fixture: Fixture): State {
  return {
    $typeName: 'vibestack.conformance.v1.State',
    tables: fixture.tables.map((t) => ({
      $typeName: 'vibestack.conformance.v1.TableState',
      schema: t.schema,
      name: t.name,
      columns: t.columns.map((c) => c.name),
      rows: [],
    })),
  };
}

/** The fixture's state after `count` transactions (every table empty at 0). */
export function stateAt(fixture: Fixture, count: number): State {
  if (count === 0) return emptyState(fixture);
  const state = fixture.commits[count - 1]?.state;
  if (state === undefined) throw new RangeError(`the fixture has no state after transaction ${count}`);
  return state;
}

/**
 * An xid snapshot that sees exactly the fixture's first `count` transactions (xids are not in commit order when
 * transactions interleave, so the later ones are listed as in progress).
 */
function xidsSeeing(fixture: Fixture, count: number): XidSnapshot {
  const all = fixture.commits.map((c) => c.xid >>> 0);
  const hidden = all.slice(count);
  const xmax = Math.max(3, ...all) + 1;
  return { xmin: hidden.length > 0 ? Math.min(...hidden) : xmax, xmax, xip: hidden };
}

function descriptorOf(table: FixtureTable): RelationDescriptor {
  return {
    relationOid: table.relationOid,
    schema: table.schema,
    name: table.name,
    columns: table.columns.map((c) => ({
      name: c.name,
      typeName: c.typeName,
      typeOid: c.typeOid,
      typeModifier: c.typeModifier,
      encoding: c.encoding,
      elementEncoding: c.elementEncoding,
      nullable: c.nullable,
      enumLabels: c.enumLabels,
      baseTypeOid: c.baseTypeOid,
      elementTypeOid: c.elementTypeOid,
      baseTypeName: c.baseTypeName,
    })),
    primaryKey: table.primaryKey,
    foreignKeys: table.foreignKeys.map((fk) => ({
      columns: fk.columns,
      referencedSchema: fk.referencedSchema,
      referencedTable: fk.referencedTable,
      referencedColumns: fk.referencedColumns,
    })),
  };
}

function snapshotTables(fixture: Fixture, count: number): Map<number, SnapshotTable> {
  const state = stateAt(fixture, count);
  const out = new Map<number, SnapshotTable>();
  for (const table of fixture.tables) {
    const recorded = state.tables.find((t) => t.schema === table.schema && t.name === table.name);
    const from = table.columns.map((c) => recorded?.columns.indexOf(c.name) ?? -1);
    const rows = (recorded?.rows ?? []).map((row) =>
      from.map((i) => (i < 0 ? null : cellText(row.cells[i]))),
    );
    out.set(table.relationOid, { table, rows: sortRows(table, rows) });
  }
  return out;
}

function keyIndexes(table: FixtureTable): number[] {
  return table.primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
}

function keyEncodings(table: FixtureTable) {
  return keyIndexes(table).map((i) => table.columns[i]?.encoding);
}

function sortRows(table: FixtureTable, rows: Tuple[]): Tuple[] {
  const keys = keyIndexes(table);
  const encodings = keyEncodings(table);
  const keyOf = (row: Tuple) => keys.map((i) => row[i] as string | null);
  return [...rows].sort((a, b) => compareKeys(keyOf(a), keyOf(b), encodings));
}

/**
 * Builds the world of one case: the log holds the fixture's first `positions.head` transactions, the snapshot is
 * the state after `positions.snapshotAt` of them.
 */
export function createCaseWorld(fixture: Fixture, positions: WorldPositions): CaseWorld {
  const sql = createMemorySql();
  const log = ChangeLog.open(sql, fixture.startLsn);
  const feeder = createFixtureFeeder(fixture, log);
  feeder.advanceTo(Math.max(positions.head, positions.snapshotAt));
  let floorAt = positions.floor;
  let floorLsn = floorAt === 0 ? 0n : fixturePointLsn(fixture, floorAt);
  let snapshotAt = positions.snapshotAt;
  const snapshotOf = (count: number) => ({
    lsn: fixturePointLsn(fixture, count),
    xids: xidsSeeing(fixture, count),
    tables: snapshotTables(fixture, count),
  });
  let snapshot = snapshotOf(snapshotAt);
  return {
    fixture,
    log,
    feeder,
    catalog: fixture.tables.map(descriptorOf),
    records: new Map(),
    get snapshot() {
      return snapshot;
    },
    floor: () => maxLsn(log.floor(), floorLsn),
    moveFloor(count) {
      if (count > feeder.logged) {
        throw new RangeError(
          `the floor cannot pass the head (transaction ${feeder.logged}), asked for ${count}`,
        );
      }
      if (count <= floorAt) return;
      floorAt = count;
      floorLsn = fixturePointLsn(fixture, count);
      if (snapshotAt < count) {
        snapshotAt = count;
        snapshot = snapshotOf(count);
      }
    },
    currentRows(relationOid, columns, keyColumns, keys) {
      const t = snapshotTables(fixture, feeder.logged).get(relationOid);
      if (t === undefined) throw new RangeError(`no table with relation OID ${relationOid}`);
      const names = t.table.columns.map((c) => c.name);
      const at = keyColumns.map((k) => names.indexOf(k));
      return keys.map((key) => {
        const row = t.rows.find((r) => at.every((i, j) => r[i] === key[j]));
        return row === undefined ? undefined : columns.map((c) => row[names.indexOf(c)] ?? null);
      });
    },
    snapshotRows(relationOid, columns, afterKey, limit, filter) {
      const t = snapshot.tables.get(relationOid);
      if (t === undefined) throw new RangeError(`no table with relation OID ${relationOid}`);
      const names = t.table.columns.map((c) => c.name);
      const filterAt = filter === undefined ? -1 : names.indexOf(filter.column);
      const keys = keyIndexes(t.table);
      const encodings = keyEncodings(t.table);
      const after = afterKey?.map((v) => v as string | null);
      const matching = t.rows.filter(
        (row) =>
          (filter === undefined || row[filterAt] === filter.equals) &&
          (after === undefined ||
            compareKeys(
              keys.map((i) => row[i] as string | null),
              after,
              encodings,
            ) > 0),
      );
      const rows = matching.slice(0, limit).map((row) => columns.map((c) => row[names.indexOf(c)] ?? null));
      return { rows, done: matching.length <= limit };
    },
    close: () => sql.close(),
  };
}
