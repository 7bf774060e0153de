/**
 * The part of a `SqlClient` both drivers share: `pg` and `@neondatabase/serverless` expose the same node-postgres
 * client API, so one adapter turns either into the port (raw text values, session settings, `SqlError`s).
 */

import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import type { SqlClient, SqlResult, SqlText } from './sql-client.ts';
import { SqlError } from './sql-error.ts';

/** A query as node-postgres takes it. */
export interface DriverQueryConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
}

/** The slice of a node-postgres `Client` the adapter uses (both drivers have it). */
export interface DriverClient {
  connect(): Promise<void>;
  query(config: DriverQueryConfig): Promise<{ rows: unknown[]; rowCount: number | null }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * node-postgres `types` option that returns every value exactly as the server sent it: text results stay the
 * Postgres output string (nothing is parsed into numbers, dates or Buffers).
 */
export const RAW_TEXT_TYPES = {
  getTypeParser:
    () =>
    (value: string): string =>
      value,
};

/** Default upper bound for connecting, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default `application_name`. */
export const DEFAULT_APPLICATION_NAME = 'vibestack';

function sessionSettingsQuery(): DriverQueryConfig {
  const entries = Object.entries(TEXT_VALUE_SESSION_SETTINGS);
  const calls = entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`);
  return { text: `SELECT ${calls.join(', ')}`, values: entries.flat() };
}

/**
 * Connects `driver`, applies `TEXT_VALUE_SESSION_SETTINGS` for the whole session and returns the port.
 * On failure the driver client is closed and a {@link SqlError} thrown.
 */
export async function startDriverSession(driver: DriverClient): Promise<SqlClient> {
  // A socket error while idle is emitted as an event; without a listener it would crash the isolate. The next
  // query fails with the driver's "not queryable" error instead.
  driver.on('error', () => undefined);
  let ending: Promise<void> | undefined;
  const end = (): Promise<void> => {
    ending ??= driver.end().catch(() => undefined);
    return ending;
  };
  try {
    await driver.connect();
    await driver.query(sessionSettingsQuery());
  } catch (error) {
    await end();
    throw SqlError.from(error);
  }

  const run = async (config: DriverQueryConfig): Promise<SqlResult<unknown>> => {
    try {
      const result = await driver.query(config);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw SqlError.from(error);
    }
  };
  const config = (text: string, params: readonly unknown[] | undefined): DriverQueryConfig =>
    params === undefined ? { text } : { text, values: [...params] };

  return {
    query: <R>(text: string, params?: readonly unknown[]) =>
      run(config(text, params)) as Promise<SqlResult<R>>,
    queryArrays: (text, params) =>
      run({ ...config(text, params), rowMode: 'array' }) as Promise<SqlResult<SqlText[]>>,
    end,
  };
}
