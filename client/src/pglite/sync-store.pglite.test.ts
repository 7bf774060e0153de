/**
 * The store over a real PGlite: metadata (client id, applied LSN, snapshot position), the staged snapshot and
 * its atomic swap (docs/protocol.md §6.4, §6.5), and a crash between apply and commit, which must leave the last
 * committed state and LSN (§8.3).
 */

import type { PGlite } from '@electric-sql/pglite';
import { ErrorCode, SyncError, ValueEncoding } from '@vibestack/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyWork } from '../core/client-types.ts';
import { wireRows } from '../core/testing/server-frames.ts';
import { createSyncStore, type SyncStore } from './sync-store.ts';
import { appliedLsn, col, freshPGlite, openStore, relation, rowsOf } from './testing/pglite.ts';

let db: PGlite;
let store: SyncStore;
/** When set, the next apply fails right before its commit. */
let crashNext = false;
beforeAll(async () => {
  db = await freshPGlite();
  store = await openStore(db, {
    beforeCommit: () => {
      if (!crashNext) return;
      crashNext = false;
      throw new Error('crash before commit');
    },
  });
});
afterAll(() => db.close());

const columns = () => [
  col('id', 'bigint', ValueEncoding.INT, { nullable: false, baseTypeOid: 20 }),
  col('v', 'text', ValueEncoding.TEXT),
];
const ITEMS = relation(1, 'items', columns());
const OTHER = relation(2, 'other', columns());
const GONE = relation(3, 'gone', columns());

const rows = async (name: string) =>
  (await rowsOf(db, 'public', name, ['id', 'v'])).map((r) => `${r.id}:${r.v}`);
const state = async () => {
  const { rows: s } = await db.query<{
    client_id: string;
    snapshot_id: string | null;
    cursor: string | null;
  }>("SELECT client_id, snapshot_id, encode(snapshot_cursor, 'escape') AS cursor FROM _vibestack.state");
  return { ...s[0]!, lsn: await appliedLsn(db) };
};
const insert = (relation: typeof ITEMS, id: string, v: string) => ({
  op: 'insert' as const,
  relation,
  row: [id, v],
});
const tx = (lsn: bigint, changes: ReturnType<typeof insert>[]): ApplyWork => ({
  kind: 'transactions',
  transactions: [{ commitLsn: lsn, changes }],
  lsn,
});
const cursor = (c: string) => new TextEncoder().encode(c);

/** Fails if `work` commits; returns the error. */
async function crashDuring(work: ApplyWork): Promise<unknown> {
  crashNext = true;
  return store.apply(work).then(
    () => expect.unreachable('the apply should have failed'),
    (e: unknown) => e,
  );
}

describe('sync store (PGlite)', () => {
  it('creates the client id once and starts with nothing applied', async () => {
    const again = await openStore(db, { newClientId: () => 'another' }).then(() => state());
    expect(again).toMatchObject({ client_id: 'client-test', lsn: '0/0', snapshot_id: null });
  });

  it('a crash between apply and commit leaves the last committed rows and LSN', async () => {
    await store.apply(tx(0x50n, [insert(ITEMS, '1', 'old'), insert(GONE, '9', 'gone')]));
    const before = { items: await rows('items'), state: await state() };
    expect(
      await crashDuring(tx(0x60n, [insert(ITEMS, '1', 'new'), insert(ITEMS, '2', 'two')])),
    ).toBeInstanceOf(Error);
    expect({ items: await rows('items'), state: await state() }).toEqual(before);
    expect(before.state.lsn).toBe('0/50');
  });

  it('stages a snapshot invisibly and swaps it in atomically with its LSN (§6.4)', async () => {
    await store.apply({ kind: 'snapshot-begin', snapshotId: 'snap' });
    const chunk = (rel: typeof ITEMS, r: string[][], c: string): ApplyWork => ({
      kind: 'snapshot-chunks',
      snapshotId: 'snap',
      chunks: [{ relation: rel, rows: wireRows(rel, r) }],
      cursor: cursor(c),
    });
    await store.apply(
      chunk(
        ITEMS,
        [
          ['1', 'snap 1'],
          ['2', 'tab\there\\x'],
        ],
        'c1',
      ),
    );
    // A crash while staging keeps the previous position: the client resumes from chunk c1.
    await crashDuring(chunk(ITEMS, [['3', 'lost']], 'c2'));
    expect(await state()).toMatchObject({ snapshot_id: 'snap', cursor: 'c1', lsn: '0/50' });
    await store.apply(chunk(ITEMS, [['3', 'snap 3']], 'c2'));
    await store.apply(chunk(OTHER, [], 'c3'));
    // A restart finds the position and how many rows are staged (a resumed snapshot's progress counts on).
    expect((await createSyncStore(db).open()).resume.snapshot).toMatchObject({
      snapshotId: 'snap',
      cursor: cursor('c3'),
      stagedRows: 3,
    });
    // Until the commit the application sees the previous synced state.
    expect(await rows('items')).toEqual(['1:old']);
    await store.apply({
      kind: 'snapshot-handoff',
      transactions: [
        {
          commitLsn: 0x70n,
          changes: [insert(ITEMS, '2', 'handoff'), { op: 'delete', relation: ITEMS, key: ['3'] }],
        },
      ],
    });
    const commit: ApplyWork = {
      kind: 'snapshot-commit',
      snapshotId: 'snap',
      lsn: 0x80n,
      tables: [ITEMS, OTHER],
      rowCounts: [3n, 0n],
    };
    await crashDuring(commit);
    expect(await rows('items')).toEqual(['1:old']);
    expect(await state()).toMatchObject({ lsn: '0/50', snapshot_id: 'snap', cursor: 'c3' });
    await store.apply(commit);
    expect(await rows('items')).toEqual(['1:snap 1', '2:handoff']);
    expect(await rows('other')).toEqual([]);
    expect(await rows('gone')).toEqual([]); // synced before, absent from the snapshot
    // ... and no longer a synced table (§6.4): only the snapshot's tables are.
    const { rows: synced } = await db.query<{ table_name: string }>(
      'SELECT table_name FROM _vibestack.synced_tables ORDER BY 1',
    );
    expect(synced.map((r) => r.table_name)).toEqual(['items', 'other']);
    expect(await state()).toMatchObject({ lsn: '0/80', snapshot_id: null, cursor: null });
    const { rows: staging } = await db.query(
      "SELECT 1 FROM pg_tables WHERE schemaname = '_vibestack_staging'",
    );
    expect(staging).toEqual([]);
  });

  it('refuses to commit a snapshot whose row counts differ, leaving the synced state', async () => {
    await store.apply({ kind: 'snapshot-begin', snapshotId: 's2' });
    await store.apply({
      kind: 'snapshot-chunks',
      snapshotId: 's2',
      chunks: [{ relation: ITEMS, rows: wireRows(ITEMS, [['7', 'x']]) }],
      cursor: cursor('k'),
    });
    const error = await store
      .apply({ kind: 'snapshot-commit', snapshotId: 's2', lsn: 0x90n, tables: [ITEMS], rowCounts: [2n] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe(ErrorCode.INTERNAL);
    expect(await rows('items')).toEqual(['1:snap 1', '2:handoff']);
    expect((await state()).lsn).toBe('0/80');
  });
});
