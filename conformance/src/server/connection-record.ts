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
  /** When its upgrade request arrived, ms since 1970 (the server's clock). */
  readonly openedAt: number;
  /** The upgrade selected the subprotocol `vibestack.sync.v1` (false: the client must send nothing on it). */
  readonly subprotocol: boolean;
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
  /** The fatal `Error` the server sent before it closed the connection (the core's or a scripted `close`), if any. */
  serverError: ErrorCode | undefined;
  /** That `Error`'s `retry_after_ms` (0 = none). */
  serverRetryAfterMs: number;
  /** The server closed (or dropped) the connection first, with this code (1006 for a drop). */
  closedByServer: boolean;
  serverCloseCode: number | undefined;
  /** When the server closed or dropped it, ms since 1970, if it did so first. */
  serverClosedAt: number | undefined;
  end: ConnectionEnd | undefined;
}

/** A new record. */
export function newConnectionRecord(
  index: number,
  clientId: string,
  openedAt: number,
  subprotocol = true,
): ConnectionRecord {
  return {
    index,
    clientId,
    openedAt,
    subprotocol,
    hello: undefined,
    framesSent: 0,
    lastServerFrameAt: openedAt,
    delivered: new Set(),
    maxDelivered: 0n,
    maxAck: 0n,
    clientError: undefined,
    serverError: undefined,
    serverRetryAfterMs: 0,
    closedByServer: false,
    serverCloseCode: undefined,
    serverClosedAt: undefined,
    end: undefined,
  };
}
