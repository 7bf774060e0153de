/**
 * The setup most real-workerd tests share: a fresh test database with an `items` table, the Worker in `wrangler
 * dev` on it (its log lines kept), dev tokens, protocol clients that are all terminated at the end, and a wait
 * for one inserted row to reach a client. Node only.
 */
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../node/test-database.ts';
import { startWranglerDev, type WranglerDev } from '../node/wrangler-dev.ts';
import { createItemsTable, ITEMS_SCOPES } from './items-writer.ts';
import { connectProtocolClient, type ProtocolClient, type ProtocolClientOptions } from './protocol-client.ts';

/** Options of {@link startItemsWorker}. */
export interface ItemsWorkerOptions {
  /** Rows in `items` (ids 1…rows). Default 5. */
  readonly rows?: number;
  /** Worker vars on top of `DATABASE_URL`, a dev `JWT_SECRET`, `VIBESTACK_DEV=1` and the items scope. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Runs on the database (superuser) before the Worker starts; returns vars that override the defaults. */
  readonly prepare?: (
    db: TestDatabase,
    sql: pg.Client,
  ) => Promise<Readonly<Record<string, string>> | undefined>;
}

/** A running Worker on its own database; see {@link startItemsWorker}. */
export interface ItemsWorker {
  readonly db: TestDatabase;
  /** A superuser connection to the database. */
  readonly sql: pg.Client;
  readonly worker: WranglerDev;
  /** Every line wrangler printed so far. */
  readonly lines: string[];
  /** A dev token (`/dev/token`) for `sub`. */
  token(sub: string): Promise<string>;
  /** A protocol client of user `sub` (answers pings, acks what it receives), terminated by `stop`. */
  connect(
    clientId: string,
    sub: string,
    options?: Partial<ProtocolClientOptions> & { token?: string },
  ): Promise<ProtocolClient>;
  /** Resolves once `predicate` holds for a log line (the log travels through wrangler's stdout), or after 5 s. */
  logged(predicate: (line: string) => boolean): Promise<boolean>;
  /** Ends the clients, the Worker and the database. */
  stop(): Promise<void>;
}

/** The dev-mode secret of {@link startItemsWorker}'s Worker. */
export const ITEMS_WORKER_SECRET = 'items-worker-secret-of-at-least-32-bytes';

/** Starts the Worker on a fresh database holding `items`. */
export async function startItemsWorker(options: ItemsWorkerOptions = {}): Promise<ItemsWorker> {
  const db = await createTestDatabase();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await createItemsTable(sql, options.rows ?? 5);
  const prepared = (await options.prepare?.(db, sql)) ?? {};
  const lines: string[] = [];
  const worker = await startWranglerDev({
    vars: {
      DATABASE_URL: db.url,
      JWT_SECRET: ITEMS_WORKER_SECRET,
      VIBESTACK_DEV: '1',
      SYNC_SCOPES: ITEMS_SCOPES,
      ...options.vars,
      ...prepared,
    },
    log: (line) => lines.push(line),
  });
  const clients: ProtocolClient[] = [];
  const token = async (sub: string) =>
    ((await (await fetch(`${worker.url}/dev/token?sub=${sub}`)).json()) as { token: string }).token;
  return {
    db,
    sql,
    worker,
    lines,
    token,
    async connect(clientId, sub, more = {}) {
      const c = await connectProtocolClient(worker.url, {
        clientId,
        answerPings: true,
        autoAck: true,
        ...more,
        token: more.token ?? (await token(sub)),
      });
      clients.push(c);
      return c;
    },
    async logged(predicate) {
      for (let i = 0; i < 100; i++) {
        if (lines.some(predicate)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    async stop() {
      for (const c of clients) c.terminate();
      await worker.stop();
      await sql.end();
      await db.drop();
    },
  };
}

/** Inserts item `id` and waits until `client` received the transaction with it. */
export async function insertAndReceive(
  sql: pg.Client,
  client: ProtocolClient,
  id: number,
  timeoutMs = 10_000,
): Promise<void> {
  const from = client.frames.length;
  await sql.query("INSERT INTO items VALUES ($1, 0, 'received')", [id]);
  await client.waitFor(
    (m) =>
      m.message.case === 'transaction' &&
      m.message.value.changes.some(
        (ch) => ch.kind.case === 'insert' && ch.kind.value.newRow?.values[0]?.kind.value === BigInt(id),
      ),
    timeoutMs,
    from,
  );
}
