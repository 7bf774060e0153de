/**
 * `vibestack-client query --dir DIR SQL`: runs SQL against the database directory and prints the rows of the
 * last statement as JSON (json-values.ts). Values are read as Postgres text — every type is given an identity
 * parser — under the protocol's text settings (docs/protocol.md §7.3: ISO dates, UTC, hex bytea), so the output
 * shows them as the server prints them.
 */

import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import type { QueryCommand } from './args.ts';
import { CliError } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { CLI_NAME, EXIT_OK, QUERY_SHARED_BUFFERS } from './constants.ts';
import { isDatabaseDirectory, lockDirectory } from './dir-lock.ts';
import { createTypeMapper, PG_TYPE_QUERY, type PgTypeRow, rowsToJson } from './json-values.ts';
import { phaseTimer } from './timing.ts';

/** The PGlite surface {@link queryToJson} needs. */
export type Queryable = Pick<PGlite, 'query' | 'exec'>;

/** Options of {@link queryToJson}. */
export interface QueryToJsonOptions {
  /** Allow writes; default false (`default_transaction_read_only`). */
  readonly write?: boolean;
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The Postgres error fields worth showing, psql style. */
function sqlErrorMessage(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; detail?: unknown; hint?: unknown };
  if (typeof e?.message !== 'string') return String(error);
  const lines = [`ERROR: ${e.message}${typeof e.code === 'string' ? ` (SQLSTATE ${e.code})` : ''}`];
  if (typeof e.detail === 'string') lines.push(`DETAIL: ${e.detail}`);
  if (typeof e.hint === 'string') lines.push(`HINT: ${e.hint}`);
  return lines.join('\n');
}

/**
 * Runs `sql` (one or more statements, no parameters) and returns the rows of the last statement as a JSON
 * array text. Session settings of `db` are changed (text settings, read-only unless `write`).
 *
 * @throws CliError with the Postgres message and SQLSTATE when the SQL fails.
 * @example
 * await queryToJson(db, 'SELECT 1::int8 AS n'); // → '[\n{"n":"1"}\n]'
 */
export async function queryToJson(
  db: Queryable,
  sql: string,
  options: QueryToJsonOptions = {},
): Promise<string> {
  const settings = Object.entries(TEXT_VALUE_SESSION_SETTINGS).map(([k, v]) => `SET ${k} = ${quote(v)};`);
  settings.push(`SET default_transaction_read_only = ${options.write === true ? 'off' : 'on'};`);
  await db.exec(settings.join('\n'));
  const { rows: types } = await db.query<PgTypeRow>(PG_TYPE_QUERY);
  // Every type the database knows gets the identity parser: PGlite's own parsers would turn int8 into a
  // number or bigint, timestamps into Dates and arrays into arrays, losing precision and form.
  const parsers: Record<number, (text: string) => string> = {};
  for (const t of types) parsers[t.oid] = (text) => text;
  let results: Awaited<ReturnType<Queryable['exec']>>;
  try {
    results = await db.exec(sql, { rowMode: 'array', parsers });
  } catch (error) {
    throw new CliError(sqlErrorMessage(error), undefined, { cause: error });
  }
  const last = results.at(-1);
  if (last === undefined) return '[]';
  const mapperOf = createTypeMapper(types);
  const columns = last.fields.map((f) => ({ name: f.name, mapping: mapperOf(f.dataTypeID) }));
  const rows = (last.rows as unknown as unknown[][]).map((row) =>
    row.map((value) => (value === null || typeof value === 'string' ? value : String(value))),
  );
  return rowsToJson(columns, rows);
}

/**
 * Opens the directory for one short query. Two settings make that start faster (`npm run bench -- cli-startup`:
 * together ~0.55 s less on a 2-core VM):
 * - V8 compiles PGlite's WebAssembly with its baseline compiler only (Liftoff). By default it also recompiles
 *   hot functions with its optimising compiler (TurboFan) on background threads, which in a process that lives
 *   for a second competes with the query for the CPU and delays the exit. The flag is read when a module is
 *   compiled, and PGlite's is compiled after this call. Even a 200k-row SELECT was no slower; a `sync` keeps the
 *   default, as its bulk applies ran 10–25 % slower on Liftoff alone.
 * - A small buffer cache: Postgres' 128 MB default is memory the process touches and returns at exit, and one
 *   query does not need it.
 */
function openForQuery(dir: string): Promise<PGlite> {
  setFlagsFromString('--liftoff-only');
  return PGlite.create(dir, {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${QUERY_SHARED_BUFFERS}`],
  });
}

/** Runs the `query` command; resolves to the exit code. */
export async function runQuery(command: QueryCommand, io: CliIo): Promise<number> {
  if (!(await isDatabaseDirectory(command.dir))) {
    throw new CliError(`no database in ${command.dir} (create it with "${CLI_NAME} sync")`);
  }
  const mark = phaseTimer(io.env, io.err);
  const sql = command.sql === '-' ? await io.readStdin() : command.sql;
  const lock = await lockDirectory(command.dir);
  mark('locked');
  try {
    const db = await openForQuery(command.dir);
    mark('database open');
    try {
      const json = await queryToJson(db, sql, { write: command.write });
      mark('query done');
      await io.out(`${json}\n`);
    } finally {
      await db.close();
      mark('database closed');
    }
  } finally {
    await lock.release();
  }
  return EXIT_OK;
}
