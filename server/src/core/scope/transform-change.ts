/**
 * One logged change as one user sees it (docs/protocol.md §8.4 "Scope"): rows that move into the user's scope
 * arrive as inserts of the full row, rows that move out as deletes, changes outside the scope not at all.
 *
 * Old values. An UPDATE's scope decision needs the row's old scope column value. pgoutput sends it only with
 * REPLICA IDENTITY FULL (old row 'O'), or when the scope column is part of the primary key. Otherwise the old
 * visibility is `unknown` and the transform stays correct at a price:
 * - new row invisible → a Delete of the key is sent anyway (a no-op for a client without the row, §8.4). It
 *   reveals the key of a row the user may not see, and every update of other users' rows reaches every client;
 * - new row visible → an Update without `unchanged` values, which a client without the row applies as an
 *   insert (§8.4); if the row has unchanged TOAST values it cannot, and the result is `needs-row-fetch`.
 * Hence the setup requires FULL on every claim-scoped table (`requiresReplicaIdentityFull`); the fallback only
 * guards tables whose identity was changed behind the server's back. A DELETE with only the old key is handled
 * the same way (sent). The replica identity must be DEFAULT (the primary key) or FULL, never USING INDEX.
 *
 * `needs-row-fetch`: a row moves in but the new tuple lacks unchanged TOAST values and no old full row can
 * supply them (or its visibility is unknown). The shell fetches the current row by key from Postgres and hands
 * it to `resolveRowFetch`. The fetched row is as of the fetch, possibly newer than the change: the client sees
 * that newer version early, and the following changes of the stream converge it on the same final state.
 */

import { type LoggedChange, type Tuple, UNCHANGED_DATUM } from '../change.ts';
import type { ScopedShape } from './scoped-shape.ts';
import { type Claims, claimText, datumVisibility, type RowVisibility } from './visibility.ts';

/** A change as one client receives it. Rows are in the shape's column order; keys in primary-key order. */
export type ClientChange =
  | { readonly kind: 'insert'; readonly shapeId: number; readonly row: Tuple }
  | { readonly kind: 'update'; readonly shapeId: number; readonly row: Tuple; readonly oldKey?: Tuple }
  | { readonly kind: 'delete'; readonly shapeId: number; readonly oldKey: Tuple }
  | { readonly kind: 'truncate'; readonly shapeIds: readonly number[] }
  | {
      readonly kind: 'needs-row-fetch';
      readonly shapeId: number;
      /** The row's (new) primary key. */
      readonly key: Tuple;
      /** The old primary key, when the update changed it and the client may hold the row under it. */
      readonly oldKey?: Tuple;
    };

/** Finds the scoped shape of a shape id; `undefined` for a table that is not synced. */
export type ScopedShapeLookup = (shapeId: number) => ScopedShape | undefined;

function keyOf(row: Tuple, t: ScopedShape): Tuple {
  return t.keyIndices.map((i) => row[i] ?? null);
}

function sameKey(a: Tuple, b: Tuple): boolean {
  return a.every((v, i) => v === b[i]);
}

function visibilityOf(row: Tuple, t: ScopedShape, claim: string | null): RowVisibility {
  return t.rule.kind === 'shared' ? 'visible' : datumVisibility(row[t.scopeIndex], claim);
}

function transformUpdate(
  change: Extract<LoggedChange, { kind: 'update' }>,
  t: ScopedShape,
  claim: string | null,
): ClientChange | undefined {
  const old = change.old;
  // Unchanged TOAST values are the old row's values: fill them in when the old row is known.
  const row =
    old?.kind === 'full'
      ? change.row.map((d, i) => (d === UNCHANGED_DATUM ? (old.row[i] ?? null) : d))
      : change.row;
  const newKey = keyOf(row, t);
  const oldKeyTuple = old === undefined ? newKey : keyOf(old.row, t);
  const oldKey = sameKey(oldKeyTuple, newKey) ? undefined : oldKeyTuple;
  const newVis = visibilityOf(row, t, claim);
  let oldVis: RowVisibility;
  if (t.rule.kind === 'shared') oldVis = 'visible';
  else if (old?.kind === 'full' || (old?.kind === 'key' && t.scopeInKey))
    oldVis = visibilityOf(old.row, t, claim);
  else if (old === undefined && t.scopeInKey) oldVis = newVis;
  else oldVis = 'unknown';
  const hasUnchanged = row.includes(UNCHANGED_DATUM);
  const withOldKey = oldKey === undefined ? {} : { oldKey };
  const shapeId = change.shapeId;

  if (newVis === 'unknown') return { kind: 'needs-row-fetch', shapeId, key: newKey, ...withOldKey };
  if (newVis === 'hidden') {
    return oldVis === 'hidden' ? undefined : { kind: 'delete', shapeId, oldKey: oldKeyTuple };
  }
  if (oldVis === 'visible') return { kind: 'update', shapeId, row, ...withOldKey };
  if (oldVis === 'hidden') {
    // Move-in: the client has no row under either key; it needs the full row.
    return hasUnchanged
      ? { kind: 'needs-row-fetch', shapeId, key: newKey }
      : { kind: 'insert', shapeId, row };
  }
  // Old visibility unknown: an Update with no unchanged values is applied as an upsert by every client.
  return hasUnchanged
    ? { kind: 'needs-row-fetch', shapeId, key: newKey, ...withOldKey }
    : { kind: 'update', shapeId, row, ...withOldKey };
}

/**
 * Transforms one logged change for one user (see the file comment for the rules and their limits).
 * @returns the change to send, or `undefined` when the change does not concern the user.
 *
 * @example
 * transformChange({ kind: 'update', shapeId: 1, row: ['t1', 'bob'], old: { kind: 'full', row: ['t1', 'ann'] } },
 *   lookup, { sub: 'ann' }); // { kind: 'delete', shapeId: 1, oldKey: ['t1'] }: the task moved to bob
 */
export function transformChange(
  change: LoggedChange,
  lookup: ScopedShapeLookup,
  claims: Claims,
): ClientChange | undefined {
  if (change.kind === 'truncate') {
    const shapeIds = change.shapeIds.filter((id) => lookup(id) !== undefined);
    return shapeIds.length === 0 ? undefined : { kind: 'truncate', shapeIds };
  }
  const t = lookup(change.shapeId);
  if (t === undefined) return undefined;
  const claim = t.rule.kind === 'claim' ? claimText(claims, t.rule.claim) : null;
  switch (change.kind) {
    case 'insert': {
      const vis = visibilityOf(change.row, t, claim);
      if (vis === 'hidden') return undefined;
      if (vis === 'unknown')
        return { kind: 'needs-row-fetch', shapeId: change.shapeId, key: keyOf(change.row, t) };
      return { kind: 'insert', shapeId: change.shapeId, row: change.row };
    }
    case 'update':
      return transformUpdate(change, t, claim);
    case 'delete': {
      const old = change.old;
      const known = t.rule.kind === 'shared' || old.kind === 'full' || t.scopeInKey;
      if (known && visibilityOf(old.row, t, claim) === 'hidden') return undefined;
      return { kind: 'delete', shapeId: change.shapeId, oldKey: keyOf(old.row, t) };
    }
  }
}

/**
 * Turns a `needs-row-fetch` into what to send, given the row the shell fetched by key (in the same tuple
 * layout), or `undefined` when no row has that key any more.
 */
export function resolveRowFetch(
  pending: Extract<ClientChange, { kind: 'needs-row-fetch' }>,
  fetched: Tuple | undefined,
  t: ScopedShape,
  claims: Claims,
): readonly ClientChange[] {
  const claim = t.rule.kind === 'claim' ? claimText(claims, t.rule.claim) : null;
  const { shapeId, oldKey } = pending;
  if (
    fetched !== undefined &&
    !fetched.includes(UNCHANGED_DATUM) &&
    visibilityOf(fetched, t, claim) === 'visible'
  ) {
    return [
      oldKey === undefined
        ? { kind: 'insert', shapeId, row: fetched }
        : { kind: 'update', shapeId, row: fetched, oldKey },
    ];
  }
  const deletes: ClientChange[] = [{ kind: 'delete', shapeId, oldKey: pending.key }];
  if (oldKey !== undefined) deletes.push({ kind: 'delete', shapeId, oldKey });
  return deletes;
}
