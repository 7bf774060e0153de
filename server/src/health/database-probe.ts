import pg from 'pg';
import { HEALTH_DB_TIMEOUT_MS } from '../constants.ts';

/** What `GET /health` reports about the database. */
export interface DatabaseHealth {
  /** False when no `DATABASE_URL` is configured (nothing was probed). */
  readonly configured: boolean;
  /** True when a connection was opened and a query answered within the timeout. */
  readonly reachable: boolean;
  /** `SHOW wal_level` (`logical` is required for replication), or `null` when unreachable. */
  readonly walLevel: string | null;
  /** `SHOW server_version`, e.g. `18.4`, or `null` when unreachable. */
  readonly serverVersion: string | null;
  /** Wall-clock time of the probe, connect included, in milliseconds. */
  readonly latencyMs: number;
  /** Why the database is unreachable (driver message; never contains the password). */
  readonly error?: string;
}

/** Reported when no database is configured. */
export const DATABASE_NOT_CONFIGURED: DatabaseHealth = {
  configured: false,
  reachable: false,
  walLevel: null,
  serverVersion: null,
  latencyMs: 0,
};

function timeout(ms: number): { promise: Promise<never>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${ms} ms`)), ms);
  });
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
  };
  return { promise, cancel };
}

/**
 * Connects to `databaseUrl` over TCP (`pg`; in workerd through `nodejs_compat` sockets), reads `wal_level` and
 * `server_version`, and disconnects. Never throws: failures and timeouts come back as `reachable: false`.
 *
 * @param timeoutMs upper bound for the whole probe (default 2000 ms).
 */
export async function probeDatabase(
  databaseUrl: string,
  timeoutMs: number = HEALTH_DB_TIMEOUT_MS,
): Promise<DatabaseHealth> {
  const started = Date.now();
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A socket error after the probe finished (e.g. the server went away) must not become an uncaught error.
  client.on('error', () => undefined);
  const guard = timeout(timeoutMs);
  try {
    const work = (async () => {
      await client.connect();
      const { rows } = await client.query<{ wal_level: string; server_version: string }>(
        "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version') AS server_version",
      );
      return rows[0];
    })();
    work.catch(() => undefined); // the guard may win the race; the loser's rejection is expected
    const row = await Promise.race([work, guard.promise]);
    return {
      configured: true,
      reachable: true,
      walLevel: row?.wal_level ?? null,
      serverVersion: row?.server_version ?? null,
      latencyMs: Date.now() - started,
    };
  } catch (error) {
    return {
      configured: true,
      reachable: false,
      walLevel: null,
      serverVersion: null,
      latencyMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    guard.cancel();
    client.end().catch(() => undefined);
  }
}
