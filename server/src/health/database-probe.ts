import { HEALTH_DB_TIMEOUT_MS } from '../constants.ts';
import { type SlotStatus, slotStatus } from '../db/setup.ts';
import type { SqlClient } from '../db/sql-client.ts';

/** What `GET /health` reports about the database (details only, see `HealthReport`). */
export interface DatabaseHealth {
  /** False when no `DATABASE_URL` is configured (nothing was probed). */
  readonly configured: boolean;
  /** True when the ReplicationDO's connection answered within the timeout. */
  readonly reachable: boolean;
  /** `SHOW wal_level` (`logical` is required for replication), or `null` when unreachable. */
  readonly walLevel: string | null;
  /** `SHOW server_version`, e.g. `18.4`, or `null` when unreachable. */
  readonly serverVersion: string | null;
  /** Wall-clock time of the probe, connect included, in milliseconds. */
  readonly latencyMs: number;
  /** When the probe ran (ISO 8601): answers within `HEALTH_CACHE_MS` of it share it. `null` when not probed. */
  readonly checkedAt: string | null;
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
  checkedAt: null,
};

/** One probe: the database's health and the replication slot's state (`null` when unreachable). */
export interface DatabaseProbe {
  readonly database: DatabaseHealth;
  readonly slot: SlotStatus | null;
}

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
 * Reads `wal_level`, `server_version` and the state of `slot` over the connection `open` returns — the
 * ReplicationDO's own long-lived one, so a probe opens no connection of its own while the database is up. Never
 * throws: failures and timeouts come back as `reachable: false`.
 *
 * @param timeoutMs upper bound for the whole probe, connect included (default `HEALTH_DB_TIMEOUT_MS`).
 */
export async function probeDatabase(
  open: () => Promise<SqlClient>,
  slot: string,
  timeoutMs: number = HEALTH_DB_TIMEOUT_MS,
): Promise<DatabaseProbe> {
  const started = Date.now();
  const checkedAt = new Date(started).toISOString();
  const guard = timeout(timeoutMs);
  try {
    const work = (async () => {
      const client = await open();
      const { rows } = await client.query<{ wal_level: string; server_version: string }>(
        "SELECT current_setting('wal_level') AS wal_level, current_setting('server_version') AS server_version",
      );
      return { settings: rows[0], slot: await slotStatus(client, slot) };
    })();
    work.catch(() => undefined); // the guard may win the race; the loser's rejection is expected
    const result = await Promise.race([work, guard.promise]);
    return {
      database: {
        configured: true,
        reachable: true,
        walLevel: result.settings?.wal_level ?? null,
        serverVersion: result.settings?.server_version ?? null,
        latencyMs: Date.now() - started,
        checkedAt,
      },
      slot: result.slot,
    };
  } catch (error) {
    return {
      database: {
        configured: true,
        reachable: false,
        walLevel: null,
        serverVersion: null,
        latencyMs: Date.now() - started,
        checkedAt,
        error: error instanceof Error ? error.message : String(error),
      },
      slot: null,
    };
  } finally {
    guard.cancel();
  }
}
