import { createTestDatabase, type TestDatabase } from '@vibestack/server/dev';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureJson, parseFixture } from '../fixture/fixture-file.ts';
import type { State } from '../proto.ts';
import { cellText } from '../state/canonical-state.ts';
import { RecordError, recordFixture } from './record-fixture.ts';

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) await db.drop();
});
async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

const rows = (state: State | undefined, table: string) =>
  state?.tables.find((t) => t.name === table)?.rows.map((r) => r.cells.map(cellText));

describe('recordFixture (real Postgres)', () => {
  it('records messages with LSNs and xids, one state per transaction, interleaved sessions in commit order', async () => {
    const db = await database();
    const workload = [
      '-- Two tables, a key change, interleaved transactions.',
      'CREATE TABLE items (id int PRIMARY KEY, label text);',
      'CREATE TABLE notes (k text PRIMARY KEY, body text);',
      "INSERT INTO items VALUES (10, 'ten'), (9, 'nine');",
      '-- @session other',
      'BEGIN;',
      "INSERT INTO notes VALUES ('late', 'begun first, committed second');",
      '-- @session main',
      'UPDATE items SET id = 1 WHERE id = 10;',
      '-- @session other',
      'COMMIT;',
      '-- @session main',
      'DELETE FROM items WHERE id = 9;',
      'SELECT 1;',
      'TRUNCATE items, notes;',
    ].join('\n');
    const fixture = await recordFixture({ url: db.url, workload });

    expect(fixture.description).toBe('Two tables, a key change, interleaved transactions.');
    expect(fixture.postgresVersion).toMatch(/^\d+\.\d+/);
    expect(fixture.pgoutputOptions).toEqual(['proto_version', '1', 'messages', 'true']);
    expect(fixture.workload).toBe(workload);
    expect(fixture.tables.map((t) => [t.schema, t.name, t.primaryKey, t.columns.map((c) => c.name)])).toEqual(
      [
        ['public', 'items', ['id'], ['id', 'label']],
        ['public', 'notes', ['k'], ['k', 'body']],
      ],
    );
    expect(fixture.commits.map((c) => c.workloadLine)).toEqual([4, 9, 11, 13, 15]);
    expect(fixture.commits.map((c) => rows(c.state, 'items'))).toEqual([
      [
        ['9', 'nine'],
        ['10', 'ten'],
      ],
      [
        ['1', 'ten'],
        ['9', 'nine'],
      ],
      [
        ['1', 'ten'],
        ['9', 'nine'],
      ],
      [['1', 'ten']],
      [],
    ]);
    expect(rows(fixture.commits[2]!.state, 'notes')).toEqual([['late', 'begun first, committed second']]);
    expect(rows(fixture.commits[4]!.state, 'notes')).toEqual([]);

    // The transaction begun first commits after the one begun later, with the xid it was assigned first.
    const [, keyChange, late] = fixture.commits;
    expect(late!.xid).toBeLessThan(keyChange!.xid);
    expect(late!.commitLsn).toBeGreaterThan(keyChange!.commitLsn);
    let previous = fixture.startLsn;
    for (const commit of fixture.commits) {
      expect(commit.commitLsn).toBeGreaterThan(previous);
      expect(commit.endLsn).toBeGreaterThan(commit.commitLsn);
      previous = commit.commitLsn;
      const span = fixture.messages.slice(commit.firstMessage, commit.firstMessage + commit.messageCount);
      expect(String.fromCharCode(span[0]!.data[0]!, span.at(-1)!.data[0]!)).toBe('BC');
      for (const m of span) expect(m.xid).toBe(commit.xid);
    }
    expect(fixture.messages.map((m) => String.fromCharCode(m.data[0]!)).join('')).toBe(
      'BRIICBRUCBRICBRDCBRRTC',
    );

    // The JSON form reads back to the same fixture; the slot and the publication are gone.
    expect(parseFixture(fixtureJson(fixture))).toEqual(fixture);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const left = await client.query(
        'SELECT (SELECT count(*) FROM pg_replication_slots WHERE database = current_database())::int AS slots, ' +
          '(SELECT count(*) FROM pg_publication)::int AS publications',
      );
      expect(left.rows).toEqual([{ slots: 0, publications: 0 }]);
    } finally {
      await client.end();
    }
  });

  it('refuses a statement that commits twice, and DDL after the first transaction', async () => {
    const twice = await database();
    await expect(
      recordFixture({
        url: twice.url,
        workload: `CREATE TABLE t (id int PRIMARY KEY);
          CREATE PROCEDURE two() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; INSERT INTO t VALUES (2); END $$;
          CALL two();`,
      }),
    ).rejects.toThrow(/line 3: the statement committed 2 transactions/);
    const ddl = await database();
    await expect(
      recordFixture({
        url: ddl.url,
        workload:
          'CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1);\nALTER TABLE t ADD COLUMN v text;',
      }),
    ).rejects.toThrow(RecordError);
  });
});
