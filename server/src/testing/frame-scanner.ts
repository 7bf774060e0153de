/**
 * A sync client for volume tests and benchmarks: it reads only the envelope of each server frame and the header
 * fields of Transaction and SnapshotChunk frames, counting changes and rows without materialising them, so the
 * client's own decoding does not limit (or inflate the memory of) what is measured. It grants one credit per data
 * frame, answers pings, and acks each transaction's last frame.
 */
import { create } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  ClientMessageSchema,
  encodeClientFrame,
  PROTOCOL_VERSION,
  SYNC_PATH,
  SYNC_SUBPROTOCOL,
} from '@vibestack/proto';
import WebSocket from 'ws';

/** ServerMessage field numbers (proto/vibestack/sync/v1/envelope.proto). */
const FIELD = { snapshotChunk: 4, snapshotEnd: 5, transaction: 6, ping: 8 } as const;
/** Data frames (they consume credit): relation … progress. */
const DATA_FIELDS = new Set([2, 3, 4, 5, 6, 7]);

/** What a scanner keeps of one Transaction frame. */
export interface ScannedTransaction {
  readonly commitLsn: bigint;
  readonly frameIndex: number;
  readonly hasMore: boolean;
  /** Number of changes in the frame. */
  readonly changes: number;
}

interface Scan {
  readonly field: number;
  readonly tx?: ScannedTransaction;
  readonly chunkRows?: number;
  readonly pingNonce?: bigint;
}

/** Reads the envelope and, for the frames the scanner cares about, their header fields. */
export function scanServerFrame(bytes: Uint8Array): Scan {
  const outer = new BinaryReader(bytes);
  const [field, wire] = outer.tag();
  if (wire !== WireType.LengthDelimited) return { field };
  const r = new BinaryReader(outer.bytes());
  if (field === FIELD.ping) {
    let pingNonce = 0n;
    while (r.pos < r.len) {
      const [f, w] = r.tag();
      if (f === 1) pingNonce = BigInt(r.uint64());
      else r.skip(w);
    }
    return { field, pingNonce };
  }
  if (field === FIELD.snapshotChunk) {
    let chunkRows = 0;
    while (r.pos < r.len) {
      const [f, w] = r.tag();
      if (f === 2) chunkRows++;
      r.skip(w);
    }
    return { field, chunkRows };
  }
  if (field !== FIELD.transaction) return { field };
  let commitLsn = 0n;
  let frameIndex = 0;
  let hasMore = false;
  let changes = 0;
  while (r.pos < r.len) {
    const [f, w] = r.tag();
    if (f === 1) commitLsn = BigInt(r.uint64());
    else if (f === 4) frameIndex = r.uint32();
    else if (f === 5) hasMore = r.bool();
    else {
      if (f === 6) changes++;
      r.skip(w);
    }
  }
  return { field, tx: { commitLsn, frameIndex, hasMore, changes } };
}

/** A connected scanner. */
export interface FrameScanner {
  readonly ws: WebSocket;
  /** Every Transaction frame received, in order. */
  readonly transactions: ScannedTransaction[];
  /** Snapshot rows received so far. */
  snapshotRows(): number;
  /** Resolves at SnapshotEnd (acked). */
  readonly snapshotEnd: Promise<void>;
  /** Resolves when a Transaction frame satisfies `until`; rejects if the socket closes or a frame is unreadable. */
  next(until: (tx: ScannedTransaction) => boolean): Promise<void>;
  close(): void;
}

/** Connects to `baseUrl` (http) as `clientId` and says Hello (initial sync). */
export async function connectFrameScanner(
  baseUrl: string,
  options: { clientId: string; token: string; initialCredit?: number },
): Promise<FrameScanner> {
  const url = `${baseUrl.replace(/^http/, 'ws')}${SYNC_PATH}?client_id=${encodeURIComponent(options.clientId)}`;
  const ws = new WebSocket(url, SYNC_SUBPROTOCOL);
  const send = (message: Parameters<typeof create<typeof ClientMessageSchema>>[1]) =>
    ws.send(encodeClientFrame(create(ClientMessageSchema, message)));
  const transactions: ScannedTransaction[] = [];
  let rows = 0;
  let waiter:
    | { until: (t: ScannedTransaction) => boolean; resolve(): void; reject(e: unknown): void }
    | undefined;
  let ended: (() => void) | undefined;
  let failed: ((e: unknown) => void) | undefined;
  const snapshotEnd = new Promise<void>((resolve, reject) => {
    ended = resolve;
    failed = reject;
  });
  ws.on('message', (data: Buffer) => {
    let scan: Scan;
    try {
      scan = scanServerFrame(new Uint8Array(data));
    } catch (error) {
      waiter?.reject(error);
      failed?.(error);
      return;
    }
    if (scan.pingNonce !== undefined) send({ message: { case: 'pong', value: { nonce: scan.pingNonce } } });
    if (DATA_FIELDS.has(scan.field)) send({ message: { case: 'credit', value: { frames: 1 } } });
    if (scan.chunkRows !== undefined) rows += scan.chunkRows;
    if (scan.field === FIELD.snapshotEnd) ended?.();
    const tx = scan.tx;
    if (tx === undefined) return;
    transactions.push(tx);
    if (!tx.hasMore) send({ message: { case: 'ack', value: { lsn: tx.commitLsn } } });
    if (waiter?.until(tx)) waiter.resolve();
  });
  ws.on('close', (code) => {
    const error = new Error(`socket closed with ${code}`);
    waiter?.reject(error);
    failed?.(error);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  send({
    message: {
      case: 'hello',
      value: {
        protocolVersions: [PROTOCOL_VERSION],
        authToken: options.token,
        clientId: options.clientId,
        initialCredit: options.initialCredit ?? 4096,
      },
    },
  });
  return {
    ws,
    transactions,
    snapshotRows: () => rows,
    snapshotEnd,
    next: (until) =>
      new Promise<void>((resolve, reject) => {
        waiter = { until, resolve, reject };
      }),
    close: () => ws.close(1000),
  };
}
