/**
 * What the reference server saw on one connection of a case: the client's Hello and acknowledgements, what the
 * server delivered, and how the connection ended. The runner checks cases against these records.
 */

import type { ErrorCode, Hello, Lsn } from '@vibestack/proto';

/** How a connection ended. */
export interface ConnectionEnd {
  /**
   * The close code: the server's own when it closed first (1006 for a `drop`), else the client's (1006 when the
   * TCP connection ended without a close frame).
   */
  readonly code: number;
  readonly reason: string;
  /** The client closed it (sent the first close frame or ended the TCP connection). */
  readonly byClient: boolean;
  /** When it closed, ms since 1970. */
  readonly at: number;
}

/** One connection the client opened. */
export interface ConnectionRecord {
  /** 1-based, in the order the client opened them. */
  readonly index: number;
  readonly clientId: string;
  readonly openedAt: number;
  /** The client's Hello, once it arrived. */
  hello: Hello | undefined;
  /** Frames the server wrote, and when it wrote the last one. */
  framesSent: number;
  lastServerFrameAt: number;
  /** Every LSN the client may acknowledge or resume from that the server delivered (commits, SnapshotEnd, Progress). */
  readonly delivered: Set<Lsn>;
  /** The largest of {@link delivered}. */
  maxDelivered: Lsn;
  /** The largest LSN the client acknowledged. */
  maxAck: Lsn;
  /** The fatal `Error` the client sent, if any. */
  clientError: ErrorCode | undefined;
  /** The fatal error the server core raised (its `Error` frame), if any. */
  serverError: ErrorCode | undefined;
  /** The server closed (or dropped) the connection first, with this code (1006 for a drop). */
  closedByServer: boolean;
  serverCloseCode: number | undefined;
  end: ConnectionEnd | undefined;
}

/** A new record. */
export function newConnectionRecord(index: number, clientId: string, now: number): ConnectionRecord {
  return {
    index,
    clientId,
    openedAt: now,
    hello: undefined,
    framesSent: 0,
    lastServerFrameAt: now,
    delivered: new Set(),
    maxDelivered: 0n,
    maxAck: 0n,
    clientError: undefined,
    serverError: undefined,
    closedByServer: false,
    serverCloseCode: undefined,
    end: undefined,
  };
}
