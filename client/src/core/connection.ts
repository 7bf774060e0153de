/** What the client session keeps about one WebSocket connection, from Hello to its end. */

import { type Lsn, SyncMode, type Welcome } from '@vibestack/proto';
import type { HelloFields } from './client-frames.ts';
import type { SnapshotPosition } from './client-types.ts';
import { CreditWindow } from './credit-window.ts';
import { StreamReader, type StreamSink } from './stream-reader.ts';

/** One connection. */
export class Connection {
  readonly id: number;
  /** The Hello sent on it: its token is the one refused on UNAUTHENTICATED, its offer what Welcome must fit. */
  readonly hello: HelloFields;
  /** When Hello was sent (ms). */
  readonly helloAt: number;
  readonly credit: CreditWindow;
  readonly resumeLsn: Lsn;
  /** The snapshot position presented in Hello (only with `resume_lsn` = 0). */
  readonly presented: SnapshotPosition | undefined;
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

  constructor(id: number, now: number, hello: HelloFields, initialCredit: number) {
    this.id = id;
    this.hello = hello;
    this.resumeLsn = hello.resumeLsn;
    this.presented = hello.resumeLsn === 0n ? hello.snapshot : undefined;
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
