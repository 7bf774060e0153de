/**
 * Storage form of a chunk of logged changes: compact JSON. Tuples are arrays of Postgres text, `null` for SQL
 * NULL and `0` for the unchanged marker (a number never collides with text).
 */

import { type Datum, type LoggedChange, type Tuple, UNCHANGED_DATUM } from '../change.ts';

type StoredDatum = string | null | 0;
type StoredChange =
  | ['i', number, StoredDatum[]]
  | ['u', number, StoredDatum[], ('k' | 'f')?, StoredDatum[]?]
  | ['d', number, 'k' | 'f', StoredDatum[]]
  | ['t', number[], 0 | 1, 0 | 1];

const toStored = (t: Tuple): StoredDatum[] => t.map((d) => (d === UNCHANGED_DATUM ? 0 : d));
const fromStored = (t: StoredDatum[]): Datum[] => t.map((d) => (d === 0 ? UNCHANGED_DATUM : d));

/** Encodes changes for storage. */
export function encodeChunk(changes: readonly LoggedChange[]): string {
  const stored: StoredChange[] = changes.map((c): StoredChange => {
    switch (c.kind) {
      case 'insert':
        return ['i', c.shapeId, toStored(c.row)];
      case 'update':
        return c.old
          ? ['u', c.shapeId, toStored(c.row), c.old.kind === 'key' ? 'k' : 'f', toStored(c.old.row)]
          : ['u', c.shapeId, toStored(c.row)];
      case 'delete':
        return ['d', c.shapeId, c.old.kind === 'key' ? 'k' : 'f', toStored(c.old.row)];
      case 'truncate':
        return ['t', [...c.shapeIds], c.cascade ? 1 : 0, c.restartIdentity ? 1 : 0];
      default:
        throw new TypeError(`unknown change kind ${(c as { kind: string }).kind}`);
    }
  });
  return JSON.stringify(stored);
}

/** Decodes changes written by {@link encodeChunk}. */
export function decodeChunk(text: string): LoggedChange[] {
  const stored = JSON.parse(text) as StoredChange[];
  return stored.map((s): LoggedChange => {
    switch (s[0]) {
      case 'i':
        return { kind: 'insert', shapeId: s[1], row: fromStored(s[2]) };
      case 'u':
        return s[3] && s[4]
          ? {
              kind: 'update',
              shapeId: s[1],
              row: fromStored(s[2]),
              old: { kind: s[3] === 'k' ? 'key' : 'full', row: fromStored(s[4]) },
            }
          : { kind: 'update', shapeId: s[1], row: fromStored(s[2]) };
      case 'd':
        return {
          kind: 'delete',
          shapeId: s[1],
          old: { kind: s[2] === 'k' ? 'key' : 'full', row: fromStored(s[3]) },
        };
      case 't':
        return { kind: 'truncate', shapeIds: s[1], cascade: s[2] === 1, restartIdentity: s[3] === 1 };
      default:
        throw new TypeError(
          `corrupt change-log chunk: unknown change tag ${JSON.stringify((s as unknown[])[0])}`,
        );
    }
  });
}
