/**
 * The client in a real browser: Debian's Chromium (playwright-core) runs a page that keeps an IndexedDB-backed
 * PGlite in sync with the real Worker (workerd) and real Postgres, over the browser's own WebSocket. The page
 * syncs a table with assorted types, follows a live change, and after a reload (same IndexedDB) finds its rows
 * before connecting and resumes from its applied LSN without a new snapshot; a change made on the server while
 * the page was away arrives when it comes back.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYNC_PATH, TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import {
  createTestDatabase,
  startWranglerDev,
  type TestDatabase,
  type WranglerDev,
} from '@vibestack/server/dev';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PAGE_PARAMS, type PageStatus } from './page-api.ts';
import { type Chromium, launchChromium } from './testing/chromium.ts';
import { buildPage, type PageBundle } from './testing/page-bundle.ts';
import { type StaticServer, serveDirectory } from './testing/static-server.ts';

const SECRET = 'client-browser-secret';
const ROWS = 3000;
/** The page's IndexedDB-backed PGlite: `idb://<name>`. */
const DATABASE_NAME = 'browser-idb-sync';
const COLUMNS = ['id', 'title', 'done', 'score', 'ratio', 'at', 'day', 'tags', 'doc', 'blob', 'uid'];
/** Rows as Postgres text, in key order: the same query on either database. */
const ROWS_QUERY = `SELECT ${COLUMNS.map((c) => `${c}::text`).join(', ')} FROM items ORDER BY id`;
/** Waits on a machine shared with other test runs: PGlite boots in seconds, more under load. */
const WAIT_MS = 120_000;

let db: TestDatabase;
let sql: pg.Client;
let worker: WranglerDev;
let outDir: string;
let bundle: PageBundle;
let site: StaticServer;
let browser: Chromium;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await sql.connect();
  for (const [name, value] of Object.entries(TEXT_VALUE_SESSION_SETTINGS)) {
    await sql.query('SELECT set_config($1, $2, false)', [name, value]);
  }
  await sql.query(`CREATE TABLE items (id int PRIMARY KEY, title text, done boolean NOT NULL DEFAULT false,
    score numeric, ratio float8, at timestamptz, day date, tags text[], doc jsonb, blob bytea, uid uuid)`);
  await sql.query(
    `INSERT INTO items SELECT g, 'item ' || g || ' – ünïcødé ✓', g % 2 = 0,
      CASE WHEN g % 10 = 0 THEN NULL ELSE g * 1.5 END, g / 7.0::float8,
      '2026-01-01'::timestamptz + g * interval '1 hour', '2026-01-01'::date + g, ARRAY['a', 'b' || g, NULL],
      jsonb_build_object('n', g, 's', 'x' || g), decode(md5(g::text), 'hex'), md5(g::text)::uuid
    FROM generate_series(1, $1::int) g`,
    [ROWS],
  );
  outDir = mkdtempSync(join(tmpdir(), 'vibestack-browser-page-'));
  [worker, bundle, browser] = await Promise.all([
    startWranglerDev({
      vars: {
        DATABASE_URL: db.url,
        JWT_SECRET: SECRET,
        VIBESTACK_DEV: '1',
        SYNC_SCOPES: JSON.stringify([{ table: 'public.items', rule: { kind: 'shared' } }]),
      },
    }),
    buildPage(fileURLToPath(new URL('./idb-page.ts', import.meta.url)), outDir),
    launchChromium(),
  ]);
  site = await serveDirectory(outDir);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.stop();
  await sql?.end();
  await db?.drop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function serverRows(): Promise<string[]> {
  const { rows } = await sql.query({ text: ROWS_QUERY, rowMode: 'array' });
  return rows.map((r: unknown[]) => JSON.stringify(r));
}

async function pageRows(page: Page): Promise<string[]> {
  const rows = await page.evaluate((query) => window.vibestackPage!.query(query), ROWS_QUERY);
  return rows.map((r) => JSON.stringify(r));
}

const status = (page: Page): Promise<PageStatus> => page.evaluate(() => window.vibestackPage!.status());

/** Polls `check` with the page's status until it holds; on timeout fails with the status and the client's log. */
async function waitForStatus(
  page: Page,
  what: string,
  check: (s: PageStatus) => boolean,
): Promise<PageStatus> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const s = await status(page);
    if (check(s)) return s;
    if (Date.now() > deadline || s.state === 'FAILED') {
      const logs = await page.evaluate(() => window.vibestackPage!.logs());
      throw new Error(`page not ${what}: ${JSON.stringify(s)}\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the page's rows equal the server's (the client applies asynchronously). */
async function converges(page: Page): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const [mine, theirs] = [await pageRows(page), await serverRows()];
    if (JSON.stringify(mine) === JSON.stringify(theirs)) return;
    if (Date.now() > deadline) {
      expect(mine).toEqual(theirs);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The WebSockets the page opened, as the browser saw them (CDP reports only the browser's own WebSocket). */
interface SocketRecord {
  readonly url: string;
  receivedBytes: number;
}

it('syncs into IndexedDB-backed PGlite in Chromium and resumes after a reload without a new snapshot', async () => {
  // The client must use the browser's WebSocket: the bundle holds no `ws`, and the browser sees the socket.
  expect(bundle.moduleIds.filter((id) => /[/\\]node_modules[/\\]ws[/\\]/.test(id))).toEqual([]);
  expect(bundle.moduleIds.some((id) => id.endsWith('sync-client.ts'))).toBe(true);

  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors: Error[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  const sockets: SocketRecord[] = [];
  page.on('websocket', (ws) => {
    const record: SocketRecord = { url: ws.url(), receivedBytes: 0 };
    sockets.push(record);
    ws.on('framereceived', ({ payload }) => {
      record.receivedBytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    });
  });
  const token = ((await (await fetch(`${worker.url}/dev/token?sub=u1`)).json()) as { token: string }).token;
  const pageUrl = new URL(site.url);
  pageUrl.searchParams.set(PAGE_PARAMS.server, worker.url);
  pageUrl.searchParams.set(PAGE_PARAMS.token, token);
  pageUrl.searchParams.set(PAGE_PARAMS.database, DATABASE_NAME);
  /** Loads the page and waits until PGlite has opened IndexedDB (the client is not started yet). */
  const open = async (load: () => Promise<unknown>): Promise<void> => {
    await load();
    await page.waitForFunction(() => window.vibestackPage !== undefined);
    await page.evaluate(() => window.vibestackPage!.opened);
  };
  const start = () => page.evaluate(() => window.vibestackPage!.start());

  // 1. Initial sync into a fresh IndexedDB; PGlite's wasm and data files come from the bundle's assets.
  await open(() => page.goto(pageUrl.href));
  for (const kind of ['.wasm', '.data']) {
    const served = site.requests.filter((r) => r.path.endsWith(kind));
    expect(served.length, `${kind} assets requested`).toBeGreaterThan(0);
    expect(served.every((r) => r.status === 200)).toBe(true);
  }
  expect(await page.evaluate(() => WebSocket.toString().includes('[native code]'))).toBe(true);
  expect((await start()).appliedLsn).toBe('0');
  const live = await waitForStatus(page, 'LIVE', (s) => s.state === 'LIVE');
  expect(live.maxStagedRows).toBeGreaterThan(0);
  expect(live.states).toContain('SNAPSHOT');
  expect(sockets.map((s) => new URL(s.url).pathname)).toEqual([SYNC_PATH]);
  expect(new URL(sockets[0]!.url).host).toBe(new URL(worker.url).host);
  await converges(page);
  expect((await pageRows(page)).length).toBe(ROWS);
  const idbNames = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
  expect(idbNames.some((name) => name.endsWith(DATABASE_NAME))).toBe(true);
  const snapshotBytes = sockets[0]!.receivedBytes;
  // The client counts the bytes the browser saw (frames are binary; nothing else is sent to the page).
  expect((await status(page)).receivedBytes).toBe(snapshotBytes);

  // 2. A live change.
  await sql.query("INSERT INTO items (id, title, tags) VALUES (5000, 'live', '{x,\"y z\"}')");
  await sql.query(
    "UPDATE items SET title = 'changed', score = 'NaN', doc = doc || '{\"u\": 1}' WHERE id % 100 = 0",
  );
  await sql.query('DELETE FROM items WHERE id BETWEEN 10 AND 19');
  await converges(page);

  // 3a. Reload: the rows are in IndexedDB before the client connects; it resumes from its applied LSN (CATCH_UP),
  // staging nothing.
  const beforeReload = BigInt((await status(page)).appliedLsn);
  expect(beforeReload).toBeGreaterThan(0n);
  await open(() => page.reload());
  expect(sockets).toHaveLength(1);
  expect(await pageRows(page)).toEqual(await serverRows());
  const resumed = await start();
  expect(BigInt(resumed.appliedLsn)).toBeGreaterThanOrEqual(beforeReload);
  const reloaded = await waitForStatus(page, 'LIVE after the reload', (s) => s.state === 'LIVE');
  expect(reloaded.maxStagedRows).toBe(0);
  expect(reloaded.states).not.toContain('SNAPSHOT');
  expect(BigInt(reloaded.appliedLsn)).toBeGreaterThanOrEqual(BigInt(resumed.appliedLsn));
  expect(reloaded.receivedBytes).toBeLessThan(snapshotBytes / 10);
  await converges(page);

  // 3b. The page goes away; the server changes; the page comes back and catches up from IndexedDB's LSN.
  const rowsBeforeAway = await pageRows(page);
  const beforeAway = BigInt((await status(page)).appliedLsn);
  await page.goto('about:blank');
  await sql.query("UPDATE items SET done = NOT done, title = 'while away' WHERE id <= 100");
  await sql.query("INSERT INTO items (id, title, day) VALUES (6000, 'away', '2026-06-01')");
  const socketsBeforeBack = sockets.length;
  await open(() => page.goto(pageUrl.href));
  expect(sockets).toHaveLength(socketsBeforeBack);
  expect(await pageRows(page)).toEqual(rowsBeforeAway);
  const back = await start();
  expect(BigInt(back.appliedLsn)).toBeGreaterThanOrEqual(beforeAway);
  await converges(page);
  const caughtUp = await waitForStatus(page, 'LIVE after coming back', (s) => s.state === 'LIVE');
  expect(caughtUp.maxStagedRows).toBe(0);
  expect(caughtUp.states).not.toContain('SNAPSHOT');
  expect(BigInt(caughtUp.appliedLsn)).toBeGreaterThan(beforeAway);
  expect(caughtUp.receivedBytes).toBeLessThan(snapshotBytes / 10);
  // One socket per page load, each to the sync endpoint; after the first, a few changes' worth of bytes each (the
  // snapshot was ~0.5 MB), not the snapshot again.
  expect(sockets.map((s) => new URL(s.url).pathname)).toEqual([SYNC_PATH, SYNC_PATH, SYNC_PATH]);
  for (const s of sockets.slice(1)) expect(s.receivedBytes).toBeLessThan(snapshotBytes / 10);

  expect(pageErrors).toEqual([]);
}, 300_000);
