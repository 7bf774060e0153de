/**
 * The reference server: one HTTP server on 127.0.0.1 that accepts sync WebSockets for many cases at once, each
 * under its own path (`/cases/<id>/v1/sync?client_id=…`), and hands each connection to its case's host.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SYNC_CLIENT_ID_PARAM, SYNC_PATH, SYNC_SUBPROTOCOL } from '@vibestack/proto';
import { WebSocketServer } from 'ws';
import { CASE_PATH_PREFIX, TOKEN_SECRET_BYTES } from '../constants.ts';
import type { Case, Fixture } from '../proto.ts';
import { type CaseHost, createCaseHost } from './case-host.ts';
import { createTokenMint } from './token-mint.ts';

/** A case registered on the server. */
export interface RegisteredCase {
  readonly host: CaseHost;
  /** The base URL the client gets (`http://127.0.0.1:PORT/cases/<id>/`). */
  readonly baseUrl: string;
  /** A token the server accepts. */
  readonly token: string;
  /** Mints another token the server accepts for the case's user, different from every token of the run so far. */
  freshToken(): Promise<string>;
  /** Unregisters the case and ends its connections. */
  close(): void;
}

/** See {@link startReferenceServer}. */
export interface ReferenceServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Sets up a case and serves it under a new path. */
  register(fixture: Fixture, testCase: Case, trace?: (line: string) => void): Promise<RegisteredCase>;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** The largest frame the server reads off the socket (the core enforces the negotiated limit itself). */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Starts the reference server on a free port of 127.0.0.1.
 *
 * @example
 * const server = await startReferenceServer();
 * const c = await server.register(fixture, testCase);
 * // the client connects to c.baseUrl with c.token
 */
export async function startReferenceServer(): Promise<ReferenceServer> {
  const secret = new Uint8Array(randomBytes(TOKEN_SECRET_BYTES));
  const tokens = createTokenMint(secret);
  const cases = new Map<string, CaseHost>();
  let nextId = 1;
  /** The case an upgrade request is for, and its client id; undefined for any other request. */
  const target = (req: IncomingMessage): { host: CaseHost; clientId: string } | undefined => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = url.pathname.startsWith(CASE_PATH_PREFIX)
      ? url.pathname.slice(CASE_PATH_PREFIX.length).split('/')
      : [];
    const [id, ...rest] = match;
    const host = id === undefined ? undefined : cases.get(id);
    const clientId = url.searchParams.get(SYNC_CLIENT_ID_PARAM);
    if (host === undefined || `/${rest.join('/')}` !== SYNC_PATH || !clientId) return undefined;
    return { host, clientId };
  };
  const http: Server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not a sync endpoint\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD_BYTES,
    // A connection scripted `no_subprotocol` is answered without one (ws then sends no Sec-WebSocket-Protocol).
    handleProtocols: (protocols, req) =>
      protocols.has(SYNC_SUBPROTOCOL) && target(req)?.host.selectsSubprotocol() !== false
        ? SYNC_SUBPROTOCOL
        : false,
  });
  http.on('upgrade', (req, socket, head) => {
    const upgradeAt = Date.now();
    // A client that goes away mid-upgrade (or is cut by a `drop`) resets the socket: nothing to report.
    socket.on('error', () => undefined);
    const to = target(req);
    if (to === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => to.host.accept(ws, to.clientId, upgradeAt));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    async register(fixture, testCase, trace) {
      const id = String(nextId++);
      const host = createCaseHost(fixture, testCase, { secret, ...(trace ? { trace } : {}) });
      cases.set(id, host);
      const token = await tokens.mint();
      return {
        host,
        baseUrl: `${url}${CASE_PATH_PREFIX}${id}/`,
        token,
        freshToken: () => tokens.mint(),
        close() {
          cases.delete(id);
          host.close();
        },
      };
    },
    async close() {
      for (const host of cases.values()) host.close();
      cases.clear();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
