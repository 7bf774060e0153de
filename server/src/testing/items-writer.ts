/**
 * Test helpers for the end-to-end tests: an `items (id int PRIMARY KEY, v int NOT NULL, note text)` table, a
 * writer that keeps committing small transactions of inserts, updates and deletes into it (each one changes at
 * least one row, so each is one transaction in the change log), and a poll-until helper. Node only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** `SYNC_SCOPES` that syncs `public.items` to every user. */
export const ITEMS_SCOPES = JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]);

/** Creates `items` and inserts `rows` rows with ids 1…rows. */
export async function createItemsTable(sql: pg.Client, rows: number): Promise<void> {
  await sql.query('CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)');
  await sql.query("INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, $1::int) g", [rows]);
}

/** A running writer; see {@link startItemsWriter}. */
export interface ItemsWriter {
  /** Transactions committed so far. */
  committed(): number;
  /** Resolves once `n` more transactions than now have committed. */
  advance(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Stops after the transaction in flight; resolves with the number committed, or rejects with the writer's
   * failure. Idempotent.
   */
  stop(): Promise<number>;
}

/** Options of {@link startItemsWriter}. */
export interface ItemsWriterOptions {
  /** Pause between transactions, ms (default 5): keeps the writer from starving workerd on 2 cores. */
  readonly pauseMs?: number;
}

/**
 * Starts committing transactions of 1–3 statements into `items` on its own connection: inserts of new ids
 * (counting up from the largest id present), updates (`v = v + 1`, a new note) and deletes of present rows.
 */
export async function startItemsWriter(url: string, options: ItemsWriterOptions = {}): Promise<ItemsWriter> {
  const pauseMs = options.pauseMs ?? 5;
  let failure: unknown;
  const client = new pg.Client({ connectionString: url });
  // A connection lost between queries (the database dropped or stopped) fails the writer, not the process.
  client.on('error', (error) => {
    failure ??= error;
  });
  await client.connect();
  const ids = (await client.query<{ id: number }>('SELECT id FROM items WHERE id > 0')).rows.map((r) => r.id);
  let next = Math.max(0, ...ids) + 1;
  let committed = 0;
  let running = true;
  const pick = () => ids[Math.floor(Math.random() * ids.length)]!;

  const transaction = async (): Promise<void> => {
    const statements = 1 + Math.floor(Math.random() * 3);
    const inserted: number[] = [];
    const deleted = new Set<number>();
    await client.query('BEGIN');
    for (let i = 0; i < statements; i++) {
      const op = Math.random();
      const id = pick();
      if (op < 0.4 || ids.length - deleted.size < 10 || deleted.has(id)) {
        await client.query('INSERT INTO items VALUES ($1, 1, $2)', [next, `new ${next}`]);
        inserted.push(next++);
      } else if (op < 0.8) {
        await client.query('UPDATE items SET v = v + 1, note = $2 WHERE id = $1', [id, `upd ${committed}`]);
      } else {
        await client.query('DELETE FROM items WHERE id = $1', [id]);
        deleted.add(id);
      }
    }
    await client.query('COMMIT');
    committed++;
    ids.push(...inserted);
    if (deleted.size > 0) {
      const kept = ids.filter((x) => !deleted.has(x));
      ids.length = 0;
      ids.push(...kept);
    }
  };

  const loop = (async () => {
    while (running) {
      await transaction();
      if (pauseMs > 0) await sleep(pauseMs);
    }
  })();
  loop.catch((error: unknown) => {
    failure ??= error; // surfaced by advance() and stop()
  });

  let stopping: Promise<number> | undefined;
  return {
    committed: () => committed,
    async advance(n, timeoutMs = 30_000) {
      const target = committed + n;
      await waitUntil(
        () => {
          if (failure !== undefined) throw failure;
          return committed >= target;
        },
        timeoutMs,
        `${n} more writer commits`,
      );
    },
    stop() {
      stopping ??= (async () => {
        running = false;
        try {
          await loop;
        } finally {
          await client.end().catch(() => undefined);
        }
        return committed;
      })();
      return stopping;
    },
  };
}

/** Polls `condition` every 20 ms until it holds; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
