/**
 * The network shell of the client: connects the sans-IO client session (`core/`) to a WebSocket and to the PGlite
 * store (`pglite/`). It carries out the session's effects — open and close sockets, send frames, run timers, run
 * apply works in local transactions and report their commits — and feeds every result back in. Works with the
 * browser's `WebSocket` and with Node's (`ws`, or the global one on Node 22+).
 */

import {
  ErrorCode,
  type Lsn,
  SYNC_CLIENT_ID_PARAM,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
  SyncError,
} from '@vibestack/proto';
import { createClientSession } from './core/client-session.ts';
import type { ClientConfig, ClientEffect, ClientEvent, ClientStatus } from './core/client-types.ts';
import { DEFAULT_SNAPSHOT_GROUP_ROWS } from './core/constants.ts';
import { type TablesChangedEvent, tablesChangedBy } from './core/table-changes.ts';
import {
  createSyncStore,
  type PGliteLike,
  type SyncStore,
  type SyncStoreOptions,
} from './pglite/sync-store.ts';

/** The part of the WebSocket API the shell uses (browser `WebSocket`, `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/**
 * A WebSocket constructor: the browser's, Node's global one, or the `ws` package's. The third argument is only
 * passed when {@link SyncClientOptions.perMessageDeflate} is set; it is the `ws` option of that name, and other
 * implementations ignore it.
 */
export type WebSocketFactory = new (
  url: string,
  protocols: string | string[],
  options?: { readonly perMessageDeflate?: boolean },
) => WebSocketLike;

/** Options of {@link createSyncClient}. */
export interface SyncClientOptions {
  /** The server's base URL (`https://…` or `http://…`; `ws(s)://` also accepted). */
  readonly url: string;
  /** The app's PGlite instance (any storage and extensions). Synced tables and `_vibestack` metadata live in it. */
  readonly db: PGliteLike;
  /**
   * A fixed token, or a function returning one, called before every connection attempt (`fresh`: the server
   * refused the last one, e.g. it expired). The server's refusal of a fixed token is final (FAILED): it is never
   * sent again (docs/protocol.md §4.3). A function that returns the refused token again is asked again after the
   * next backoff delay, without connecting; one that throws is retried with backoff too.
   */
  readonly token: string | ((fresh: boolean) => string | Promise<string>);
  /** The WebSocket constructor; default the global `WebSocket`. */
  readonly WebSocket?: WebSocketFactory;
  /**
   * Whether to offer WebSocket compression (permessage-deflate, RFC 7692), with the `ws` package; default: the
   * WebSocket implementation's default (`ws` and browsers offer it, and the Worker accepts it). Compression saves
   * bandwidth on slow links and costs CPU on both ends, most of it the server's: on a fast network, `false`
   * syncs faster (measured in `npm run bench`). Browsers always offer it; there this option has no effect.
   */
  readonly perMessageDeflate?: boolean;
  /** Receives the session's log lines; default none. */
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /** Options of the local store (client id generator; the `beforeCommit` test seam). */
  readonly store?: SyncStoreOptions;
  /**
   * Protocol, batching and reconnect settings of the session (`ClientConfig`): `initialCredit`, `maxFrameBytes`,
   * `schemaVersion`, `maxGroupChanges`, `snapshotGroupRows` (default here {@link DEFAULT_SNAPSHOT_GROUP_ROWS}),
   * `maxBackoffMs` (cap of the client's own reconnect delays; never shortens a server's `retry_after_ms`).
   */
  readonly session?: Pick<
    ClientConfig,
    | 'initialCredit'
    | 'maxFrameBytes'
    | 'schemaVersion'
    | 'maxGroupChanges'
    | 'snapshotGroupRows'
    | 'maxBackoffMs'
  >;
}

/** See {@link SyncClient.stats}. */
export interface SyncClientStats {
  frames: number;
  bytes: number;
  applies: number;
  decodeMs: number;
  applyMs: number;
}

/** A running sync client. */
export interface SyncClient {
  /** The current status (state, applied LSN, snapshot progress, last error). */
  readonly status: ClientStatus;
  /** Calls `listener` on every status change; returns the unsubscribe function. */
  subscribe(listener: (status: ClientStatus) => void): () => void;
  /**
   * Calls `listener` after every local commit that changed synced tables, with the tables and what changed in
   * each (a committed snapshot reports its tables as `replaced`). With `tables` (`'schema.name'` or `'name'` for
   * `public`), only commits touching one of them are reported, with only those tables. Returns the unsubscribe
   * function. Listeners run after the commit, so a query they make sees the change.
   */
  onTablesChanged(listener: (event: TablesChangedEvent) => void, tables?: readonly string[]): () => void;
  /**
   * Counters since the client started: frames and bytes received, local transactions committed, and the time
   * spent handling frames (decoding and the session, `decodeMs`) and in local apply transactions (`applyMs`).
   * For diagnostics and benchmarks.
   */
  readonly stats: Readonly<SyncClientStats>;
  /** Resolves once the local database has committed everything up to `lsn` (or rejects when the client fails). */
  waitForLsn(lsn: Lsn): Promise<void>;
  /**
   * Resolves when the client is LIVE and has committed everything up to the server's head at the time it was
   * reported caught up, so the local database holds at least the server's state at that moment.
   */
  whenLive(): Promise<void>;
  /** Closes the connection and stops reconnecting. Resolves when no local transaction is running. */
  stop(): Promise<void>;
}

/** The sync endpoint under `base`, keeping a path prefix of `base` (`https://host/app` → `wss://host/app/v1/sync`). */
export function socketUrl(base: string, clientId: string): string {
  const root = new URL(base.replace(/^http/, 'ws'));
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const url = new URL(SYNC_PATH.replace(/^\//, ''), root);
  url.searchParams.set(SYNC_CLIENT_ID_PARAM, clientId);
  return url.toString();
}

/** `url` without a user name and password, for messages. */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** How `ws` reports a refused upgrade in its error event. */
const UPGRADE_REFUSED = /Unexpected server response: (\d{3})/;

function frameBytes(data: unknown): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new SyncError(ErrorCode.MALFORMED_FRAME, 'a WebSocket message of an unknown kind');
}

/**
 * Starts keeping `db` in sync with the server at `url`.
 *
 * @example
 * const db = await PGlite.create('idb://my-app');
 * const client = await createSyncClient({ url: 'https://sync.example.com', db, token: () => getToken() });
 * await client.whenLive();
 */
export async function createSyncClient(options: SyncClientOptions): Promise<SyncClient> {
  const store: SyncStore = createSyncStore(options.db, options.store);
  const { clientId, resume } = await store.open();
  const session = createClientSession({
    snapshotGroupRows: DEFAULT_SNAPSHOT_GROUP_ROWS,
    ...options.session,
    clientId,
    resume,
    // §4.3: a refused token is never sent again, and a fixed string cannot be renewed.
    fixedToken: typeof options.token === 'string',
  });
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
  if (Socket === undefined)
    throw new TypeError('no WebSocket: pass options.WebSocket (e.g. the `ws` package)');

  let status: ClientStatus = { state: session.state, appliedLsn: resume.appliedLsn, caughtUpLsn: 0n };
  const listeners = new Set<(s: ClientStatus) => void>();
  const tableListeners = new Set<(e: TablesChangedEvent) => void>();
  const stats = { frames: 0, bytes: 0, applies: 0, decodeMs: 0, applyMs: 0 };
  let socket: WebSocketLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let applying: Promise<void> = Promise.resolve();

  // An application listener that throws must not stop the client: its error is logged.
  const notify = <T>(listener: (value: T) => void, value: T): void => {
    try {
      listener(value);
    } catch (error) {
      options.log?.('warn', `a listener threw: ${SyncError.from(error).message}`);
    }
  };

  // Events raised while effects are carried out (a listener, a synchronous connect failure) wait until the
  // effects of the current event are done, so effects (statuses above all) are carried out in order.
  const events: ClientEvent[] = [];
  let feeding = false;
  const feed = (event: ClientEvent): void => {
    events.push(event);
    if (feeding) return;
    feeding = true;
    try {
      for (let next = events.shift(); next !== undefined; next = events.shift()) {
        for (const effect of session.handle(next, Date.now())) carryOut(effect);
      }
    } finally {
      feeding = false;
    }
  };

  // The session decides what to do with the token (§4.3: a refused one is not sent again, it asks again later).
  const getToken = async (fresh: boolean): Promise<void> => {
    const source = options.token;
    let token: string;
    try {
      token = typeof source === 'string' ? source : await source(fresh);
    } catch (error) {
      // A token provider that failed (offline, auth server down) is retried with backoff like a failed connect.
      feed({ type: 'token-failed', reason: SyncError.from(error).message });
      return;
    }
    feed({ type: 'token', token });
  };

  const connect = (): void => {
    const url = socketUrl(options.url, clientId);
    const ws =
      options.perMessageDeflate === undefined
        ? new Socket(url, SYNC_SUBPROTOCOL)
        : new Socket(url, SYNC_SUBPROTOCOL, { perMessageDeflate: options.perMessageDeflate });
    ws.binaryType = 'arraybuffer';
    socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      if (socket === ws) feed({ type: 'socket-open', subprotocol: ws.protocol });
    });
    ws.addEventListener('message', (event) => {
      if (socket !== ws) return;
      const started = performance.now();
      const data = frameBytes(event.data);
      stats.frames++;
      stats.bytes += typeof data === 'string' ? data.length : data.byteLength;
      feed({ type: 'frame', data });
      stats.decodeMs += performance.now() - started;
    });
    let httpStatus: number | undefined;
    let reason: string | undefined;
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return;
      socket = undefined;
      feed(
        opened
          ? { type: 'socket-closed', code: event.code, reason: event.reason }
          : {
              type: 'connect-failed',
              url: withoutCredentials(url),
              ...(httpStatus === undefined ? {} : { httpStatus }),
              ...(reason === undefined ? {} : { reason }),
            },
      );
    });
    // A close event follows. Browsers hide why an upgrade failed; `ws` names the HTTP status (§9.3: a 4xx other
    // than 429 is a configuration error that retrying cannot fix) or the network error.
    ws.addEventListener('error', (event) => {
      if (opened) return;
      const message = (event as { message?: unknown })?.message;
      const status = UPGRADE_REFUSED.exec(String(message))?.[1];
      if (status !== undefined) httpStatus = Number(status);
      else if (typeof message === 'string' && message !== '') reason = message;
    });
  };

  const carryOut = (effect: ClientEffect): void => {
    switch (effect.type) {
      case 'get-token':
        void getToken(effect.fresh);
        return;
      case 'connect':
        connect();
        return;
      case 'send':
        socket?.send(effect.bytes);
        return;
      case 'close': {
        const ws = socket;
        socket = undefined;
        ws?.close(effect.code, effect.reason);
        return;
      }
      case 'set-timer': {
        clearTimeout(timer);
        timer = undefined;
        const { at } = effect;
        if (at === undefined) return;
        // The tick must come at or after `at` (the session does not ask again for the same time), but timers
        // round fractional delays down and may fire a little early: then wait the rest.
        const fire = (): void => {
          const early = at - Date.now();
          if (early > 0) timer = setTimeout(fire, Math.ceil(early));
          else feed({ type: 'tick' });
        };
        timer = setTimeout(fire, Math.max(0, Math.ceil(at - Date.now())));
        return;
      }
      case 'apply': {
        const { id, work } = effect;
        // Works run one after another; each answer goes back only after its local commit.
        applying = applying.then(() => {
          const started = performance.now();
          return store.apply(work).then(
            () => {
              stats.applyMs += performance.now() - started;
              stats.applies++;
              feed({ type: 'apply-done', id });
              const changed = tableListeners.size > 0 ? tablesChangedBy(work) : undefined;
              if (changed !== undefined) for (const l of tableListeners) notify(l, changed);
            },
            (error: unknown) => feed({ type: 'apply-failed', id, error: SyncError.from(error) }),
          );
        });
        return;
      }
      case 'status':
        status = effect.status;
        for (const l of listeners) notify(l, status);
        return;
      case 'log':
        options.log?.(effect.level, effect.message);
        return;
    }
  };

  const waitUntil = (done: (s: ClientStatus) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (s: ClientStatus) => {
        if (done(s)) {
          listeners.delete(check);
          resolve();
        } else if (s.state === 'FAILED' || s.state === 'STOPPED') {
          listeners.delete(check);
          reject(s.error ?? new SyncError(ErrorCode.UNAVAILABLE, `the sync client is ${s.state}`));
        }
      };
      listeners.add(check);
      check(status);
    });

  feed({ type: 'start' });
  return {
    get status() {
      return status;
    },
    get stats() {
      return { ...stats };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onTablesChanged(listener, tables) {
      const wanted = tables?.map((t) => (t.includes('.') ? t : `public.${t}`));
      const l =
        wanted === undefined
          ? listener
          : (e: TablesChangedEvent) => {
              const mine = e.tables.filter((t) => wanted.includes(`${t.schema}.${t.name}`));
              if (mine.length > 0) listener({ lsn: e.lsn, tables: mine });
            };
      tableListeners.add(l);
      return () => tableListeners.delete(l);
    },
    waitForLsn: (lsn) => waitUntil((s) => s.appliedLsn >= lsn),
    whenLive: () => waitUntil((s) => s.state === 'LIVE' && s.appliedLsn >= s.caughtUpLsn),
    async stop() {
      feed({ type: 'stop' });
      clearTimeout(timer);
      await applying;
    },
  };
}
