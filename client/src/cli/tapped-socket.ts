/**
 * The `ws` WebSocket for the sync client, with two taps the CLI needs and `createSyncClient` does not report:
 *
 * - the `Welcome.server_lsn` of each connection — the head of the server's change log when the client
 *   connected. The client turns LIVE when `Progress{caught_up}` *arrives*, while the transactions before it may
 *   still wait in the apply queue; "caught up" for `--until-caught-up` is LIVE *and* the applied LSN at or past
 *   that head, so everything the server had is committed locally.
 * - why a connection attempt failed (`ECONNREFUSED`, `Unexpected server response: 404`), which the client only
 *   sees as "the WebSocket upgrade failed".
 */

import { decodeServerFrame, type Lsn } from '@vibestack/proto';
import WebSocket from 'ws';
import type { WebSocketFactory } from '../sync-client.ts';

/** What the taps report. */
export interface SocketTaps {
  /** A connection got its Welcome. */
  onWelcome(serverLsn: Lsn): void;
  /** A connection attempt failed; `httpStatus` when the server answered the upgrade with another status. */
  onConnectError(message: string, httpStatus: number | undefined): void;
}

/** `ws` reports a refused upgrade with this message (ws/lib/websocket.js, `abortHandshake`). */
const UNEXPECTED_RESPONSE = /^Unexpected server response: (\d{3})/;

function frameOf(data: WebSocket.RawData): ArrayBuffer | Uint8Array {
  return Array.isArray(data) ? Buffer.concat(data) : data;
}

/**
 * A WebSocket constructor for `createSyncClient({ WebSocket })` that reports to `taps`.
 *
 * @example
 * const client = await createSyncClient({ url, db, token, WebSocket: tappedWebSocket({ onWelcome, onConnectError }) });
 */
export function tappedWebSocket(taps: SocketTaps): WebSocketFactory {
  class TappedWebSocket extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols);
      let opened = false;
      this.once('open', () => {
        opened = true;
      });
      // Registered before the client's own listener, so the head is known when the client handles the Welcome.
      this.once('message', (data) => {
        try {
          const message = decodeServerFrame(frameOf(data), Number.MAX_SAFE_INTEGER).message;
          if (message.case === 'welcome') taps.onWelcome(message.value.serverLsn);
        } catch {
          // Not a valid frame: the client reports it (MALFORMED_FRAME).
        }
      });
      this.on('error', (error) => {
        if (opened) return;
        const status = UNEXPECTED_RESPONSE.exec(error.message)?.[1];
        taps.onConnectError(error.message, status === undefined ? undefined : Number(status));
      });
    }
  }
  return TappedWebSocket as unknown as WebSocketFactory;
}
