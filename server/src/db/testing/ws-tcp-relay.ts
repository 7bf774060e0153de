/**
 * Test-only WebSocket→TCP relay, the local stand-in for Neon's WebSocket proxy: each WebSocket connection opens
 * one TCP connection to the Postgres named in `?address=host:port` and passes bytes through unchanged in both
 * directions. Only loopback targets are allowed. Node only (tests); Worker code never imports it.
 */

import { once } from 'node:events';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** A running relay. */
export interface WsTcpRelay {
  /** The listening port on 127.0.0.1. */
  readonly port: number;
  /** The value for `neonConfig.wsProxy` (`127.0.0.1:<port>/v2`; the driver appends `?address=`). */
  readonly wsProxy: string;
  /** Connections relayed so far. */
  connections(): number;
  /** Closes the server and every relayed connection. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Above this many bytes queued on the WebSocket, reading from Postgres pauses. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** WebSocket close codes (RFC 6455): 1008 policy violation (bad target), 1011 internal error. */
const CLOSE_POLICY = 1008;
const CLOSE_ERROR = 1011;

function parseTarget(url: string | undefined): { host: string; port: number } | null {
  const address = new URL(url ?? '/', 'ws://relay').searchParams.get('address');
  const m = address ? /^(.+):(\d{1,5})$/.exec(address) : null;
  if (!m || !LOOPBACK_HOSTS.has(m[1]!)) return null;
  const port = Number(m[2]);
  return port > 0 && port < 65_536 ? { host: m[1]!.replace(/^\[|\]$/g, ''), port } : null;
}

function relay(ws: WebSocket, socket: Socket): void {
  let closed = false;
  const closeBoth = (code: number): void => {
    if (closed) return;
    closed = true;
    socket.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code);
    else ws.terminate();
  };
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    if (closed) return;
    if (Array.isArray(data)) for (const part of data) socket.write(part);
    else socket.write(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  });
  socket.on('data', (chunk: Buffer) => {
    if (closed) return;
    ws.send(chunk, { binary: true }, () => {
      if (socket.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) socket.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER_BYTES) socket.pause();
  });
  socket.on('end', () => closeBoth(1000));
  socket.on('error', () => closeBoth(CLOSE_ERROR));
  socket.on('close', () => closeBoth(1000));
  ws.on('close', () => closeBoth(1000));
  ws.on('error', () => closeBoth(CLOSE_ERROR));
}

/**
 * Starts a relay on 127.0.0.1 (random free port unless `port` is given).
 *
 * @example
 * const relay = await startWsTcpRelay();
 * const client = await openSqlClient(url, 'neon', { neon: { wsProxy: relay.wsProxy, useSecureWebSocket: false,
 *   pipelineTLS: false, pipelineConnect: false, webSocketConstructor: WebSocket } });
 */
export async function startWsTcpRelay(options: { port?: number } = {}): Promise<WsTcpRelay> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    perMessageDeflate: false,
  });
  await once(server, 'listening');
  let count = 0;
  server.on('connection', (ws, request) => {
    const target = parseTarget(request.url);
    if (!target) {
      ws.close(CLOSE_POLICY, 'address must be a loopback host:port');
      return;
    }
    count++;
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    relay(ws, socket);
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    wsProxy: `127.0.0.1:${port}/v2`,
    connections: () => count,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
