import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import {
  encodeServerFrame,
  type Lsn,
  ServerMessageSchema,
  SYNC_SUBPROTOCOL,
  WelcomeSchema,
} from '@vibestack/proto';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { tappedWebSocket } from './tapped-socket.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(s.address() as AddressInfo).port}/v1/sync`;
}

function taps() {
  const welcomes: Lsn[] = [];
  const errors: { message: string; httpStatus: number | undefined }[] = [];
  return {
    welcomes,
    errors,
    onWelcome: (lsn: Lsn) => welcomes.push(lsn),
    onConnectError: (message: string, httpStatus: number | undefined) => errors.push({ message, httpStatus }),
  };
}

it("reports the Welcome's server LSN before the client sees the frame", async () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => {
    const welcome = create(WelcomeSchema, { serverLsn: 0x1_2345_6789n, heartbeatIntervalMs: 5000 });
    ws.send(encodeServerFrame(create(ServerMessageSchema, { message: { case: 'welcome', value: welcome } })));
    ws.send(new Uint8Array([0xff, 0xff])); // later frames are not decoded
  });
  const url = await listen(http);
  const t = taps();
  const Socket = tappedWebSocket(t);
  const ws = new Socket(url, SYNC_SUBPROTOCOL);
  ws.binaryType = 'arraybuffer';
  const seen = await new Promise<Lsn[]>((resolve) => {
    let messages = 0;
    ws.addEventListener('message', () => {
      if (++messages === 1) expect(t.welcomes).toEqual([0x1_2345_6789n]);
      if (messages === 2) resolve([...t.welcomes]);
    });
  });
  expect(seen).toEqual([0x1_2345_6789n]);
  expect(t.errors).toEqual([]);
  ws.close();
  for (const c of wss.clients) c.terminate();
  wss.close();
});

it('reports why a connection attempt failed, with the HTTP status of a refused upgrade', async () => {
  const url = await listen(
    createServer((_req, res) => {
      res.writeHead(404).end();
    }),
  );
  const t = taps();
  const Socket = tappedWebSocket(t);
  const ws = new Socket(url, SYNC_SUBPROTOCOL);
  await new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
  expect(t.errors).toEqual([{ message: 'Unexpected server response: 404', httpStatus: 404 }]);

  const closed = new Socket('ws://127.0.0.1:9/v1/sync', SYNC_SUBPROTOCOL);
  await new Promise<void>((resolve) => closed.addEventListener('close', () => resolve()));
  expect(t.errors[1]).toMatchObject({
    message: expect.stringContaining('ECONNREFUSED'),
    httpStatus: undefined,
  });
  expect(t.welcomes).toEqual([]);
});
