/**
 * The fixture recorder: runs a workload against real Postgres and records what the server would read — the
 * pgoutput messages with their LSNs and xids, through the server's own replication reader — and, after every
 * transaction, the tables as the server's snapshot reader sees them. Runs in an empty database that it may set up
 * for logical replication (superuser, or CREATE + REPLICATION).
 */

import { create } from '@bufbuild/protobuf';
import { ColumnSchema, type Lsn } from '@vibestack/proto';
import { createPgoutputDecoder } from '../../../server/src/core/pgoutput/decoder.ts';
import { type CatalogRelation, readRelations } from '../../../server/src/db/catalog.ts';
import { advanceSlot, readReplicationBatch } from '../../../server/src/db/replication-reader.ts';
import { ensureReplicationSetup } from '../../../server/src/db/setup.ts';
import { openSnapshot } from '../../../server/src/db/snapshot-reader.ts';
import { openSqlClient, type SqlClient } from '../../../server/src/db/sql-client.ts';
import {
  FIXTURE_FORMAT_VERSION,
  RECORD_PGOUTPUT_OPTIONS,
  RECORD_PUBLICATION,
  RECORD_SLOT,
} from '../constants.ts';
import {
  type Fixture,
  type FixtureCommit,
  FixtureCommitSchema,
  FixtureForeignKeySchema,
  FixtureSchema,
  type FixtureTable,
  FixtureTableSchema,
  RowStateSchema,
  type State,
  StateSchema,
  TableStateSchema,
  type WalMessage,
  WalMessageSchema,
} from '../proto.ts';
import { canonicalState, cellOf, compareTables, layoutOf } from '../state/canonical-state.ts';
import { parseWorkload, type WorkloadStatement } from './workload.ts';

/** Options of {@link recordFixture}. */
export interface RecordFixtureOptions {
  /** Connection URL of an empty database on a server with `wal_level = logical`. */
  readonly url: string;
  /** The workload's SQL (see `parseWorkload`). */
  readonly workload: string;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
}

/** A workload the recorder cannot turn into a fixture (the database or the SQL is at fault, not the recorder). */
export class RecordError extends Error {
  override readonly name = 'RecordError';
}

/** Rows per read when the recorder reads a table's state. */
const STATE_PAGE_ROWS = 10_000;

function fixtureTable(relation: CatalogRelation): FixtureTable {
  return create(FixtureTableSchema, {
    relationOid: relation.relationOid,
    schema: relation.schema,
    name: relation.name,
    columns: relation.columns.filter((c) => c.published).map((c) => create(ColumnSchema, c.descriptor)),
    primaryKey: [...relation.primaryKey],
    foreignKeys: relation.foreignKeys.map((fk) =>
      create(FixtureForeignKeySchema, {
        columns: [...fk.columns],
        referencedSchema: fk.referenced.schema,
        referencedTable: fk.referenced.name,
        referencedColumns: [...fk.referencedColumns],
      }),
    ),
    replicaIdentity: relation.replicaIdentity,
  });
}

async function readCatalog(client: SqlClient): Promise<FixtureTable[]> {
  const { relations } = await readRelations(client, { publication: RECORD_PUBLICATION });
  return relations.map(fixtureTable).sort(compareTables);
}

/** Every table's rows, read in one REPEATABLE READ snapshot with the server's snapshot reader. */
async function readState(client: SqlClient, tables: readonly FixtureTable[]): Promise<State> {
  const reader = await openSnapshot(client);
  try {
    const out = [];
    for (const table of tables) {
      const columns = table.columns.map((c) => c.name);
      const rows = [];
      let after: string[] | null = null;
      do {
        const chunk = await reader.readChunk(table, columns, after, STATE_PAGE_ROWS);
        for (const row of chunk.rows) rows.push(create(RowStateSchema, { cells: row.map(cellOf) }));
        after = chunk.nextKey;
      } while (after);
      out.push(create(TableStateSchema, { schema: table.schema, name: table.name, columns, rows }));
    }
    return canonicalState(create(StateSchema, { tables: out }), tables.map(layoutOf));
  } finally {
    await reader.close();
  }
}

interface Drained {
  readonly messages: WalMessage[];
  readonly commits: Omit<FixtureCommit, 'state' | 'workloadLine' | '$typeName'>[];
}

/**
 * Reads everything committed since the last drain from the slot (the server's replication reader, which peeks),
 * then advances the slot past it. `firstIndex` is the index the first message read gets in the fixture.
 */
async function drain(client: SqlClient, firstIndex: number): Promise<Drained> {
  const messages: WalMessage[] = [];
  const commits: Drained['commits'][number][] = [];
  const decoder = createPgoutputDecoder();
  let begin: { index: number; finalLsn: bigint; xid: number; commitTimeUs: bigint } | undefined;
  for (;;) {
    const batch = await readReplicationBatch(client, {
      slot: RECORD_SLOT,
      publication: RECORD_PUBLICATION,
      fetchSize: 1_000,
      maxRows: 1_000_000,
      onRow(lsn: Lsn, xid: number, data: Uint8Array) {
        const index = firstIndex + messages.length;
        messages.push(create(WalMessageSchema, { lsn, xid, data: data.slice() }));
        const message = decoder.decode(data);
        if (message.type === 'begin') {
          begin = { index, finalLsn: message.finalLsn, xid: message.xid, commitTimeUs: message.commitTimeUs };
        } else if (message.type === 'commit') {
          if (!begin || begin.finalLsn !== message.commitLsn) {
            throw new RecordError(`Commit at ${lsn} without its Begin`);
          }
          commits.push({
            commitLsn: message.commitLsn,
            endLsn: message.endLsn,
            xid: begin.xid,
            commitTimeUs: begin.commitTimeUs,
            firstMessage: begin.index,
            messageCount: index - begin.index + 1,
          });
          begin = undefined;
          return 'boundary';
        }
        return undefined;
      },
    });
    if (begin) throw new RecordError('the slot returned a transaction without its Commit');
    await advanceSlot(client, RECORD_SLOT, batch.uptoLsn);
    if (batch.exhausted) return { messages, commits };
  }
}

const catalogText = (tables: readonly FixtureTable[]) =>
  JSON.stringify(
    tables.map((t) => [t.schema, t.name, t.columns.map((c) => [c.name, c.typeName]), t.primaryKey]),
  );

async function openSession(url: string): Promise<SqlClient> {
  const client = await openSqlClient(url, 'pg', { applicationName: 'vibestack-conformance-record' });
  // A commit must be flushed before the recorder peeks: the slot decodes flushed WAL only (the test cluster runs
  // with synchronous_commit off).
  await client.query('SET synchronous_commit = on');
  return client;
}

/**
 * Records `options.workload` into a fixture: sets up a publication for all tables and a pgoutput slot, runs the
 * statements in order (each on its `-- @session` connection), and after each statement reads what the slot
 * decoded and, when a transaction committed, the state of every published table. Removes the slot and the
 * publication at the end (the tables stay).
 *
 * @throws RecordError when a statement commits more than one transaction, or the schema of the published tables
 *   changes after the first transaction (fixtures have one schema).
 * @throws SqlError when a statement fails.
 * @example
 * const fixture = await recordFixture({ url: db.url, workload: readFileSync('basic.sql', 'utf8') });
 */
export async function recordFixture(options: RecordFixtureOptions): Promise<Fixture> {
  const log = options.log ?? (() => undefined);
  const workload = parseWorkload(options.workload);
  const control = await openSession(options.url);
  const sessions = new Map<string, SqlClient>();
  try {
    const version =
      (await control.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '';
    const setup = await ensureReplicationSetup(control, {
      publication: RECORD_PUBLICATION,
      slot: RECORD_SLOT,
    });
    const messages: WalMessage[] = [];
    const commits: FixtureCommit[] = [];
    let schema: { tables: FixtureTable[]; line: number } | undefined;
    for (const statement of workload.statements) {
      const session = sessions.get(statement.session) ?? (await openSession(options.url));
      sessions.set(statement.session, session);
      await session.query(statement.sql);
      const drained = await drain(control, messages.length);
      messages.push(...drained.messages);
      if (drained.commits.length > 1) {
        throw new RecordError(
          `line ${statement.line}: the statement committed ${drained.commits.length} transactions; a fixture ` +
            'records the state after each transaction, so split it',
        );
      }
      const commit = drained.commits[0];
      if (!commit) continue;
      const tables = await readCatalog(control);
      schema ??= { tables, line: statement.line };
      checkSchema(schema, tables, statement);
      const state = await readState(control, tables);
      commits.push(create(FixtureCommitSchema, { ...commit, workloadLine: statement.line, state }));
      log(`line ${statement.line}: transaction ${commits.length} (xid ${commit.xid})`);
    }
    const tables = await readCatalog(control);
    if (schema) checkSchema(schema, tables, undefined);
    return create(FixtureSchema, {
      formatVersion: FIXTURE_FORMAT_VERSION,
      description: workload.description,
      workload: options.workload,
      postgresVersion: version,
      pgoutputOptions: [...RECORD_PGOUTPUT_OPTIONS],
      tables,
      startLsn: setup.slotConfirmedLsn,
      messages,
      commits,
    });
  } finally {
    await dropReplication(control);
    for (const session of sessions.values()) await session.end();
    await control.end();
  }
}

function checkSchema(
  first: { tables: readonly FixtureTable[]; line: number },
  now: readonly FixtureTable[],
  statement: WorkloadStatement | undefined,
): void {
  if (catalogText(first.tables) === catalogText(now)) return;
  const where = statement ? `line ${statement.line}` : 'after the last statement';
  throw new RecordError(
    `${where}: the published tables changed after the first transaction (line ${first.line}); a fixture has ` +
      'one schema, so do all DDL before the first data change',
  );
}

/** Drops the recorder's slot and publication (best effort: the database may be dropped next anyway). */
async function dropReplication(client: SqlClient): Promise<void> {
  await client
    .query(
      'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1',
      [RECORD_SLOT],
    )
    .catch(() => undefined);
  await client.query(`DROP PUBLICATION IF EXISTS ${RECORD_PUBLICATION}`).catch(() => undefined);
}
