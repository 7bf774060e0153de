/**
 * A protocol-level test client (Node): speaks `vibestack.sync.v1` over a real WebSocket, records every frame,
 * grants credit as it reads, and lets tests wait for frames. Optionally it acknowledges what it receives (as a
 * client that applies each frame on arrival must, §8.7) and answers pings (§11). Used by the real-workerd tests
 * and the benchmarks.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  ClientMessageSchema,
  decodeServerFrame,
  encodeClientFrame,
  type Lsn,
  MAX_MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ServerMessage,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
} from '@vibestack/proto';
import WebSocket from 'ws';

/** Options of {@link connectProtocolClient}. */
export interface ProtocolClientOptions {
  readonly clientId: string;
  readonly token: string;
  readonly resumeLsn?: Lsn;
  readonly protocolVersions?: readonly number[];
  /** Initial credit; the client grants one more credit per data frame it receives (unless `manualCredit`). */
  readonly initialCredit?: number;
  readonly manualCredit?: boolean;
  /** Send Hello right after the socket opens (default true). */
  readonly sendHello?: boolean;
  /**
   * Ack every LSN the client may count as applied once the frame is recorded (default false): the commit LSN of
   * each transaction's last frame, `SnapshotEnd.lsn` and `Progress.lsn` — never during a snapshot, never
   * backwards. For tests that treat a recorded frame as applied (the replica is built from `frames`).
   */
  readonly autoAck?: boolean;
  /** Answer every server `Ping` with a `Pong` of the same nonce (default false: the client stays silent). */
  readonly answerPings?: boolean;
}

/** A frame with the time it arrived (performance.now()). */
export interface ReceivedFrame {
  readonly message: ServerMessage;
  readonly at: number;
}

type ClientMessageInit = NonNullable<MessageInitShape<typeof ClientMessageSchema>['message']>;

const DATA_CASES = new Set([
  'relation',
  'snapshotBegin',
  'snapshotChunk',
  'snapshotEnd',
  'transaction',
  'progress',
]);

/** A connected test client. */
export interface ProtocolClient {
  readonly frames: ReceivedFrame[];
  send(message: ClientMessageInit): void;
  sendRaw(data: Uint8Array | string): void;
  ack(lsn: Lsn): void;
  /** The largest LSN this client acknowledged (by `ack` or `autoAck`), 0 if none. */
  ackedLsn(): Lsn;
  /** Resolves with the first frame (from `from` on) matching `predicate`. */
  waitFor(
    predicate: (m: ServerMessage) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<ServerMessage>;
  /** Resolves when the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
  /** Drops the connection without a close handshake (a client that vanished). */
  terminate(): void;
}

/** Opens `ws(s)://host/v1/sync?client_id=…` on `baseUrl` (an http URL) and says Hello. */
export async function connectProtocolClient(
  baseUrl: string,
  options: ProtocolClientOptions,
): Promise<ProtocolClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}${SYNC_PATH}?client_id=${encodeURIComponent(options.clientId)}`;
  const ws = new WebSocket(url, SYNC_SUBPROTOCOL);
  ws.binaryType = 'nodebuffer';
  const frames: ReceivedFrame[] = [];
  const waiters = new Set<() => void>();
  const send = (message: ClientMessageInit) =>
    ws.send(encodeClientFrame(create(ClientMessageSchema, { message })));
  let acked: Lsn = 0n;
  const ack = (lsn: Lsn) => {
    if (lsn > acked) acked = lsn;
    send({ case: 'ack', value: { lsn } });
  };
  let inSnapshot = false;
  const autoAck = (message: ServerMessage) => {
    const m = message.message;
    if (m.case === 'snapshotBegin') inSnapshot = true;
    else if (m.case === 'snapshotEnd') {
      inSnapshot = false;
      if (m.value.lsn > acked) ack(m.value.lsn);
    } else if (inSnapshot)
      return; // Ack before SnapshotEnd is a protocol violation (§6).
    else if (m.case === 'transaction' && !m.value.hasMore && m.value.commitLsn > acked)
      ack(m.value.commitLsn);
    else if (m.case === 'progress' && m.value.lsn > acked) ack(m.value.lsn);
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of waiters) w();
    });
  });
  ws.on('message', (data: Buffer) => {
    const message = decodeServerFrame(new Uint8Array(data), MAX_MAX_FRAME_BYTES);
    frames.push({ message, at: performance.now() });
    if (options.answerPings && message.message.case === 'ping') {
      send({ case: 'pong', value: { nonce: message.message.value.nonce } });
    }
    if (!options.manualCredit && message.message.case && DATA_CASES.has(message.message.case)) {
      send({ case: 'credit', value: { frames: 1 } });
    }
    if (options.autoAck) autoAck(message);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (options.sendHello !== false) {
    send({
      case: 'hello',
      value: {
        protocolVersions: [...(options.protocolVersions ?? [PROTOCOL_VERSION])],
        authToken: options.token,
        clientId: options.clientId,
        resumeLsn: options.resumeLsn ?? 0n,
        initialCredit: options.initialCredit ?? 256,
        clientAgent: 'vibestack-test/0.1.0',
      },
    });
  }
  return {
    frames,
    send,
    sendRaw: (data) => ws.send(data),
    ack,
    ackedLsn: () => acked,
    closed,
    close: () => ws.close(1000),
    terminate: () => ws.terminate(),
    waitFor(predicate, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (let i = from; i < frames.length; i++) {
            if (predicate(frames[i]!.message)) {
              cleanup();
              resolve(frames[i]!.message);
              return;
            }
          }
          if (ws.readyState === WebSocket.CLOSED) {
            cleanup();
            const errors = frames
              .filter((f) => f.message.message.case === 'error')
              .map((f) => f.message.message.value);
            reject(
              new Error(
                `socket closed while waiting; frames: ${frames.map((f) => f.message.message.case).join(',')}; errors: ${JSON.stringify(errors, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms; received: ${frames.map((f) => f.message.message.case).join(',')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
