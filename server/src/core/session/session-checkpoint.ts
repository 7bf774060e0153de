/**
 * A checkpoint of a quiescent session — LIVE, or still waiting for the Hello: everything needed to continue the connection in a new instance of
 * the shell (a Durable Object that hibernated with its WebSocket open and woke without the session in memory).
 *
 * A session is quiescent when it is LIVE, nothing is queued in the outbox, no log read or row fetch is
 * outstanding, no transaction is half-sent and no Ack persist is in flight: then no frame depends on anything
 * but the small state below. The checkpoint is plain JSON (LSNs and ids as decimal strings), so the shell can
 * store it as text. It holds no catalog: the restorer is given the current one, and a Relation whose encoding
 * changed meanwhile (compared by fingerprint) is sent again, under the relation id the client already knows.
 */

import type { JwtClaims } from '../auth/index.ts';

/** Bump when the shape changes; a checkpoint of another version is not restored. */
export const SESSION_CHECKPOINT_VERSION = 1;

/** The change-log stream's position (see `LogStream`). */
export interface LogCheckpoint {
  /** Everything that concerns the client up to this LSN is sent. */
  readonly cursor: string;
  readonly head: string;
  readonly floor: string;
  readonly lastQueuedLsn: string;
  /** A rate-limited Progress is waiting for `lastProgressAt + progressIntervalMs`. */
  readonly progressDue: boolean;
  /** ms; `null` when no Progress was sent yet. */
  readonly lastProgressAt: number | null;
  readonly nextRequestId: number;
}

/** One table the connection gave a relation id. */
export interface TableCheckpoint {
  readonly relationOid: number;
  readonly relationId: number;
  /** {@link relationFingerprint} of the Relation frame last sent, `null` when none was sent. */
  readonly sent: string | null;
}

/** The connection's relation ids (see `TableViews`). */
export interface RelationsCheckpoint {
  readonly nextRelationId: number;
  readonly tables: readonly TableCheckpoint[];
}

/** A quiescent session, JSON-serialisable. */
export type SessionCheckpoint = HelloCheckpoint | LiveCheckpoint;

/** A session that waits for the Hello (its 10 s timer running). */
export interface HelloCheckpoint {
  readonly version: typeof SESSION_CHECKPOINT_VERSION;
  readonly state: 'AWAIT_HELLO';
  readonly clientId: string;
  /** When the socket opened (ms): the Hello timeout runs from here. */
  readonly openedAt: number;
  readonly timerAt: number;
}

/** A quiescent LIVE session. */
export interface LiveCheckpoint {
  readonly version: typeof SESSION_CHECKPOINT_VERSION;
  readonly state: 'LIVE';
  readonly clientId: string;
  readonly claims: JwtClaims;
  /** The negotiated `max_frame_bytes`. */
  readonly frameLimit: number;
  /** The timer the shell has set (ms), `null` for none. */
  readonly timerAt: number | null;
  readonly lastSentAt: number;
  readonly lastReceivedAt: number;
  readonly pingNonce: string;
  /** Token expiry plus leeway (ms), `null` when the token has no `exp`. */
  readonly expiresAt: number | null;
  /** The largest LSN the client may Ack, and the last Ack persisted. */
  readonly acks: { readonly maxAckable: string; readonly last: string };
  readonly lastMutationId: string;
  /** Outstanding credit, in data frames. */
  readonly credit: number;
  readonly log: LogCheckpoint;
  readonly relations: RelationsCheckpoint;
}

/**
 * A 64-bit FNV-1a hash of an encoded Relation frame, as 16 hex digits: whether the client already has this
 * exact Relation.
 */
export function relationFingerprint(bytes: Uint8Array): string {
  // Two 32-bit halves (Math.imul) instead of BigInt arithmetic: this runs for every Relation built.
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (const b of bytes) {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b, 0x5bd1e995) >>> 0;
  }
  return `${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

/**
 * Checks that a stored value is a checkpoint of this version (e.g. after `JSON.parse`).
 * @returns the checkpoint, or `undefined` when it is of another version or malformed.
 */
export function parseSessionCheckpoint(value: unknown): SessionCheckpoint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const h = value as Partial<HelloCheckpoint>;
  if (h.version === SESSION_CHECKPOINT_VERSION && h.state === 'AWAIT_HELLO') {
    const ok =
      typeof h.clientId === 'string' && typeof h.openedAt === 'number' && typeof h.timerAt === 'number';
    return ok ? (h as HelloCheckpoint) : undefined;
  }
  const c = value as Partial<LiveCheckpoint>;
  const ok =
    c.version === SESSION_CHECKPOINT_VERSION &&
    c.state === 'LIVE' &&
    typeof c.clientId === 'string' &&
    typeof c.claims?.sub === 'string' &&
    typeof c.frameLimit === 'number' &&
    typeof c.credit === 'number' &&
    typeof c.log?.cursor === 'string' &&
    Array.isArray(c.relations?.tables);
  return ok ? (c as LiveCheckpoint) : undefined;
}
