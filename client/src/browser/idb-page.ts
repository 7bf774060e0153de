/**
 * The page of the browser tests (`*.browser.test.ts`): an IndexedDB-backed PGlite kept in sync by the client,
 * exactly as an app would use them — the client gets no `WebSocket` option, so it uses the browser's own. The
 * test bundles this file (testing/page-bundle.ts), opens it in Chromium with the server URL, a token and a
 * database name in the query string (`PAGE_PARAMS`), and drives it through `window.vibestackPage` (page-api.ts).
 * The client starts only when the test calls `start()`, so the test can read what IndexedDB held first.
 */

import { PGlite } from '@electric-sql/pglite';
import { TEXT_VALUE_SESSION_SETTINGS } from '@vibestack/proto';
import type { ClientState, ClientStatus } from '../core/client-types.ts';
import { createSyncClient, type SyncClient } from '../sync-client.ts';
import { PAGE_PARAMS, type PageApi, type PageStatus } from './page-api.ts';

function param(name: string): string {
  const value = new URLSearchParams(location.search).get(name);
  if (value === null) throw new Error(`the page needs ?${name}=`);
  return value;
}

async function openDatabase(): Promise<PGlite> {
  const db = await PGlite.create(`idb://${param(PAGE_PARAMS.database)}`);
  // The test compares rows as Postgres text with the server's: print values the way the protocol does (§7.3).
  for (const [name, value] of Object.entries(TEXT_VALUE_SESSION_SETTINGS)) {
    await db.query('SELECT set_config($1, $2, false)', [name, value]);
  }
  return db;
}

const database = openDatabase();
let client: SyncClient | undefined;
let maxStagedRows = 0;
const states: ClientState[] = [];
const logs: string[] = [];

function track(status: ClientStatus): void {
  maxStagedRows = Math.max(maxStagedRows, status.snapshot?.stagedRows ?? 0);
  if (states.at(-1) !== status.state) states.push(status.state);
}

function plain(client: SyncClient): PageStatus {
  const { status } = client;
  return {
    state: status.state,
    appliedLsn: status.appliedLsn.toString(),
    stagedRows: status.snapshot?.stagedRows ?? 0,
    maxStagedRows,
    receivedBytes: client.stats.bytes,
    states: [...states],
    ...(status.error ? { error: status.error.message } : {}),
  };
}

const api: PageApi = {
  opened: database.then(() => undefined),
  async query(sql) {
    const db = await database;
    return (await db.query<unknown[]>(sql, [], { rowMode: 'array' })).rows;
  },
  async start() {
    if (client !== undefined) throw new Error('the sync client is already started');
    const started = await createSyncClient({
      url: param(PAGE_PARAMS.server),
      db: await database,
      token: param(PAGE_PARAMS.token),
      log: (level, message) => logs.push(`${level}: ${message}`),
    });
    client = started;
    track(started.status);
    started.subscribe(track);
    return plain(started);
  },
  status() {
    if (client === undefined) throw new Error('the sync client is not started');
    return plain(client);
  },
  logs: () => [...logs],
};
window.vibestackPage = api;
