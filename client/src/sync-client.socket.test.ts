/**
 * The shell against scripted peers on real sockets (Node `http` and `ws`): what it makes of a refused WebSocket
 * upgrade (§9.3), of a refused fixed token and of a token function that returns a refused token (§4.3), and the
 * session settings in its Hello. The full protocol runs
 * in `sync-client.e2e.test.ts`.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import {
  closeCodeForError,
  decodeClientFrame,
  ErrorCode,
  encodeServerFrame,
  SYNC_SUBPROTOCOL,
} from '@vibestack/proto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ClientStatus } from './core/client-types.ts';
import { serverError } from './core/testing/server-frames.ts';
import { createSyncClient, type SyncClient, type WebSocketFactory } from './sync-client.ts';

let db: PGlite;
let server: Server | undefined;
let client: SyncClient | undefined;
beforeAll(async () => {
  db = await PGlite.create();
});
afterAll(() => db.close());
afterEach(async () => {
  await client?.stop();
  client = undefined;
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** Starts `server` on a free port; returns its base URL. */
async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function start(url: string, token: SyncClientToken): Promise<SyncClient> {
  client = await createSyncClient({ url, db, token, WebSocket: WebSocket as unknown as WebSocketFactory });
  return client;
}
type SyncClientToken = Parameters<typeof createSyncClient>[0]['token'];

const settled = (c: SyncClient, done: (s: ClientStatus) => boolean) =>
  new Promise<ClientStatus>((resolve) => {
    const check = (s: ClientStatus) => done(s) && resolve(s);
    c.subscribe(check);
    check(c.status);
  });

it('stops (FAILED) when the upgrade is refused with a 4xx other than 429', async () => {
  let attempts = 0;
  const url = await listen(
    createServer((_, res) => {
      attempts++;
      res.writeHead(404).end('no such path');
    }),
  );
  // The message names the URL tried, without credentials.
  const c = await start(url.replace('http://', 'http://user:secret@'), 't');
  const s = await settled(c, (x) => x.state === 'FAILED');
  expect(s.error?.rawMessage).toMatch(
    new RegExp(
      `^the WebSocket upgrade at ${url.replace('http', 'ws')}/v1/sync\\?client_id=[^ ]+ failed \\(HTTP 404\\)$`,
    ),
  );
  expect(s.error?.message).not.toContain('secret');
  expect(attempts).toBe(1);
});

it('names the URL and the network error when nothing listens', async () => {
  const url = await listen(createServer());
  await new Promise((r) => server!.close(r));
  server = undefined;
  const c = await start(url, 't');
  const s = await settled(c, (x) => x.state === 'BACKOFF');
  expect(s.error?.rawMessage).toMatch(
    new RegExp(
      `^the WebSocket upgrade at ${url.replace('http', 'ws')}/v1/sync\\?client_id=\\S+ failed \\(no connection: connect ECONNREFUSED`,
    ),
  );
});

it('keeps retrying when the upgrade fails with a 5xx', async () => {
  const url = await listen(createServer((_, res) => res.writeHead(503).end('busy')));
  const c = await start(url, 't');
  const states: string[] = [];
  c.subscribe((x) => states.push(x.state));
  const s = await settled(c, () => states.filter((x) => x === 'BACKOFF').length >= 3);
  expect(s.error?.message).toContain('503');
  expect(states).not.toContain('FAILED');
});

/** A peer that refuses every token: Error(UNAUTHENTICATED) and close 4001, as the server does (§4.3). */
function refusingPeer(tokens: string[]): Server {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, handleProtocols: () => SYNC_SUBPROTOCOL });
  wss.on('connection', (ws) => {
    ws.once('message', (data: Buffer) => {
      tokens.push(data.toString('latin1'));
      ws.send(encodeServerFrame(serverError(ErrorCode.UNAUTHENTICATED, true)));
      ws.close(closeCodeForError(ErrorCode.UNAUTHENTICATED), 'unauthenticated');
    });
  });
  http.on('close', () => wss.close());
  return http;
}

it('fails with UNAUTHENTICATED at once, without sending it again, when a fixed token is refused', async () => {
  const hellos: string[] = [];
  const c = await start(await listen(refusingPeer(hellos)), 'fixed-token');
  const states: string[] = [];
  c.subscribe((x) => states.push(x.state));
  const s = await settled(c, (x) => x.state === 'FAILED');
  expect(states).toEqual(['AWAIT_WELCOME', 'FAILED']); // no BACKOFF and no reconnect first
  expect(s.error?.code).toBe(ErrorCode.UNAUTHENTICATED);
  expect(hellos).toHaveLength(1);
  await new Promise((r) => setTimeout(r, 50));
  expect(c.status.state).toBe('FAILED'); // and stays so
  expect(hellos[0]).toContain('fixed-token');
});

it('asks a token function for a fresh token after a refusal', async () => {
  const hellos: string[] = [];
  const asked: boolean[] = [];
  const c = await start(await listen(refusingPeer(hellos)), (fresh) => {
    asked.push(fresh);
    return `token-${asked.length}`;
  });
  await settled(c, () => asked.length >= 2);
  expect(asked.slice(0, 2)).toEqual([false, true]);
  expect(c.status.state).not.toBe('FAILED');
});

it('never sends a refused token again: asks the token function again after a backoff, without connecting', async () => {
  const hellos: string[] = [];
  const asked: boolean[] = [];
  const warnings: string[] = [];
  client = await createSyncClient({
    url: await listen(refusingPeer(hellos)),
    db,
    // The first three answers are the same token; then another, which is refused too and returned for ever.
    token: (fresh) => {
      asked.push(fresh);
      return asked.length <= 3 ? 'token-a' : 'token-b';
    },
    WebSocket: WebSocket as unknown as WebSocketFactory,
    log: (level, message) => level === 'warn' && warnings.push(message),
    session: { maxBackoffMs: 5 }, // the backoff windows would reach seconds by the 8th attempt
  });
  const s = await settled(client, () => asked.length >= 8);
  expect(s.state).not.toBe('FAILED');
  expect(s.error?.code).toBe(ErrorCode.UNAUTHENTICATED);
  expect(asked.slice(0, 8)).toEqual([false, true, true, true, true, true, true, true]);
  expect(hellos).toHaveLength(2);
  expect(hellos[0]).toContain('token-a');
  expect(hellos[1]).toContain('token-b');
  // Once per refusal.
  const again = 'the token source returned the token the server refused; waiting for a fresh one';
  expect(warnings.filter((w) => w === again)).toHaveLength(2);
});

it('sends the session settings it was given in its Hello', async () => {
  const hellos: unknown[] = [];
  const http = createServer();
  const wss = new WebSocketServer({ server: http, handleProtocols: () => SYNC_SUBPROTOCOL });
  wss.on('connection', (ws) => {
    ws.once('message', (data: Buffer) => {
      const m = decodeClientFrame(new Uint8Array(data), 1 << 20).message;
      if (m.case === 'hello') hellos.push(m.value);
      ws.close(1000);
    });
  });
  http.on('close', () => wss.close());
  client = await createSyncClient({
    url: await listen(http),
    db,
    token: 't',
    WebSocket: WebSocket as unknown as WebSocketFactory,
    session: { initialCredit: 7, maxFrameBytes: 1 << 18, schemaVersion: 'v42' },
  });
  await settled(client, () => hellos.length > 0);
  expect(hellos[0]).toMatchObject({ initialCredit: 7, maxFrameBytes: 1 << 18, schemaVersion: 'v42' });
});

it('offers permessage-deflate by default and not with perMessageDeflate: false', async () => {
  const offered: (string | undefined)[] = [];
  const url = await listen(
    createServer((req, res) => {
      offered.push(req.headers['sec-websocket-extensions']);
      res.writeHead(503).end('busy');
    }),
  );
  const once = async (perMessageDeflate?: boolean) => {
    const before = offered.length;
    client = await createSyncClient({
      url,
      db,
      token: 't',
      WebSocket: WebSocket as unknown as WebSocketFactory,
      ...(perMessageDeflate === undefined ? {} : { perMessageDeflate }),
    });
    await settled(client, () => offered.length > before);
    await client.stop();
    client = undefined;
    return offered.at(-1);
  };
  expect(await once()).toContain('permessage-deflate');
  expect(await once(false)).toBeUndefined();
  expect(await once(true)).toContain('permessage-deflate');
});
