/**
 * The server side of the client's end-to-end tests: a fresh database in the run's shared Postgres cluster and the
 * real Worker in workerd (`wrangler dev`) over it, with dev tokens, and a crash (SIGKILL of wrangler and workerd)
 * and restart on the same persisted Durable Object storage and the same port, so running clients can reconnect
 * to the URL they were given. Test-only.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import {
  createTestDatabase,
  startWranglerDev,
  type TestDatabase,
  type WranglerDev,
} from '@vibestack/server/dev';
import pg from 'pg';

/** A table scope as `SYNC_SCOPES` takes it (server/src/core/scope/scope-config.ts). */
export interface E2eScope {
  readonly table: string;
  readonly rule:
    | { readonly kind: 'shared' }
    | { readonly kind: 'claim'; readonly column: string; readonly claim: string };
  readonly serverOnlyColumns?: readonly string[];
}

/** Options of {@link startE2eServer}. */
export interface E2eServerOptions {
  /** SQL run on the fresh database before the Worker starts (tables, seed rows). */
  readonly setup: string;
  /** `SYNC_SCOPES`. */
  readonly scopes: readonly E2eScope[];
  /** More Worker vars (e.g. `LOG_RETENTION_BYTES`). */
  readonly vars?: Readonly<Record<string, string>>;
  /** Receives wrangler's output lines (default: discarded). */
  readonly log?: (line: string) => void;
}

/** A running server for end-to-end tests. */
export interface E2eServer {
  readonly db: TestDatabase;
  /**
   * A session on the database that returns every value as Postgres text, under the protocol's text settings
   * (docs/protocol.md §7.3).
   */
  readonly sql: pg.Client;
  /** The Worker's base URL; the same after {@link E2eServer.restart}. */
  readonly url: string;
  /** A token for user `sub` (minted once per user by `/dev/token`, valid for a day, so also while workerd is down). */
  token(sub: string): Promise<string>;
  /** SIGKILLs wrangler and workerd (no shutdown of any kind); storage stays as the crash left it. */
  crash(): Promise<void>;
  /** Starts the Worker again on the same storage and port. */
  restart(): Promise<void>;
  /** The `/health` report's replication part. */
  replicationHealth(): Promise<{ logFloor: string | null; lastDurableLsn: string | null }>;
  /** Stops everything and drops the database. */
  close(): Promise<void>;
}

const SECRET = 'client-e2e-secret';

/** `SET` statements for the protocol's text settings (§7.3). */
export const TEXT_SETTINGS_SQL = Object.entries(TEXT_VALUE_SESSION_SETTINGS)
  .map(([k, v]) => `SET ${k} = '${v}'`)
  .join('; ');

/** Mints a token at `/dev/token`; retried a few times (a Worker reloading after a source change drops requests). */
async function fetchToken(url: string, sub: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${url}/dev/token?sub=${encodeURIComponent(sub)}`);
      return ((await response.json()) as { token: string }).token;
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Creates the database, runs `setup`, and starts the Worker over it. */
export async function startE2eServer(options: E2eServerOptions): Promise<E2eServer> {
  const db = await createTestDatabase();
  const sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  await sql.query(TEXT_SETTINGS_SQL);
  await sql.query(options.setup);
  const persistTo = mkdtempSync(join(tmpdir(), 'vibestack-client-e2e-'));
  const vars = {
    DATABASE_URL: db.url,
    JWT_SECRET: SECRET,
    VIBESTACK_DEV: '1',
    SYNC_SCOPES: JSON.stringify(options.scopes),
    ...options.vars,
  };
  const launch = (port?: number) =>
    startWranglerDev({
      vars,
      persistTo,
      ...(port === undefined ? {} : { port }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
  let worker: WranglerDev | undefined = await launch();
  const url = worker.url;
  const port = worker.port;
  const tokens = new Map<string, Promise<string>>();

  return {
    db,
    sql,
    url,
    token(sub) {
      let token = tokens.get(sub);
      if (token === undefined) {
        token = fetchToken(url, sub);
        tokens.set(sub, token);
        // A failed fetch is not cached: the client asks again on its next attempt.
        void token.catch(() => tokens.delete(sub));
      }
      return token;
    },
    async crash() {
      await worker?.kill();
      worker = undefined;
    },
    async restart() {
      if (worker !== undefined) throw new Error('the Worker is running');
      worker = await launch(port);
      if (worker.port !== port) {
        // Clients hold the old URL: a Worker on another port would leave them retrying forever.
        throw new Error(`port ${port} was taken; the restarted Worker listens on ${worker.port}`);
      }
    },
    async replicationHealth() {
      const body = (await (await fetch(`${url}/health`)).json()) as {
        replication?: { logFloor: string | null; lastDurableLsn: string | null };
      };
      return body.replication ?? { logFloor: null, lastDurableLsn: null };
    },
    async close() {
      await worker?.stop();
      worker = undefined;
      await sql.end();
      await db.drop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
