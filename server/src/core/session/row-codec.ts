/**
 * Server tuples (Postgres text) to wire rows for one client: visible columns only, each value encoded with its
 * column's wire type (docs/protocol.md §7), and client changes to `Change` messages.
 */

import { create } from '@bufbuild/protobuf';
import {
  type Change,
  ChangeSchema,
  DeleteSchema,
  ErrorCode,
  encodeTextValue,
  InsertSchema,
  type Row,
  RowSchema,
  SyncError,
  TruncateSchema,
  UNCHANGED_VALUE,
  UpdateSchema,
  type Value,
  type ValueType,
} from '@vibestack/proto';
import { type Datum, type Tuple, UNCHANGED_DATUM } from '../change.ts';
import type { ClientChange } from '../scope/index.ts';
import type { LayoutView, TableView } from './table-views.ts';

function encodeDatum(
  type: ValueType,
  datum: Datum | undefined,
  allowUnchanged: boolean,
  where: () => string,
): Value {
  if (datum === UNCHANGED_DATUM) {
    if (allowUnchanged) return UNCHANGED_VALUE;
    throw new SyncError(ErrorCode.INTERNAL, `${where()}: an unchanged value where the full row is required`);
  }
  try {
    return encodeTextValue(type, datum ?? null);
  } catch (cause) {
    // The server's own data failed to encode: a server-side failure, not a client's invalid value.
    throw new SyncError(ErrorCode.INTERNAL, `${where()}: ${String(cause)}`, { cause });
  }
}

function describe(table: TableView): string {
  return `${table.descriptor.schema}.${table.descriptor.name}`;
}

/** Encodes the visible columns of a tuple of `layout`. `unchanged` markers only where `allowUnchanged`. */
export function encodeRow(layout: LayoutView, tuple: Tuple, allowUnchanged = false): Row {
  const { table, source } = layout;
  const values = source.map((at, i) =>
    encodeDatum(table.visibleTypes[i]!, tuple[at], allowUnchanged, () => `${describe(table)} column ${i}`),
  );
  return rowOf(values);
}

/** A Row message, built as the plain object `create(RowSchema, { values })` returns (hot path; see value-codec). */
function rowOf(values: Value[]): Row {
  return { $typeName: RowSchema.typeName, values } as Row;
}

/** Encodes a key row (primary key values in key order). */
export function encodeKey(table: TableView, key: Tuple): Row {
  const values = key.map((d, i) => encodeDatum(table.keyTypes[i]!, d, false, () => `${describe(table)} key`));
  return rowOf(values);
}

/**
 * The `Change` message of a client change.
 * @param layoutOf the layout of a shape id (always known: the change was transformed with it).
 */
export function encodeChange(
  change: Exclude<ClientChange, { kind: 'needs-row-fetch' }>,
  layoutOf: (shapeId: number) => LayoutView,
): Change {
  switch (change.kind) {
    case 'insert': {
      const l = layoutOf(change.shapeId);
      const value = create(InsertSchema, {
        relationId: l.table.relationId,
        newRow: encodeRow(l, change.row),
      });
      return create(ChangeSchema, { kind: { case: 'insert', value } });
    }
    case 'update': {
      const l = layoutOf(change.shapeId);
      const value = create(UpdateSchema, {
        relationId: l.table.relationId,
        newRow: encodeRow(l, change.row, true),
        ...(change.oldKey === undefined ? {} : { oldKey: encodeKey(l.table, change.oldKey) }),
      });
      return create(ChangeSchema, { kind: { case: 'update', value } });
    }
    case 'delete': {
      const l = layoutOf(change.shapeId);
      const value = create(DeleteSchema, {
        relationId: l.table.relationId,
        oldKey: encodeKey(l.table, change.oldKey),
      });
      return create(ChangeSchema, { kind: { case: 'delete', value } });
    }
    case 'truncate': {
      const ids = [...new Set(change.shapeIds.map((id) => layoutOf(id).table.relationId))];
      return create(ChangeSchema, {
        kind: { case: 'truncate', value: create(TruncateSchema, { relationIds: ids }) },
      });
    }
  }
}

/** The tables a change uses, so their `Relation` can be sent first. */
export function tablesOf(change: ClientChange, layoutOf: (shapeId: number) => LayoutView): TableView[] {
  const ids = change.kind === 'truncate' ? change.shapeIds : [change.shapeId];
  return ids.map((id) => layoutOf(id).table);
}
