/** What the client session keeps about one WebSocket connection, from Hello to its end. */

import { type Lsn, SyncMode, type Welcome } from '@vibestack/proto';
import type { SnapshotPosition } from './client-types.ts';
import { CreditWindow } from './credit-window.ts';
import { StreamReader, type StreamSink } from './stream-reader.ts';

/** One connection. */
export class Connection {
  readonly id: number;
  /** When Hello was sent (ms). */
  readonly helloAt: number;
  readonly credit: CreditWindow;
  resumeLsn: Lsn = 0n;
  presented: SnapshotPosition | undefined;
  /** Set by Welcome. */
  welcomeAt: number | undefined;
  frameLimit: number | undefined;
  intervalMs = 0;
  reader: StreamReader | undefined;
  lastSentAt: number;
  lastReceivedAt: number;
  lastAck: Lsn = 0n;
  pingNonce = 0n;
  /** Bytes of all frames received on this connection (snapshot progress). */
  receivedBytes = 0;

  constructor(id: number, now: number, initialCredit: number) {
    this.id = id;
    this.helloAt = now;
    this.lastSentAt = now;
    this.lastReceivedAt = now;
    this.credit = new CreditWindow(initialCredit);
  }

  /** A valid Welcome arrived: negotiated limits, heartbeats start, the data-frame reader for its mode. */
  welcomed(w: Welcome, now: number, sink: StreamSink): void {
    this.welcomeAt = now;
    this.frameLimit = w.maxFrameBytes;
    this.intervalMs = w.heartbeatIntervalMs;
    this.lastSentAt = now;
    this.lastReceivedAt = now;
    this.lastAck = this.resumeLsn;
    this.reader = new StreamReader(
      w.mode === SyncMode.INITIAL
        ? { mode: 'initial', presented: this.presented, maxRows: w.maxRowsPerChunk }
        : { mode: 'resume', resumeLsn: this.resumeLsn },
      sink,
    );
  }
}
