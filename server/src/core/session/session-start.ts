/**
 * What follows an accepted Hello (docs/protocol.md §4.5–§4.7): the Welcome, and the streams of the chosen mode
 * — a snapshot whose rows end in a handoff, or the change log from the resume point.
 */

import { create } from '@bufbuild/protobuf';
import { type Hello, type Lsn, type ServerMessage, ServerMessageSchema, SyncMode } from '@vibestack/proto';
import type { JwtClaims } from '../auth/index.ts';
import { buildWelcome, initialCredit } from './handshake.ts';
import { LogStream } from './log-stream.ts';
import { Outbox } from './outbox.ts';
import type { ResolvedSessionConfig } from './session-config.ts';
import type { SessionEffect, SessionEvent, SessionState } from './session-types.ts';
import { SnapshotStream } from './snapshot-stream.ts';
import type { StreamContext } from './stream-context.ts';
import type { TableViews } from './table-views.ts';

/** The inputs of a session start. */
export interface StartParams {
  readonly config: ResolvedSessionConfig;
  readonly hello: Hello;
  readonly protocolVersion: number;
  readonly claims: JwtClaims;
  readonly mode: SyncMode;
  readonly floor: Lsn;
  readonly head: Lsn;
  readonly maxFrameBytes: number;
  readonly lastMutationId: bigint;
  readonly views: TableViews;
  readonly emit: (effect: SessionEffect) => void;
  readonly now: () => number;
}

/** The streams of a session past its handshake. */
export interface Streams {
  readonly outbox: Outbox;
  readonly log: LogStream;
  readonly snapshot: SnapshotStream | undefined;
}

/** A started session: its Welcome, state and streams. */
export interface Started extends Streams {
  readonly welcome: ServerMessage;
  readonly state: SessionState;
  /** Starts the streams; call it after sending the Welcome. */
  begin(): void;
}

/** What the streams share with the session (see `StreamContext`). */
export function streamContext(p: {
  readonly config: ResolvedSessionConfig;
  readonly maxFrameBytes: number;
  readonly views: TableViews;
  readonly outbox: Outbox;
  readonly claims: JwtClaims;
  readonly emit: (effect: SessionEffect) => void;
  readonly now: () => number;
}): StreamContext {
  const c = p.config;
  return {
    views: p.views,
    outbox: p.outbox,
    claims: p.claims,
    limits: {
      maxFrameBytes: p.maxFrameBytes,
      maxRowsPerChunk: c.maxRowsPerChunk,
      snapshotReadRows: Math.max(c.snapshotReadRows, c.maxRowsPerChunk),
      maxChangesPerFrame: c.maxChangesPerFrame,
      maxQueuedFrames: c.maxQueuedFrames,
      lowWater: Math.max(1, Math.floor(c.maxQueuedFrames / 2)),
      logReadLimit: c.logReadLimit,
      progressIntervalMs: c.progressIntervalMs,
    },
    emit: p.emit,
    now: p.now,
  };
}

/** Builds the Welcome and the mode's streams. */
export function startSession(p: StartParams): Started {
  const c = p.config;
  const welcome = buildWelcome({
    protocolVersion: p.protocolVersion,
    mode: p.mode,
    clientId: c.clientId,
    userId: p.claims.sub,
    serverLsn: p.head,
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    maxFrameBytes: p.maxFrameBytes,
    schemaVersion: c.schemaVersion,
    lastMutationId: p.lastMutationId,
    maxRowsPerChunk: c.maxRowsPerChunk,
    serverAgent: c.serverAgent,
    nowMs: p.now(),
  });
  const outbox = new Outbox(initialCredit(p.hello));
  const ctx = streamContext({ ...p, outbox });
  const initial = p.mode === SyncMode.INITIAL;
  let snapshot: SnapshotStream | undefined;
  const log = new LogStream(
    ctx,
    // The handoff reached the snapshot's LSN: SnapshotEnd, and the client is LIVE once it is sent.
    {
      endSnapshot: (lsn) =>
        outbox.enqueue({ message: snapshot!.endMessage(), ackable: lsn, entersLive: true }),
    },
    { floor: p.floor, head: p.head },
  );
  if (initial) snapshot = new SnapshotStream(ctx, (h) => log.start(h.afterLsn, { handoff: h }));
  return {
    welcome: create(ServerMessageSchema, { message: { case: 'welcome', value: welcome } }),
    state: initial ? 'SNAPSHOT' : p.mode === SyncMode.CATCH_UP ? 'CATCHING_UP' : 'LIVE',
    outbox,
    log,
    snapshot,
    begin() {
      if (snapshot !== undefined) snapshot.start(p.hello.snapshotResume);
      else log.start(p.hello.resumeLsn, p.mode === SyncMode.CATCH_UP ? 'catch-up' : 'live');
    },
  };
}

/** The events the streams answer. */
export type StreamEvent = Extract<
  SessionEvent,
  { type: 'snapshot-started' | 'snapshot-rows' | 'log-batch' | 'log-head' | 'rows-fetched' }
>;

/**
 * Passes a shell answer to the stream that asked for it.
 * @returns false when no stream waits for it (a stale answer, e.g. after a reconnect in the shell).
 */
export function feedStreams(s: Streams | undefined, ev: StreamEvent): boolean {
  if (s === undefined) return false;
  switch (ev.type) {
    case 'snapshot-started':
      s.snapshot?.onStarted(ev);
      return s.snapshot !== undefined;
    case 'snapshot-rows':
      s.snapshot?.onRows(ev);
      return s.snapshot !== undefined;
    case 'log-batch':
      s.log.onBatch(ev.batch);
      return true;
    case 'log-head':
      s.log.onHead(ev.head, ev.floor);
      return true;
    case 'rows-fetched':
      s.log.onRowsFetched(ev.requestId, ev.rows);
      return true;
  }
}
