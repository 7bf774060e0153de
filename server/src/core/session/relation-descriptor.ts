/**
 * The catalog's description of a table, as the shell reads it from Postgres (server/src/db/catalog), and how it
 * becomes a `Relation` frame for one client: only visible columns, the key as indices into them, and only the
 * foreign keys between synced tables over visible columns (docs/protocol.md §5).
 */

import { create } from '@bufbuild/protobuf';
import {
  ColumnSchema,
  ForeignKeySchema,
  type Relation,
  RelationSchema,
  type ValueEncoding,
} from '@vibestack/proto';
import { orderByForeignKeys as orderTablesByForeignKeys } from '../fk-order.ts';
import { qualifiedName, type ScopeConfig, type TableScope } from '../scope/index.ts';

/** One column as the catalog describes it; the fields of proto `Column` (docs/protocol.md §5). */
export interface ColumnDescriptor {
  readonly name: string;
  /** `format_type()`, schema-qualified outside `pg_catalog`. */
  readonly typeName: string;
  readonly typeOid: number;
  /** `atttypmod`; -1 = none. */
  readonly typeModifier: number;
  /** From `valueTypeOfPgType`; never UNSPECIFIED. */
  readonly encoding: ValueEncoding;
  /** For arrays, the element encoding; UNSPECIFIED otherwise. */
  readonly elementEncoding: ValueEncoding;
  readonly nullable: boolean;
  readonly enumLabels: readonly string[];
  readonly baseTypeOid: number;
  readonly elementTypeOid: number;
  readonly baseTypeName: string;
}

/** A foreign key by column names. */
export interface ForeignKeyDescriptor {
  readonly columns: readonly string[];
  readonly referencedSchema: string;
  readonly referencedTable: string;
  readonly referencedColumns: readonly string[];
}

/** A table as the catalog describes it: every column, server-only ones included. */
export interface RelationDescriptor {
  /** Postgres relation OID; matches `TableShape.relationOid`. */
  readonly relationOid: number;
  readonly schema: string;
  readonly name: string;
  /** Every column in `attnum` order. */
  readonly columns: readonly ColumnDescriptor[];
  /** Primary key column names in key order; never empty for a synced table. */
  readonly primaryKey: readonly string[];
  readonly foreignKeys: readonly ForeignKeyDescriptor[];
}

/**
 * Builds the `Relation` a client sees for a table: visible columns (indices `visible` into the descriptor's
 * columns), the key as indices into them, and foreign keys to synced tables over visible columns only.
 * @throws RangeError when a key column is not visible.
 */
export function buildRelation(
  relationId: number,
  descriptor: RelationDescriptor,
  visible: readonly number[],
  scope: ScopeConfig,
): Relation {
  const columns = visible.map((i) => descriptor.columns[i]!);
  const position = (name: string) => columns.findIndex((c) => c.name === name);
  const primaryKey = descriptor.primaryKey.map((k) => {
    const p = position(k);
    if (p < 0)
      throw new RangeError(`${descriptor.schema}.${descriptor.name}: key column ${k} is not visible`);
    return p;
  });
  const visibleIn = (t: TableScope | undefined, names: readonly string[]) =>
    t !== undefined && names.every((n) => !(t.serverOnlyColumns ?? []).includes(n));
  const foreignKeys = descriptor.foreignKeys
    .filter(
      (fk) =>
        fk.columns.every((c) => position(c) >= 0) &&
        visibleIn(
          scope.byName.get(qualifiedName(fk.referencedSchema, fk.referencedTable)),
          fk.referencedColumns,
        ),
    )
    .map((fk) =>
      create(ForeignKeySchema, {
        columns: fk.columns.map(position),
        referencedSchema: fk.referencedSchema,
        referencedTable: fk.referencedTable,
        referencedColumns: [...fk.referencedColumns],
      }),
    );
  return create(RelationSchema, {
    relationId,
    schema: descriptor.schema,
    name: descriptor.name,
    columns: columns.map((c) =>
      create(ColumnSchema, {
        name: c.name,
        typeName: c.typeName,
        typeOid: c.typeOid,
        typeModifier: c.typeModifier,
        encoding: c.encoding,
        elementEncoding: c.elementEncoding,
        nullable: c.nullable,
        enumLabels: [...c.enumLabels],
        baseTypeOid: c.baseTypeOid,
        elementTypeOid: c.elementTypeOid,
        baseTypeName: c.baseTypeName,
      }),
    ),
    primaryKey,
    foreignKeys,
  });
}

/**
 * Orders tables parents-first along their foreign keys (docs/protocol.md §6.1) with the same rule as the catalog
 * (`core/fk-order.ts`: deterministic, cycles broken by fewest unplaced parents, then by name).
 */
export function orderByForeignKeys(tables: readonly RelationDescriptor[]): RelationDescriptor[] {
  const references = tables.flatMap((t) =>
    t.foreignKeys.map((fk) => ({
      from: { schema: t.schema, name: t.name },
      to: { schema: fk.referencedSchema, name: fk.referencedTable },
      constraint: fk.columns.join(','),
    })),
  );
  return [...orderTablesByForeignKeys(tables, references).order];
}
