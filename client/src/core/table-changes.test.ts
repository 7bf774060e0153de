import { describe, expect, it } from 'vitest';
import { tablesChangedBy } from './table-changes.ts';
import { itemsRelation } from './testing/server-frames.ts';

const items = itemsRelation(1, 'items');
const tags = itemsRelation(2, 'tags');

describe('tablesChangedBy', () => {
  it('counts the changes of grouped transactions per table, in the order tables were first touched', () => {
    const event = tablesChangedBy({
      kind: 'transactions',
      lsn: 30n,
      transactions: [
        {
          commitLsn: 10n,
          changes: [
            { op: 'insert', relation: tags, row: ['1', 'a'] },
            { op: 'insert', relation: items, row: ['1', 'x'] },
            { op: 'update', relation: items, row: ['1', 'y'] },
          ],
        },
        {
          commitLsn: 20n,
          changes: [
            { op: 'truncate', relations: [items] },
            { op: 'delete', relation: tags, key: ['1'] },
          ],
        },
      ],
    });
    expect(event).toEqual({
      lsn: 30n,
      tables: [
        {
          schema: 'public',
          name: 'tags',
          inserts: 1,
          updates: 0,
          deletes: 1,
          truncated: false,
          replaced: false,
        },
        {
          schema: 'public',
          name: 'items',
          inserts: 1,
          updates: 1,
          deletes: 0,
          truncated: true,
          replaced: false,
        },
      ],
    });
  });

  it('reports every table of a committed snapshot as replaced', () => {
    const event = tablesChangedBy({
      kind: 'snapshot-commit',
      snapshotId: 's',
      lsn: 7n,
      tables: [items, tags],
      rowCounts: [0n, 5n],
    });
    expect(event?.tables.map((t) => [t.name, t.replaced])).toEqual([
      ['items', true],
      ['tags', true],
    ]);
  });

  it('reports nothing for staging and for an LSN advance without changes', () => {
    expect(tablesChangedBy({ kind: 'transactions', lsn: 5n, transactions: [] })).toBeUndefined();
    expect(
      tablesChangedBy({ kind: 'transactions', lsn: 5n, transactions: [{ commitLsn: 5n, changes: [] }] }),
    ).toBeUndefined();
    expect(tablesChangedBy({ kind: 'snapshot-begin', snapshotId: 's' })).toBeUndefined();
    expect(
      tablesChangedBy({
        kind: 'snapshot-chunks',
        snapshotId: 's',
        cursor: new Uint8Array(),
        chunks: [{ relation: items, rows: [] }],
      }),
    ).toBeUndefined();
    expect(
      tablesChangedBy({
        kind: 'snapshot-handoff',
        transactions: [{ commitLsn: 1n, changes: [{ op: 'insert', relation: items, row: ['1', 'x'] }] }],
      }),
    ).toBeUndefined();
  });
});
