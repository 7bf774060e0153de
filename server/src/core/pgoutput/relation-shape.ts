/**
 * The table shape a pgoutput Relation message describes, as the change log interns it (`ChangeLog.internShape`
 * assigns the shape id). Used wherever pgoutput is fed into a change log: the replication pump and the
 * conformance suite's fixture feeder.
 */

import type { TableShape } from '../change.ts';
import type { RelationMessage } from './messages.ts';

/** The shape of `r` without its log-assigned id. */
export function shapeOfRelation(r: RelationMessage): Omit<TableShape, 'shapeId'> {
  return {
    relationOid: r.relationOid,
    schema: r.namespace,
    name: r.name,
    replicaIdentity: r.replicaIdentity,
    columns: r.columns.map((c) => ({
      name: c.name,
      typeOid: c.typeOid,
      typeModifier: c.typeModifier,
      isKey: c.isKey,
    })),
  };
}
