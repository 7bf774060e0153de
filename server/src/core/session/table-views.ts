/**
 * The tables of one connection: for each synced table its connection-scoped relation id, the columns the user
 * sees and their wire types, and whether its current `Relation` was sent on this connection (§5 rules 1–3).
 * For each table shape (a tuple layout of the change log) the positions of those columns in its tuples.
 */

import { create } from '@bufbuild/protobuf';
import {
  ErrorCode,
  encodeServerFrame,
  type Relation,
  ServerMessageSchema,
  SyncError,
  type ValueType,
  valueTypeOfColumn,
} from '@vibestack/proto';
import type { TableShape } from '../change.ts';
import {
  type ScopeConfig,
  type ScopedShape,
  scopeShape,
  type TableScope,
  tableScopeOf,
  visibleColumns,
} from '../scope/index.ts';
import { buildRelation, type RelationDescriptor } from './relation-descriptor.ts';
import { type RelationsCheckpoint, relationFingerprint, type TableCheckpoint } from './session-checkpoint.ts';

/** One synced table as this connection sees it. */
export interface TableView {
  readonly descriptor: RelationDescriptor;
  readonly scope: TableScope;
  readonly relationId: number;
  /** Indices of the visible columns in `descriptor.columns`, in wire order. */
  readonly visible: readonly number[];
  readonly visibleTypes: readonly ValueType[];
  /** Wire types of the primary key columns, in key order. */
  readonly keyTypes: readonly ValueType[];
  readonly relation: Relation;
}

/** A tuple layout (column names in order) mapped onto a table's visible columns. */
export interface LayoutView {
  readonly table: TableView;
  /** Scope decisions on tuples of this layout. */
  readonly scoped: ScopedShape;
  /** For each visible column, its position in the tuples. */
  readonly source: readonly number[];
}

interface Entry {
  view: TableView;
  /** The encoded Relation of `view`. */
  bytes: Uint8Array;
  /** The encoded Relation last sent on this connection (the same array once it is current). */
  sent: Uint8Array | undefined;
  /** {@link relationFingerprint} of `sent`. */
  sentFingerprint: string | null;
}

/** Stands for a Relation sent before a restore that differs from the current one: it is sent again. */
const OUTDATED = new Uint8Array(0);

function encodeRelation(relation: Relation): Uint8Array {
  return encodeServerFrame(create(ServerMessageSchema, { message: { case: 'relation', value: relation } }));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The connection's table registry. */
export class TableViews {
  readonly #scope: ScopeConfig;
  #catalog = new Map<number, RelationDescriptor>();
  readonly #entries = new Map<number, Entry>();
  readonly #layouts = new Map<number, LayoutView>();
  /** Restored tables not in the catalog (yet): their relation ids stay reserved. */
  readonly #dormant = new Map<number, TableCheckpoint>();
  #nextRelationId = 1;

  constructor(scope: ScopeConfig) {
    this.#scope = scope;
  }

  /** Replaces the catalog. Tables whose descriptor changed get a new view under the same relation id. */
  setCatalog(descriptors: readonly RelationDescriptor[]): void {
    this.#catalog = new Map(descriptors.map((d) => [d.relationOid, d]));
    this.#layouts.clear();
    for (const [oid, entry] of this.#entries) {
      const d = this.#catalog.get(oid);
      if (d !== undefined && d !== entry.view.descriptor) {
        entry.view = this.#build(d, entry.view.scope, entry.view.relationId);
        entry.bytes = encodeRelation(entry.view.relation);
      }
    }
  }

  /** The synced tables of the catalog. */
  syncedTables(): RelationDescriptor[] {
    return [...this.#catalog.values()].filter(
      (d) => tableScopeOf(this.#scope, d.schema, d.name) !== undefined,
    );
  }

  /** The view of a table, or `undefined` when it is not synced or not in the catalog. */
  table(relationOid: number): TableView | undefined {
    const existing = this.#entries.get(relationOid);
    if (existing !== undefined) return existing.view;
    const d = this.#catalog.get(relationOid);
    const scope = d === undefined ? undefined : tableScopeOf(this.#scope, d.schema, d.name);
    if (d === undefined || scope === undefined) return undefined;
    const restored = this.#dormant.get(relationOid);
    this.#dormant.delete(relationOid);
    const view = this.#build(d, scope, restored?.relationId ?? this.#nextRelationId++);
    const bytes = encodeRelation(view.relation);
    const fingerprint = restored?.sent ?? null;
    const sent =
      fingerprint === null ? undefined : fingerprint === relationFingerprint(bytes) ? bytes : OUTDATED;
    this.#entries.set(relationOid, { view, bytes, sent, sentFingerprint: fingerprint });
    return view;
  }

  /** The relation ids given out and which Relation each table's client has (see `SessionCheckpoint`). */
  checkpoint(): RelationsCheckpoint {
    const tables: TableCheckpoint[] = [...this.#dormant.values()];
    for (const [relationOid, e] of this.#entries) {
      tables.push({ relationOid, relationId: e.view.relationId, sent: e.sentFingerprint });
    }
    return { nextRelationId: this.#nextRelationId, tables };
  }

  /**
   * Continues a restored connection (call after `setCatalog`): each table keeps its relation id, and its Relation
   * is sent again before its next use only when the current one encodes differently from the one sent.
   */
  restore(cp: RelationsCheckpoint): void {
    this.#nextRelationId = cp.nextRelationId;
    for (const t of cp.tables) {
      this.#dormant.set(t.relationOid, t);
      this.table(t.relationOid);
    }
  }

  /** The `Relation` to send before `view` is used, or `undefined` when this connection has the current one. */
  takeRelation(view: TableView): Relation | undefined {
    const entry = this.#entries.get(view.descriptor.relationOid)!;
    if (entry.sent === entry.bytes) return undefined;
    // A rebuilt descriptor that encodes the same as the one sent needs no new Relation (§5 rule 3).
    const unchanged = entry.sent !== undefined && sameBytes(entry.sent, entry.bytes);
    entry.sent = entry.bytes;
    entry.sentFingerprint = relationFingerprint(entry.bytes);
    return unchanged ? undefined : entry.view.relation;
  }

  /**
   * The view of a change-log shape, or `undefined` when its table is not synced.
   * @throws SyncError MUST_REFETCH when the shape's columns do not match the catalog (a schema change the
   * connection cannot express, §5 rule 6); INTERNAL when a synced table is missing from the catalog.
   */
  shape(shape: TableShape): LayoutView | undefined {
    const cached = this.#layouts.get(shape.shapeId);
    if (cached !== undefined) return cached;
    if (tableScopeOf(this.#scope, shape.schema, shape.name) === undefined) return undefined;
    const table = this.table(shape.relationOid);
    if (table === undefined) {
      throw new SyncError(
        ErrorCode.INTERNAL,
        `no catalog descriptor for synced table ${shape.schema}.${shape.name}`,
      );
    }
    const layout = this.layout(table, shape.columns, shape.shapeId);
    this.#layouts.set(shape.shapeId, layout);
    return layout;
  }

  /**
   * Maps a tuple layout onto a table's visible columns.
   * @throws SyncError MUST_REFETCH when a visible or key column is missing or has another type.
   */
  layout(
    table: TableView,
    columns: readonly { readonly name: string; readonly typeOid?: number }[],
    shapeId = 0,
  ): LayoutView {
    const d = table.descriptor;
    const mismatch = (what: string) =>
      new SyncError(ErrorCode.MUST_REFETCH, `${d.schema}.${d.name} changed shape (${what}); refetch`);
    const source = table.visible.map((i) => {
      const col = d.columns[i]!;
      const at = columns.findIndex((c) => c.name === col.name);
      if (at < 0) throw mismatch(`column ${col.name} is missing`);
      const oid = columns[at]!.typeOid;
      if (oid !== undefined && oid !== col.typeOid) throw mismatch(`column ${col.name} changed type`);
      return at;
    });
    let scoped: ScopedShape;
    try {
      scoped = scopeShape({ shapeId, columns }, d.primaryKey, table.scope);
    } catch (cause) {
      throw new SyncError(ErrorCode.MUST_REFETCH, `${d.schema}.${d.name}: ${String(cause)}`, { cause });
    }
    return { table, scoped, source };
  }

  #build(d: RelationDescriptor, scope: TableScope, relationId: number): TableView {
    const visible = visibleColumns(d.columns, scope);
    let relation: Relation;
    let keyTypes: ValueType[];
    let visibleTypes: ValueType[];
    try {
      relation = buildRelation(relationId, d, visible, this.#scope);
      keyTypes = d.primaryKey.map((k) => valueTypeOfColumn(d.columns.find((c) => c.name === k)!));
      visibleTypes = visible.map((i) => valueTypeOfColumn(d.columns[i]!));
    } catch (cause) {
      throw new SyncError(ErrorCode.INTERNAL, `cannot describe ${d.schema}.${d.name}: ${String(cause)}`, {
        cause,
      });
    }
    return { descriptor: d, scope, relationId, visible, visibleTypes, keyTypes, relation };
  }
}
