/**
 * The catalog as the session core takes it: one `RelationDescriptor` per synced table (every column, server-only
 * ones included, the primary key and the foreign keys inside the set). Plain data, so that it can be stored and
 * passed between Durable Objects.
 */

import type { RelationDescriptor } from '../core/session/index.ts';
import type { CatalogRelation } from './catalog.ts';

/** The descriptors of catalog relations, in the catalog's (foreign-key) order. */
export function toRelationDescriptors(relations: readonly CatalogRelation[]): RelationDescriptor[] {
  return relations.map((r) => ({
    relationOid: r.relationOid,
    schema: r.schema,
    name: r.name,
    columns: r.columns.map((c) => c.descriptor),
    primaryKey: r.primaryKey,
    foreignKeys: r.foreignKeys.map((fk) => ({
      columns: fk.columns,
      referencedSchema: fk.referenced.schema,
      referencedTable: fk.referenced.name,
      referencedColumns: fk.referencedColumns,
    })),
  }));
}
