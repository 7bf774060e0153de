/**
 * Resolves the Postgres types of catalog columns: domains (recursively, with their type modifiers), arrays and
 * their element types, enum labels, and `format_type` names of base types. Used by the catalog reader.
 */

import type { PgTypeInfo } from '@vibestack/proto';
import { pgBool, pgInt } from './pg-text.ts';
import type { SqlClient } from './sql-client.ts';

interface TypeRow {
  oid: string;
  typname: string;
  typtype: string;
  typbasetype: string;
  typtypmod: string;
  typelem: string;
  typarray: string;
  typdelim: string;
  is_array: string;
}

/** A row of `pg_type`, the fields the resolution needs. */
export interface PgType {
  readonly oid: number;
  readonly name: string;
  readonly kind: string;
  readonly baseType: number;
  readonly typmod: number;
  readonly element: number;
  readonly arrayType: number;
  readonly delimiter: string;
  readonly isArray: boolean;
}

/** An `oid[]` literal for a parameter. */
export const oidArray = (oids: Iterable<number>): string => `{${[...oids].join(',')}}`;

/** Reads every type reachable from `oids` (domain bases, array elements, array types). */
export async function readTypes(client: SqlClient, oids: Iterable<number>): Promise<Map<number, PgType>> {
  // Everything reachable through domain bases, array elements and array types, so that domains resolve and the
  // array type of a resolved element is known. int2vector/oidvector subscript like arrays but print as `1 2`.
  const { rows } = await client.query<TypeRow>(
    `WITH RECURSIVE reached(oid) AS (
       SELECT DISTINCT o FROM unnest($1::pg_catalog.oid[]) o
       UNION
       SELECT next.oid FROM reached r
         JOIN pg_catalog.pg_type t ON t.oid = r.oid
         CROSS JOIN LATERAL (VALUES (t.typbasetype), (t.typelem), (t.typarray)) next(oid)
        WHERE next.oid <> 0
     )
     SELECT t.oid, t.typname, t.typtype, t.typbasetype, t.typtypmod, t.typelem, t.typarray, t.typdelim,
            t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc
              AND t.oid NOT IN ('pg_catalog.int2vector'::pg_catalog.regtype, 'pg_catalog.oidvector'::pg_catalog.regtype)
              AS is_array
       FROM reached r JOIN pg_catalog.pg_type t ON t.oid = r.oid`,
    [oidArray(oids)],
  );
  return new Map(
    rows.map((row) => {
      const type: PgType = {
        oid: pgInt(row.oid, 'pg_type.oid'),
        name: row.typname,
        kind: row.typtype,
        baseType: pgInt(row.typbasetype, 'typbasetype'),
        typmod: pgInt(row.typtypmod, 'typtypmod'),
        element: pgInt(row.typelem, 'typelem'),
        arrayType: pgInt(row.typarray, 'typarray'),
        delimiter: row.typdelim,
        isArray: pgBool(row.is_array),
      };
      return [type.oid, type] as const;
    }),
  );
}

/** A type and modifier with domains resolved, as Postgres's getBaseTypeAndTypmod does. */
interface Resolved {
  readonly type: PgType;
  readonly typmod: number;
}

function typeOf(types: ReadonlyMap<number, PgType>, oid: number): PgType {
  const type = types.get(oid);
  if (!type) throw new RangeError(`type ${oid} not found in pg_type`);
  return type;
}

function resolveDomain(types: ReadonlyMap<number, PgType>, oid: number, typmod: number): Resolved {
  let type = typeOf(types, oid);
  let mod = typmod;
  while (type.kind === 'd') {
    mod = type.typmod;
    type = typeOf(types, type.baseType);
  }
  return { type, typmod: mod };
}

/** The `PgTypeInfo` of a type for `valueTypeOfPgType`. */
export function typeInfo(types: ReadonlyMap<number, PgType>, oid: number): PgTypeInfo {
  const type = typeOf(types, oid);
  if (type.kind === 'd') return { oid, name: type.name, base: typeInfo(types, type.baseType) };
  if (type.isArray) {
    return {
      oid,
      name: type.name,
      element: typeInfo(types, type.element),
      delimiter: typeOf(types, type.element).delimiter,
    };
  }
  return { oid, name: type.name };
}

/** The column facts that need the type graph; `baseTypeName` is filled in by a second query when needed. */
export interface ResolvedColumn {
  readonly baseTypeOid: number;
  readonly baseTypmod: number;
  readonly elementTypeOid: number;
  readonly elementDelimiter: string | null;
  readonly enumTypeOid: number | null;
  readonly domainInvolved: boolean;
}

/** Base type, element type, delimiter and enum of a column type, domains resolved. */
export function resolveColumn(
  types: ReadonlyMap<number, PgType>,
  oid: number,
  typmod: number,
): ResolvedColumn {
  const base = resolveDomain(types, oid, typmod);
  let domainInvolved = base.type.oid !== oid;
  if (!base.type.isArray) {
    return {
      baseTypeOid: base.type.oid,
      baseTypmod: base.typmod,
      elementTypeOid: 0,
      elementDelimiter: null,
      enumTypeOid: base.type.kind === 'e' ? base.type.oid : null,
      domainInvolved,
    };
  }
  // An array's typmod applies to its element (numeric(5,2)[]); an element domain brings its own.
  const element = resolveDomain(types, base.type.element, base.typmod);
  let baseTypeOid = base.type.oid;
  if (element.type.oid !== base.type.element) {
    domainInvolved = true;
    if (element.type.arrayType !== 0) baseTypeOid = element.type.arrayType;
  }
  return {
    baseTypeOid,
    baseTypmod: element.typmod,
    elementTypeOid: element.type.oid,
    elementDelimiter: typeOf(types, base.type.element).delimiter,
    enumTypeOid: element.type.kind === 'e' ? element.type.oid : null,
    domainInvolved,
  };
}

/** Enum labels in sort order, by enum type OID. */
export async function readEnumLabels(
  client: SqlClient,
  oids: ReadonlySet<number>,
): Promise<Map<number, string[]>> {
  const labels = new Map<number, string[]>();
  if (oids.size === 0) return labels;
  const { rows } = await client.query<{ enumtypid: string; enumlabel: string }>(
    `SELECT enumtypid, enumlabel FROM pg_catalog.pg_enum
      WHERE enumtypid = ANY($1::pg_catalog.oid[]) ORDER BY enumtypid, enumsortorder`,
    [oidArray(oids)],
  );
  for (const row of rows) {
    const oid = pgInt(row.enumtypid, 'enumtypid');
    labels.set(oid, [...(labels.get(oid) ?? []), row.enumlabel]);
  }
  return labels;
}

/** `format_type(oid, typmod)` for each pair, in order. */
export async function formatTypes(
  client: SqlClient,
  pairs: readonly (readonly [number, number])[],
): Promise<string[]> {
  if (pairs.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT pg_catalog.format_type(u.o, u.m) AS name
       FROM unnest($1::pg_catalog.oid[], $2::pg_catalog.int4[]) WITH ORDINALITY u(o, m, i) ORDER BY u.i`,
    [oidArray(pairs.map((p) => p[0])), `{${pairs.map((p) => p[1]).join(',')}}`],
  );
  return rows.map((row) => row.name);
}
