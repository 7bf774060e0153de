/**
 * The contract between the browser test page (`idb-page.ts`, bundled and run in Chromium) and the Node side of
 * the browser tests: the page's query parameters and the API it puts on `window` for `page.evaluate`. Types and
 * constants only, so both sides import it.
 */

import type { ClientState } from '../core/client-types.ts';

/** Query parameters of the page. */
export const PAGE_PARAMS = {
  /** The server's base URL (`http://127.0.0.1:<port>`). */
  server: 'server',
  /** A token for the server (fetched by the test: the Worker's dev route need not allow cross-origin fetches). */
  token: 'token',
  /** The IndexedDB database name; the page opens PGlite at `idb://<name>`. */
  database: 'db',
} as const;

/** A sync client status as plain JSON (LSNs as decimal strings), plus what the page saw since `start()`. */
export interface PageStatus {
  readonly state: ClientState;
  /** The applied LSN, decimal. */
  readonly appliedLsn: string;
  /** Rows staged by the current initial sync (0 outside one). */
  readonly stagedRows: number;
  /** The most rows staged at any status since `start()`: 0 means no snapshot was downloaded. */
  readonly maxStagedRows: number;
  /** Bytes of frames the client received since `start()` (its `stats.bytes`). */
  readonly receivedBytes: number;
  /** Every state entered since `start()`, in order (repeats collapsed). */
  readonly states: readonly ClientState[];
  /** The last error's message, if any. */
  readonly error?: string;
}

/** What the page puts on `window.vibestackPage`. */
export interface PageApi {
  /** Resolves once PGlite has opened its IndexedDB database (the sync client is not started yet). */
  readonly opened: Promise<void>;
  /** Runs one SQL statement on the page's PGlite; rows as arrays (cast columns to text to compare them). */
  query(sql: string): Promise<unknown[][]>;
  /** Starts the sync client (the browser's own `WebSocket`); resolves with its first status (the stored resume). */
  start(): Promise<PageStatus>;
  /** The current status; throws before `start()`. */
  status(): PageStatus;
  /** The sync client's log lines so far. */
  logs(): readonly string[];
}

declare global {
  interface Window {
    vibestackPage?: PageApi;
  }
}
