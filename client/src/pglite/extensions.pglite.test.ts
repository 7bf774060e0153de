/**
 * Synced tables in a PGlite created with the extensions apps use: `vector` (pgvector: a described vector column
 * becomes a real `vector` column that similarity queries can use) and `live` (a live query over a synced table
 * follows applied transactions and snapshot swaps).
 */

import { PGlite } from '@electric-sql/pglite';
import { live } from '@electric-sql/pglite/live';
import { vector } from '@electric-sql/pglite-pgvector';
import { ValueEncoding } from '@vibestack/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApplyWork } from '../core/client-types.ts';
import { wireRows } from '../core/testing/server-frames.ts';
import { createSyncStore, type SyncStore } from './sync-store.ts';
import { col, relation } from './testing/pglite.ts';

let db: PGlite & { live: import('@electric-sql/pglite/live').LiveNamespace };
let store: SyncStore;
beforeAll(async () => {
  db = (await PGlite.create({ extensions: { live, vector } })) as typeof db;
  store = createSyncStore(db);
  await store.open();
});
afterAll(() => db.close());

const DOCS = relation(1, 'docs', [
  col('id', 'bigint', ValueEncoding.INT, { nullable: false, baseTypeOid: 20 }),
  col('title', 'text', ValueEncoding.TEXT),
  col('embedding', 'public.vector', ValueEncoding.VECTOR),
]);
const transaction = (lsn: bigint, rows: (string | null)[][]): ApplyWork => ({
  kind: 'transactions',
  transactions: [{ commitLsn: lsn, changes: rows.map((row) => ({ op: 'insert', relation: DOCS, row })) }],
  lsn,
});

it('creates a described vector column as pgvector, usable by similarity search', async () => {
  await store.apply(
    transaction(10n, [
      ['1', 'east', '[1,0,0]'],
      ['2', 'north', '[0,1,0]'],
      ['3', 'up', '[0,0,1]'],
      ['4', 'none', null],
    ]),
  );
  const { rows: type } = await db.query<{ t: string }>(
    "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'public.docs'::regclass AND attname = 'embedding'",
  );
  expect(type[0]!.t).toBe('vector');
  const { rows } = await db.query<{ title: string }>(
    "SELECT title FROM docs WHERE embedding IS NOT NULL ORDER BY embedding <-> '[0.1,0.9,0]' LIMIT 2",
  );
  expect(rows.map((r) => r.title)).toEqual(['north', 'east']);
});

it('lets a live query over a synced table follow applied transactions and a snapshot swap', async () => {
  const seen: string[][] = [];
  const query = await db.live.query<{ title: string }>('SELECT title FROM docs ORDER BY id', [], (r) =>
    seen.push(r.rows.map((x) => x.title)),
  );
  const settle = async (expected: string[]) => {
    for (let i = 0; i < 200 && JSON.stringify(seen.at(-1)) !== JSON.stringify(expected); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(seen.at(-1)).toEqual(expected);
  };
  expect(query.initialResults.rows.map((r) => r.title)).toEqual(['east', 'north', 'up', 'none']);
  await store.apply(transaction(20n, [['5', 'west', '[-1,0,0]']]));
  await settle(['east', 'north', 'up', 'none', 'west']);

  // A new snapshot replaces the table in one local transaction; the live query sees the result.
  await store.apply({ kind: 'snapshot-begin', snapshotId: 's2' });
  await store.apply({
    kind: 'snapshot-chunks',
    snapshotId: 's2',
    chunks: [{ relation: DOCS, rows: wireRows(DOCS, [['7', 'only', '[1,1,1]']]) }],
    cursor: new Uint8Array([1]),
  });
  await store.apply({ kind: 'snapshot-commit', snapshotId: 's2', lsn: 30n, tables: [DOCS], rowCounts: [1n] });
  await settle(['only']);
  await query.unsubscribe();
});
