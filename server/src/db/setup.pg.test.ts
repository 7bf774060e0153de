import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { quoteIdent } from './quote.ts';
import { ReplicationSetupError } from './replication-prerequisites.ts';
import { ensureReplicationSetup, slotStatus } from './setup.ts';
import type { SqlClient } from './sql-client.ts';
import { createDriverHarness, SQL_DRIVERS } from './testing/sql-drivers.ts';

// wal_level cannot be changed on the shared test cluster (it needs a restart): the wal_level check is a pure
// function of the settings and is tested in replication-prerequisites.test.ts.

let db: TestDatabase;
const role = `vs_norepl_${randomBytes(4).toString('hex')}`;
const rolePassword = randomBytes(12).toString('hex');
let admin: SqlClient;
const adminHarness = createDriverHarness('pg');

beforeAll(async () => {
  db = await createTestDatabase();
  admin = await adminHarness.open(db.url);
  await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${rolePassword}'`);
});
afterAll(async () => {
  await admin?.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
  await adminHarness.close();
  await db?.drop();
});

const publishedTables = async (publication: string): Promise<string[]> =>
  (
    await admin.query<{ t: string }>(
      'SELECT schemaname || $2 || tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1',
      [publication, '.'],
    )
  ).rows.map((r) => r.t);

describe.each(SQL_DRIVERS)('replication setup over %s', (driver) => {
  const drivers = createDriverHarness(driver);
  let client: SqlClient;
  // Names with upper case, spaces and quotes: everything must be quoted.
  const schema = `Sync "${driver}"`;
  const publication = `Pub "${driver}", main`;
  const slot = `vs_slot_${driver}`;
  const a = { schema, name: 'Alpha Table' };
  const b = { schema, name: 'beta' };
  beforeAll(async () => {
    client = await drivers.open(db.url);
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    for (const t of [a, b]) {
      await client.query(`CREATE TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} (id int PRIMARY KEY)`);
    }
  });
  afterAll(() => drivers.close());

  it('creates publication and slot once; a second run changes nothing', async () => {
    const first = await ensureReplicationSetup(client, { publication, slot, tables: [a] });
    expect(first).toMatchObject({ created: true, publication: 'created' });
    const second = await ensureReplicationSetup(client, { publication, slot, tables: [a] });
    expect(second).toEqual({
      slotConfirmedLsn: first.slotConfirmedLsn,
      created: false,
      publication: 'unchanged',
    });
    expect(await publishedTables(publication)).toEqual([`${schema}.Alpha Table`]);
    const { rows } = await admin.query(
      'SELECT plugin, slot_type FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    expect(rows).toEqual([{ plugin: 'pgoutput', slot_type: 'logical' }]);
  });

  it('applies a changed table list, and switches to FOR ALL TABLES and back', async () => {
    expect(await ensureReplicationSetup(client, { publication, slot, tables: [a, b] })).toMatchObject({
      created: false,
      publication: 'updated',
    });
    expect(await publishedTables(publication)).toEqual([`${schema}.Alpha Table`, `${schema}.beta`]);
    expect((await ensureReplicationSetup(client, { publication, slot, tables: [b, a] })).publication).toBe(
      'unchanged',
    );
    expect((await ensureReplicationSetup(client, { publication, slot, tables: [b] })).publication).toBe(
      'updated',
    );
    expect(await publishedTables(publication)).toEqual([`${schema}.beta`]);

    expect((await ensureReplicationSetup(client, { publication, slot })).publication).toBe('updated');
    const all = await admin.query<{ puballtables: string }>(
      'SELECT puballtables FROM pg_publication WHERE pubname = $1',
      [publication],
    );
    expect(all.rows).toEqual([{ puballtables: 't' }]);
    expect((await ensureReplicationSetup(client, { publication, slot, tables: [] })).publication).toBe(
      'unchanged',
    );
    expect((await ensureReplicationSetup(client, { publication, slot, tables: [a] })).publication).toBe(
      'updated',
    );
    expect(await publishedTables(publication)).toEqual([`${schema}.Alpha Table`]);
  });

  it('restores publish options changed by hand', async () => {
    await admin.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET (publish = 'insert')`);
    expect((await ensureReplicationSetup(client, { publication, slot, tables: [a] })).publication).toBe(
      'updated',
    );
    const { rows } = await admin.query(
      'SELECT pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot FROM pg_publication WHERE pubname = $1',
      [publication],
    );
    expect(rows).toEqual([
      { pubinsert: 't', pubupdate: 't', pubdelete: 't', pubtruncate: 't', pubviaroot: 't' },
    ]);
  });

  it('surfaces a missing table as a SqlError with its SQLSTATE', async () => {
    await expect(
      ensureReplicationSetup(client, {
        publication: `${publication} 2`,
        slot,
        tables: [{ schema, name: 'nope' }],
      }),
    ).rejects.toMatchObject({ name: 'SqlError', code: '42P01' });
  });

  it('reports slot status: position, retained WAL, not lost; a missing slot does not exist', async () => {
    await admin.query(
      `INSERT INTO ${quoteIdent(a.schema)}.${quoteIdent(a.name)} SELECT generate_series(1, 100)`,
    );
    const status = await slotStatus(client, slot);
    expect(status).toMatchObject({ exists: true, walStatus: 'reserved', lost: false, active: false });
    expect(status.confirmedFlushLsn).toBeTypeOf('bigint');
    expect(status.restartLsn! <= status.confirmedFlushLsn!).toBe(true);
    expect(status.retainedWalBytes! > 0n).toBe(true);
    expect(await slotStatus(client, 'vs_no_such_slot')).toMatchObject({ exists: false, lost: false });
  });

  it('refuses a slot name taken by a physical slot, saying what to do', async () => {
    const physical = `vs_physical_${driver}`;
    await admin.query('SELECT pg_create_physical_replication_slot($1)', [physical]);
    try {
      const error = await ensureReplicationSetup(client, { publication, slot: physical, tables: [a] }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ReplicationSetupError);
      expect((error as ReplicationSetupError).problems.map((p) => p.kind)).toEqual(['slot_mismatch']);
      expect((error as Error).message).toContain('pg_drop_replication_slot');
    } finally {
      await admin.query('SELECT pg_drop_replication_slot($1)', [physical]);
    }
  });

  it('explains a role without REPLICATION before touching anything', async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = rolePassword;
    const limited = await drivers.open(url.toString());
    const error = await ensureReplicationSetup(limited, {
      publication: `${driver}_never`,
      slot: `${driver}_never`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplicationSetupError);
    expect((error as ReplicationSetupError).problems.map((p) => p.kind)).toEqual(['replication_privilege']);
    expect((error as Error).message).toContain(`Role "${role}" has neither the REPLICATION attribute`);
    expect((error as Error).message).toContain(`ALTER ROLE "${role}" WITH REPLICATION`);
    const { rows } = await admin.query('SELECT count(*) AS n FROM pg_publication WHERE pubname = $1', [
      `${driver}_never`,
    ]);
    expect(rows).toEqual([{ n: '0' }]);
    await limited.end();
  });
});
